"""The kustomization field table: every field once, each shape checked, the readers follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.deps import parse_refs
from gitops_gen.kustomize import kustfile, types
from gitops_gen.repo.tree import DiskTree


def test_every_field_once_and_each_shape_has_a_check() -> None:
    names = [f.name for f in types.FIELDS]
    assert len(names) == len(set(names))
    assert set(names) == types.SUPPORTED | types.UNSUPPORTED and not types.SUPPORTED & types.UNSUPPORTED
    assert {f.shape for f in types.FIELDS} <= set(kustfile.SHAPE_CHECKS)
    assert all(types.BY_NAME[f.use_instead].supported for f in types.FIELDS if f.use_instead)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("namePrefix: [a]\n", "namePrefix must be a string"),
        ("resources: [1]\n", "resources[0] must be a string"),
        ("patches: [a.yaml]\n", "patches[0] must be a mapping"),
        ("commonLabels: [a]\n", "commonLabels must be a mapping"),
        ("patchesStrategicMerge: a.yaml\n", "patchesStrategicMerge must be a list"),
        ("validators: []\n", "not supported: validators"),
        ("helmCharts: [a]\n", "helmCharts[0] must be a mapping"),
    ],
)
def test_shapes_are_checked_from_the_table(tmp_path: Path, text: str, message: str) -> None:
    raw = text.encode()
    with pytest.raises(GitopsGenError, match=re.escape(message)):
        kustfile.load(DiskTree(tmp_path), "", raw, "kustomization.yaml")


def test_the_dependency_graph_follows_every_field_naming_files(tmp_path: Path) -> None:
    raw = b"""\
resources: [../base]
patches: [{path: p.yaml}]
patchesStrategicMerge: [s.yaml]
replacements: [{path: r.yaml}]
configMapGenerator: [{name: c, files: [k=f.txt], envs: [e.env]}]
"""
    refs = parse_refs(tmp_path, "app/x", raw, is_dir=lambda path: path == "app/base")
    assert refs.dirs == {"app/base"}
    assert refs.files == {"app/x/p.yaml", "app/x/s.yaml", "app/x/r.yaml", "app/x/f.txt", "app/x/e.env"}
