"""Overlay hygiene rules: images, unused layers, patch targets that match nothing, missing bases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_gen.checks import hygiene
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree
from tests.fleetrepo import validate_base_fleet


@pytest.fixture()
def fleet(tmp_path: Path) -> Path:
    return validate_base_fleet(tmp_path / "fleet")


@pytest.mark.parametrize(
    ("image", "tag", "digest"),
    [
        ("nginx", None, False),
        ("nginx:1.27", "1.27", False),
        ("nginx:latest", "latest", False),
        ("registry.example.com:5000/team/nginx", None, False),
        ("registry.example.com:5000/team/nginx:2", "2", False),
        ("nginx@sha256:abcd", None, True),
        ("nginx:latest@sha256:abcd", "latest", True),
    ],
)
def test_image_tag(image: str, tag: str | None, digest: bool) -> None:
    assert hygiene.image_tag(image) == (tag, digest)


def pod(*images: str, init: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": im} for i, im in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": "init", "image": init}]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "job", "namespace": "ns"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}},
    }


def test_image_findings_locate_the_container_image() -> None:
    findings = hygiene.image_findings(pod("a:1", "b", "c:latest", "d@sha256:00", init="e"))
    prefix = ("spec", "jobTemplate", "spec", "template", "spec")
    assert sorted((f.field, f.rule) for f in findings) == [
        ((*prefix, "containers", 1, "image"), "image-untagged"),
        ((*prefix, "containers", 2, "image"), "image-latest"),
        ((*prefix, "initContainers", 0, "image"), "image-untagged"),
    ]
    assert {f.severity for f in findings} == {"warning"} and findings[0].obj == ("CronJob", "ns", "job")


def users_of(tree: DiskTree, clusters: list[str], directory: str) -> dict[str, list[Any]]:
    engine = Engine(tree, warnings=False)
    return {directory: [engine.build(f"mapping/{c}") for c in clusters]}


def test_patch_target_matching_nothing_is_reported_at_the_target(fleet: Path) -> None:
    tree = DiskTree(fleet)
    comp = "apps/toxicity-detector/zone/zone-1"
    assert hygiene.unmatched_targets(tree, users_of(tree, ["zone-1-prod"], comp)) == []
    path = fleet / comp / "kustomization.yaml"
    path.write_text(path.read_text().replace("kind: Deployment", "kind: StatefulSet"))
    problems = hygiene.unmatched_targets(tree, users_of(tree, ["zone-1-prod"], comp))
    assert [(p.path, p.line, p.severity, p.rule) for p in problems] == [
        (f"{comp}/kustomization.yaml", 4, "warning", "patch-target-unmatched")
    ]
    assert "kind=StatefulSet, name=toxicity-detector" in problems[0].message


def test_patch_target_with_label_selector(fleet: Path) -> None:
    tree = DiskTree(fleet)
    comp = "apps/toxicity-detector/zone/zone-1"
    path = fleet / comp / "kustomization.yaml"
    text = path.read_text().replace(
        "    name: toxicity-detector\n", "    labelSelector: app.kubernetes.io/name=toxicity-detector\n"
    )
    path.write_text(text)
    assert hygiene.unmatched_targets(tree, users_of(tree, ["zone-1-prod"], comp)) == []
    path.write_text(text.replace("name=toxicity-detector", "name=nobody"))
    assert len(hygiene.unmatched_targets(tree, users_of(tree, ["zone-1-prod"], comp))) == 1


def test_unused_layers(fleet: Path) -> None:
    tree = DiskTree(fleet)
    spare = fleet / "apps/private-detector/zone/zone-9"
    spare.mkdir()
    (spare / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
    )
    loaded = load_fleet(tree)
    problems = hygiene.unused_layers(tree, loaded, reached=set())
    assert [(p.path, p.rule, p.severity) for p in problems] == [
        ("apps/private-detector/zone/zone-9/kustomization.yaml", "layer-unused", "warning")
    ]
    # A hand-written chain overlay using the component counts as a use.
    assert hygiene.unused_layers(tree, loaded, reached={"apps/private-detector/zone/zone-9"}) == []
    assert hygiene.unused_layers(tree, loaded, set(), only={"apps/private-detector/zone/zone-1"}) == []


def test_missing_bases(fleet: Path) -> None:
    tree = DiskTree(fleet)
    cluster = fleet / "clusters/zone-1-prod/cluster.yaml"
    cluster.write_text(cluster.read_text().replace("    - toxicity-detector ", "    - ghost "))
    problems = hygiene.missing_bases(tree, load_fleet(tree))
    assert [(p.path, p.line, p.rule) for p in problems] == [
        ("clusters/zone-1-prod/cluster.yaml", 17, "app-missing")
    ]
