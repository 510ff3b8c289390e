"""Provenance through Helm charts: a field a chart rendered is traced to the values key that set it,
at its line in the source that set it last (tests/data/charttrace/<case>/expected.yaml), and the
patches applied on top follow as for any object."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.kustomize.build import Engine
from gitops_gen.provenance.explain import find_object, winners
from gitops_gen.provenance.provenance import Locator, chain, get, parse_field, rejoin_keys
from gitops_gen.repo.tree import DiskTree

pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")

DATA = Path(__file__).parents[1] / "data" / "charttrace"
CASES = sorted(p for p in DATA.iterdir() if (p / "kustomization.yaml").is_file())


def expectations() -> list[tuple[Path, dict[str, Any]]]:
    return [(case, item) for case in CASES for item in yaml.safe_load((case / "expected.yaml").read_text())]


@pytest.mark.parametrize(
    ("case", "item"), expectations(), ids=lambda v: v.name if isinstance(v, Path) else v["field"]
)
def test_chain(case: Path, item: dict[str, Any]) -> None:
    tree = DiskTree(case)
    res = find_object(Engine(tree, trace=True, warnings=False).build(""), item["object"])
    path = rejoin_keys(res.obj, parse_field(item["field"]))
    setters = chain(res, path, Locator(tree))
    won = winners(setters)
    got = [
        [
            s.path,
            s.line,
            s.origin_kind,
            "overridden" if id(s) not in won else "key" if s.origin_kind == "helm-key" else "wins",
        ]
        for s in reversed(setters)
    ]
    assert got == item["chain"]
    for s in setters:  # a winning value taken as it is written is the rendered value
        if id(s) in won and s.origin_kind in ("helm-values", "smp"):
            assert s.value == get(res.obj, path)


def test_tracing_renders_nothing_in_a_plain_build(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_gen.kustomize.builtins import helm

    calls: list[helm.Request] = []
    real = helm.backend()
    monkeypatch.setattr(helm, "_backend", lambda request: calls.append(request) or real(request))
    monkeypatch.setattr(helm, "_cache", {})
    Engine(DiskTree(CASES[0]), warnings=False).render("")
    assert len(calls) == 1  # the chart once; the marker and probe renders happen only when tracing


RELEASE = DATA / "release"


@pytest.fixture(scope="module")
def release_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("release") / "fleet"
    shutil.copytree(RELEASE, root)
    shutil.copytree(DATA / "helmcharts" / "charts", root / "charts")
    return root


@pytest.mark.parametrize(
    "item", yaml.safe_load((RELEASE / "expected.yaml").read_text()), ids=lambda v: v["field"]
)
def test_explain_through_a_helm_release(release_fleet: Path, item: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        main,
        [
            "explain",
            "--repo",
            str(release_fleet),
            "--cluster",
            "c",
            "--format",
            "json",
            item["object"],
            item["field"],
        ],
    )
    assert result.exit_code == 0, result.output
    assert [[s["file"], s["line"], s["status"]] for s in json.loads(result.stdout)["setters"]] == item[
        "chain"
    ]
