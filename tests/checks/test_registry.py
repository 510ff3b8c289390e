"""The rule registry: one declaration per rule id, every emitted id registered, the docs generated from it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.checks import registry
from gitops_gen.checks.model import LEVELS, SCOPES, SEVERITIES, Problem
from gitops_gen.cli import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gitops_gen"
README_TABLE = re.compile(r"<!-- rules: begin.*?-->\n(.*?)<!-- rules: end -->", re.S)


def _string_literals() -> dict[str, list[str]]:
    """Every string constant of the package (docstrings and dict-display keys, which are field names,
    excluded) -> where it occurs."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys if k is not None}
        skip = docstrings | keys
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_rule_is_fully_described() -> None:
    for rule in registry.RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
        assert rule.severity in SEVERITIES and rule.scope in SCOPES
        assert rule.summary and rule.check
    assert len(registry.BY_ID) == len(registry.RULES)


def test_each_rule_id_is_written_once() -> None:
    # A rule id as a string literal anywhere but its declaration is a second home for it.
    literals = _string_literals()
    for rule in registry.RULES:
        assert len(literals.get(rule.id, [])) == 1, (rule.id, literals.get(rule.id))


def test_an_unregistered_rule_is_a_bug() -> None:
    with pytest.raises(AssertionError, match="not in checks"):
        registry.configure([Problem("x.yaml", 1, 1, "error", "no-such-rule", "m")], {})


def test_levels_drop_and_reclassify() -> None:
    problems = [
        Problem("a", 1, 1, "warning", "image-latest", "m"),
        Problem("b", 1, 1, "error", "render", "m"),
    ]
    assert registry.configure(problems, {"image-latest": "error", "render": "off"}) == [
        Problem("a", 1, 1, "error", "image-latest", "m")
    ]
    assert registry.configure(problems, {}) == problems
    assert set(LEVELS) == {"error", "warning", "off"}


def test_config_schema_levels_match_the_model() -> None:
    for schemas in (PACKAGE / "schemas", ROOT / "schemas"):
        schema = json.loads((schemas / "config.schema.json").read_text())
        assert schema["properties"]["rules"]["additionalProperties"]["enum"] == list(LEVELS)


def test_list_rules_names_every_rule() -> None:
    result = CliRunner().invoke(main, ["validate", "--list-rules"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == [r.id for r in registry.RULES]
    result = CliRunner().invoke(main, ["validate", "--list-rules", "--format", "json"])
    assert [r["id"] for r in json.loads(result.output)] == [r.id for r in registry.RULES]


def test_readme_rule_table_is_the_registry() -> None:
    found = README_TABLE.search((ROOT / "README.md").read_text())
    assert found, "README.md lacks the <!-- rules: begin --> ... <!-- rules: end --> block"
    assert found.group(1) == registry.table(), "regenerate it: python -m gitops_gen.checks.registry"


def test_a_check_whose_rules_are_all_off_does_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_gen.checks import validate as validate_module
    from gitops_gen.checks.gpu.rules import RULES as GPU_RULES
    from tests.checks.test_validate import make_fleet

    repo = make_fleet(tmp_path, "capacity-exceeded")
    config = repo / "gitops-gen.yaml"
    config.write_text(config.read_text() + "rules:\n" + "".join(f"  {r.id}: off\n" for r in GPU_RULES))
    calls: list[int] = []
    original = validate_module.check_cluster
    monkeypatch.setattr(validate_module, "check_cluster", lambda *a: calls.append(1) or original(*a))
    result = CliRunner().invoke(main, ["validate", "--repo", str(repo)])
    assert (result.exit_code, result.output, calls) == (0, "", [])
