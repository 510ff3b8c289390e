"""The applied view on tests/data/applied/view/fleet: the sync object's transforms and post-build.

The kustomize part is checked against kubectl: flux-a.kustomization.yaml is the mapping as Flux's
generator rewrites it (targetNamespace, namePrefix, patches, components, images), and the applied
view before substitution must equal `kubectl kustomize` of that file. Substitution, commonMetadata
and Argo CD's namespace are then checked value by value.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gitops_gen.applied import view
from gitops_gen.applied.postbuild import substitute
from gitops_gen.cli import main
from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree
from tests.conftest import kubectl_kustomize, requires_kubectl

FLEET = Path(__file__).parents[1] / "data" / "applied" / "view" / "fleet"


def copy_fleet(tmp_path: Path) -> Path:
    repo = tmp_path / "fleet"
    shutil.copytree(FLEET, repo)
    return repo


def build(repo: Path, cluster: str) -> view.Applied:
    tree = DiskTree(repo)
    return view.applied_view(tree, Engine(tree, warnings=False), cluster)


def by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs}


def test_flux_edit_matches_the_generator() -> None:
    tree = DiskTree(FLEET)
    sync = view.find_sync(tree, "flux-a")
    assert sync is not None and sync.engine == "flux"
    mapping = yaml.safe_load((FLEET / "mapping/flux-a/kustomization.yaml").read_text())
    want = yaml.safe_load((FLEET / "flux-a.kustomization.yaml").read_text())
    assert view.edited_kustomization(mapping, sync.obj["spec"]) == want


@requires_kubectl
def test_flux_transforms_equal_kubectl_of_the_edited_kustomization(tmp_path: Path) -> None:
    repo = copy_fleet(tmp_path)
    expected_kust = repo / "mapping/flux-a/kustomization.yaml"
    want_objs = None
    shutil.copyfile(repo / "flux-a.kustomization.yaml", expected_kust)
    proc = kubectl_kustomize(repo / "mapping/flux-a")
    assert proc.returncode == 0, proc.stderr
    want_objs = list(yaml.safe_load_all(proc.stdout))
    shutil.copyfile(FLEET / "mapping/flux-a/kustomization.yaml", expected_kust)
    sync = view.find_sync(DiskTree(repo), "flux-a")
    assert sync is not None
    del sync.obj["spec"]["postBuild"], sync.obj["spec"]["commonMetadata"]
    (repo / "clusters/flux-a/sync.yaml").write_text(yaml.safe_dump(sync.obj))
    assert build(repo, "flux-a").objects == want_objs


@requires_kubectl
def test_flux_post_build_and_common_metadata(tmp_path: Path) -> None:
    repo = copy_fleet(tmp_path)
    shutil.copyfile(repo / "flux-a.kustomization.yaml", repo / "mapping/flux-a/kustomization.yaml")
    proc = kubectl_kustomize(repo / "mapping/flux-a")
    assert proc.returncode == 0, proc.stderr
    plain = list(yaml.safe_load_all(proc.stdout))
    shutil.copyfile(FLEET / "mapping/flux-a/kustomization.yaml", repo / "mapping/flux-a/kustomization.yaml")
    result = build(repo, "flux-a")
    values = {
        "cluster_name": "flux-a",
        "zone": "zone-1",
        "replicas": "3",
        "gpu_model": "NVIDIA-H100-80GB-HBM3",
    }
    substituted = substitute(plain, values, strict=False).objects
    for obj in substituted:
        obj["metadata"].setdefault("labels", {})["team"] = "ml"
        obj["metadata"].setdefault("annotations", {})["owner"] = "platform"
    assert result.objects == substituted
    got = by_kind(result.objects)
    dep = got["Deployment"]
    assert dep["metadata"]["name"] == "a-web" and dep["metadata"]["namespace"] == "serving"
    assert dep["spec"]["replicas"] == 3
    pod = dep["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"topology.kubernetes.io/zone": "zone-1"}
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env == {"CLUSTER": "flux-a", "LITERAL": "${not_a_var}", "GPU_MODEL": "NVIDIA-H100-80GB-HBM3"}
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert pod["containers"][0]["image"] == "registry.example.com/web:2.0"
    assert got["Service"]["metadata"]["annotations"]["note"] == "${kept}"  # substitution disabled
    assert result.notes == []


def test_unset_variable_is_a_warning_at_its_line(tmp_path: Path) -> None:
    repo = copy_fleet(tmp_path)
    (repo / "clusters/flux-a/vars.yaml").unlink()
    sync = repo / "clusters/flux-a/sync.yaml"
    sync.write_text(sync.read_text().replace("    - {kind: ConfigMap, name: cluster-vars}\n", ""))
    notes = build(repo, "flux-a").notes
    assert [n.format() for n in notes] == [
        "apps/web/base/deployment.yaml:27:1: warning: [postbuild-unset] Deployment/a-web: ${gpu_model} is not set "
        "and becomes empty (clusters/flux-a/sync.yaml postBuild)"
    ]


def test_strict_mode_and_missing_source_are_errors(tmp_path: Path) -> None:
    repo = copy_fleet(tmp_path)
    (repo / "clusters/flux-a/vars.yaml").unlink()
    with pytest.raises(GitopsGenError) as err:
        build(repo, "flux-a")
    assert str(err.value) == (
        "clusters/flux-a/sync.yaml: postBuild: substitute from 'ConfigMap/cluster-vars' "
        "error: ConfigMap 'cluster-vars' not found"
    )
    sync = repo / "clusters/flux-a/sync.yaml"
    sync.write_text(sync.read_text().replace("    - {kind: ConfigMap, name: cluster-vars}\n", ""))
    config = repo / "gitops-gen.yaml"
    config.write_text(config.read_text() + "gitops: {strictSubstitutions: true}\n")
    with pytest.raises(GitopsGenError) as err:
        build(repo, "flux-a")
    assert str(err.value) == (
        "apps/web/base/deployment.yaml:27:1: Deployment/serving/a-web: envsubst error: "
        'variable not set (strict mode): "gpu_model"'
    )


@requires_kubectl
@pytest.mark.parametrize("cluster", ["flux-b"])
def test_no_transforms_is_the_plain_build(cluster: str) -> None:
    assert build(FLEET, cluster).objects == list(
        yaml.safe_load_all(kubectl_kustomize(FLEET / "mapping" / cluster).stdout)
    )


@requires_kubectl
def test_argocd_destination_namespace() -> None:
    plain = list(yaml.safe_load_all(kubectl_kustomize(FLEET / "mapping/argo-c").stdout))
    got = build(FLEET, "argo-c").objects
    assert len(got) == len(plain)
    for before, after in zip(plain, got, strict=True):
        if before["kind"] == "Namespace":
            assert after == before
        else:
            assert after["metadata"]["namespace"] == "inference"
            assert {
                **after,
                "metadata": {k: v for k, v in after["metadata"].items() if k != "namespace"},
            } == before


def test_render_applied_cli() -> None:
    result = CliRunner().invoke(main, ["render", "--repo", str(FLEET), "--cluster", "flux-a", "--applied"])
    assert result.exit_code == 0, result.output
    assert "name: a-web" in result.stdout and "CLUSTER\n          value: flux-a" in result.stdout
    plain = CliRunner().invoke(main, ["render", "--repo", str(FLEET), "--cluster", "flux-a"])
    assert "${cluster_name}" in plain.stdout
