"""The expansion engine against the case table in data/envsubst.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.applied.envsubst import EnvsubstError, expand, glob_match

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "envsubst.yaml").read_text())


def run(case: dict[str, Any], unset: set[str] | None = None) -> str:
    variables = {k: str(v) for k, v in (case.get("vars") or {}).items()}
    return expand(case["in"], variables.get, bool(case.get("strict")), unset)


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['in']}|{c.get('vars')}|{c.get('strict', False)}" for c in CASES]
)
def test_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(EnvsubstError) as err:
            run(case)
        assert str(err.value) == case["error"]
    else:
        assert run(case) == case["out"]


def test_unset_names_are_collected_outside_strict_mode() -> None:
    unset: set[str] = set()
    out = run({"in": "${a}-${b:=x}-${#c}-${d:-${e}}-${f}", "vars": {"f": "F"}}, unset)
    assert out == "-x-0--F"
    assert unset == {"a", "c", "e"}


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("*", "", True),
        ("a*b", "a/x/b", True),
        ("?", "/", True),
        ("a*", "ba", False),
        ("*b*c", "abxbc", True),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("\\*", "*", True),
        ("*.txt", "a.b.txt", True),
        ("*.txt", "a.txt.gz", False),
        ("a?", "a", False),
    ],
)
def test_glob(pattern: str, name: str, matched: bool) -> None:
    assert glob_match(pattern, name) is matched
