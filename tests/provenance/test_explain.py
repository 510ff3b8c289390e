"""`gitops-gen explain` on the example fleet: the files and lines that set a field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import ROOT, example_fleet_repo


def explain(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["explain", "--repo", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def chain(repo: Path, cluster: str, obj: str, field: str) -> list[tuple[str, int, str]]:
    code, out, err = explain(repo, "--cluster", cluster, "--format", "json", obj, field)
    assert code == 0, err
    return [(s["file"], s["line"], s["status"]) for s in json.loads(out)["setters"]]


def test_replicas_transformer_wins_over_base() -> None:
    assert chain(ROOT, "zone-1-prod", "Deployment/private-detector", "spec.replicas") == [
        ("apps/private-detector/env/prod/kustomization.yaml", 6, "wins"),
        ("apps/private-detector/base/deployment.yaml", 6, "overridden"),
    ]


def test_image_from_company_images_transformer() -> None:
    assert chain(
        ROOT,
        "zone-1-prod",
        "Deployment/private-detector",
        "spec.template.spec.containers[name=detector].image",
    )[0] == ("apps/private-detector/company/bumble/kustomization.yaml", 6, "wins")


def test_node_selector_from_zone_patch_unquoted_label_key() -> None:
    field = "spec.template.spec.nodeSelector.nvidia.com/gpu.product"
    assert chain(ROOT, "zone-1-prod", "Deployment/private-detector", field) == [
        ("apps/private-detector/zone/zone-1/gpu-node.yaml", 9, "wins"),
    ]


def test_text_output_marks_winner_and_overridden() -> None:
    code, out, _ = explain(ROOT, "--cluster", "zone-1-prod", "Deployment/private-detector", "spec.replicas")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Deployment/private-detector spec.replicas = 10   (cluster zone-1-prod)"
    assert (
        "apps/private-detector/env/prod/kustomization.yaml:6" in lines[1]
        and "<- wins (layer env=prod)" in lines[1]
    )
    assert "apps/private-detector/base/deployment.yaml:6" in lines[2] and "replicas: 3" in lines[2]
    assert "(overridden)" in lines[2]


def test_env_patch_then_base(tmp_path: Path) -> None:
    """Replicas set by a strategic-merge patch in the env layer, the base line shown as overridden."""
    repo = example_fleet_repo(tmp_path / "fleet")
    comp = repo / "apps/private-detector/env/prod"
    (comp / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: replicas_gpu_patch.yaml\n"
    )
    (comp / "replicas_gpu_patch.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: private-detector\nspec:\n  replicas: 10\n"
    )
    assert chain(repo, "zone-1-prod", "Deployment/private-detector", "spec.replicas") == [
        ("apps/private-detector/env/prod/replicas_gpu_patch.yaml", 6, "wins"),
        ("apps/private-detector/base/deployment.yaml", 6, "overridden"),
    ]


def test_map_field_shows_each_entry() -> None:
    code, out, _ = explain(
        ROOT,
        "--cluster",
        "zone-1-dev",
        "--format",
        "json",
        "Deployment/private-detector",
        "spec.template.spec.containers[name=detector].resources.limits",
    )
    assert code == 0
    fields = {s["field"]: s["file"] for s in json.loads(out)["setters"] if s["status"] == "wins"}
    mig = 'spec.template.spec.containers[name=detector].resources.limits."nvidia.com/mig-1g.5gb"'
    assert fields[mig] == "apps/private-detector/env/dev/mig-slice.yaml"


def test_unknown_object_cluster_and_field_are_usage_errors_with_one_line() -> None:
    for args, fragment in [
        (["--cluster", "zone-1-prod", "Deployment/nope", "spec.replicas"], "nearby: Deployment/"),
        (
            ["--cluster", "no-such", "Deployment/private-detector", "spec.replicas"],
            "unknown cluster 'no-such'",
        ),
        (
            ["--cluster", "zone-1-prod", "Deployment/private-detector", "spec.replicaz"],
            "fields at spec: replicas",
        ),
    ]:
        code, out, err = explain(ROOT, *args)
        assert code == 2, (args, out)
        assert err.count("\n") == 1 and fragment in err, err


def test_helm_release_gpu_limit_names_its_values_key_line() -> None:
    pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")
    field = "spec.template.spec.containers[name=server].resources.limits.nvidia.com/gpu"
    assert chain(ROOT, "zone-1-prod", "Deployment/llm-server", field) == [
        ("apps/llm-server/chart/values.yaml", 9, "wins"),  # gpu.count: 1, the chart's default
        ("apps/llm-server/chart/values.yaml", 8, "key"),  # gpu.resource names the limit
    ]
    code, out, _ = explain(ROOT, "--cluster", "zone-1-prod", "Deployment/llm-server", field)
    assert code == 0 and "count: 1   [chart default gpu.count]" in out.splitlines()[1]


def test_helm_release_replicas_through_the_layers_patching_its_values() -> None:
    pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")
    assert chain(ROOT, "zone-1-prod", "Deployment/llm-server", "spec.replicas") == [
        ("apps/llm-server/env/prod/kustomization.yaml", 13, "wins"),
        ("apps/llm-server/base/helmrelease.yaml", 17, "overridden"),
        ("apps/llm-server/chart/values.yaml", 2, "overridden"),
    ]
