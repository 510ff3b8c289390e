"""Provenance chains: for a field of a built object, every file and line that set it (table-driven)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.kustomize.build import Engine
from gitops_gen.provenance.explain import find_object
from gitops_gen.provenance.provenance import Locator, Sel, chain, format_field, get, parse_field, rejoin_keys
from gitops_gen.repo.tree import DiskTree

CASES = sorted(p for p in (Path(__file__).parents[1] / "data" / "provenance").iterdir() if p.is_dir())


def expectations() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for case in CASES:
        for item in yaml.safe_load((case / "expected.yaml").read_text()):
            out.append((case, item))
    return out


@pytest.mark.parametrize(
    ("case", "item"), expectations(), ids=lambda v: v.name if isinstance(v, Path) else v["field"]
)
def test_chain(case: Path, item: dict[str, Any]) -> None:
    tree = DiskTree(case)
    resources = Engine(tree, trace=True, warnings=False).build("")
    res = find_object(resources, item["object"])
    path = rejoin_keys(res.obj, parse_field(item["field"]))
    setters = chain(res, path, Locator(tree))
    got = [[s.path, s.line] for s in reversed(setters)]
    assert got == item["chain"]
    assert setters[-1].value == get(res.obj, path), "the last setter's value is the rendered value"


def test_untraced_engine_keeps_no_history() -> None:
    resources = Engine(DiskTree(CASES[0]), warnings=False).build("")
    assert all(r.history is None for r in resources)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spec.replicas", ("spec", "replicas")),
        (
            "spec.template.spec.containers[name=pd].image",
            ("spec", "template", "spec", "containers", Sel("name", "pd"), "image"),
        ),
        ("spec.containers[0].resources.limits", ("spec", "containers", 0, "resources", "limits")),
        ('metadata.labels."app.kubernetes.io/name"', ("metadata", "labels", "app.kubernetes.io/name")),
    ],
)
def test_parse_and_format_field(text: str, expected: tuple[Any, ...]) -> None:
    assert parse_field(text) == expected
    assert parse_field(format_field(expected)) == expected
