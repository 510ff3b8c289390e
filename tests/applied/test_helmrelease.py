"""Flux HelmReleases in the applied view: charts from the fleet repository or a mapped vendored
directory are expanded with valuesFrom and values (after post-build substitution); others warn."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.applied import view
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree

pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")

DATA = Path(__file__).parents[1] / "data"
FLEET = DATA / "applied" / "helmrelease" / "fleet"
CHART = DATA / "helm" / "charts" / "infer"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(FLEET, root)
    shutil.copytree(CHART, root / "charts" / "infer")
    shutil.copytree(CHART, root / "vendor" / "stable" / "infer-0.3.0" / "infer")
    return root


def applied(repo: Path) -> view.Applied:
    tree = DiskTree(repo)
    return view.applied_view(tree, Engine(tree, warnings=False), "c")


def named(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}": o for o in objs}


def test_releases_expand_with_values_from_and_substituted_values(repo: Path) -> None:
    result = applied(repo)
    objs = named(result.objects)
    dep = objs["Deployment/serving/serving-llm-infer"]["spec"]  # release <targetNamespace>-<name>
    pod = dep["template"]["spec"]
    assert dep["replicas"] == 2  # from valuesFrom
    assert pod["containers"][0]["args"] == ["--model=llama-3-8b"]
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 2}  # ${gpu_count} substituted
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert (
        objs["ConfigMap/serving/serving-llm-infer"]["data"]["KUBE_VERSION"] == "v1.29.0"
    )  # cluster's version
    assert "CustomResourceDefinition//models.infer.example.com" in objs  # install.crds defaults to Create
    assert "Pod/serving/serving-llm-infer-test" not in objs  # test hooks are not installed
    # The vendored HelmRepository chart: released into the HelmRelease's own namespace, CRDs skipped.
    assert "Deployment/flux-system/vision-infer" in objs and "Service/flux-system/vision-metrics" not in objs
    assert sum(1 for k in objs if k.startswith("CustomResourceDefinition/")) == 1
    assert "HelmRelease/flux-system/gpu-operator" in objs  # kept, and said
    assert [n.format() for n in result.notes] == [
        "apps/llm/releases.yaml:40:1: warning: [helmrelease-not-expanded] not expanded: HelmRelease/gpu-operator "
        "(chart source HelmRepository/flux-system/elsewhere https://charts.example.org/other: not mapped to a "
        "vendored directory in gitops-gen.yaml helm.repositories)"
    ]


def test_chart_missing_from_the_mapped_directory(repo: Path) -> None:
    shutil.rmtree(repo / "vendor")
    notes = [n.message for n in applied(repo).notes]
    assert len(notes) == 2 and notes[1] == (
        "not expanded: HelmRelease/vision (chart source HelmRepository/flux-system/stable "
        "https://charts.example.com/stable: chart 'infer' is not vendored under vendor/stable/ (run "
        "`helm pull infer --repo https://charts.example.com/stable --version 0.3.0 --untar "
        "--untardir vendor/stable`))"
    )


def test_git_source_that_is_not_the_fleet_repository(repo: Path) -> None:
    releases = repo / "apps/llm/releases.yaml"
    releases.write_text(
        releases.read_text().replace(
            "sourceRef: {kind: GitRepository, name: flux-system}",
            "sourceRef: {kind: GitRepository, name: upstream}",
        )
    )
    notes = [n.message for n in applied(repo).notes]
    assert len(notes) == 2 and notes[1] == (
        "not expanded: HelmRelease/llm (chart source GitRepository/flux-system/upstream: not the "
        "fleet repository this cluster syncs from)"
    )
