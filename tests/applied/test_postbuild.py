"""Flux post-build substitution over objects, against the case table in data/postbuild.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.applied.postbuild import PostBuildError, substitute, variables

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "postbuild.yaml").read_text())


def run(case: dict[str, Any]) -> Any:
    sources = {(o["kind"], o["metadata"]["name"]): o for o in case.get("sources") or []}
    values = variables(case["postBuild"], lambda kind, name: sources.get((kind, name)))
    return substitute(case["objects"], values, bool(case.get("strict")))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(PostBuildError) as err:
            run(case)
        assert str(err.value).startswith(case["error"])
        return
    outcome = run(case)
    assert outcome.objects == case["want"]
    assert {i: sorted(names) for i, names in outcome.unset.items()} == case.get("unset", {})


def test_objects_without_dollars_are_returned_as_they_are() -> None:
    obj = {"kind": "X", "metadata": {"name": "o"}, "spec": {"a": [1, {"b": "c"}]}}
    assert substitute([obj], {"v": "1"}, strict=True).objects[0] == obj
