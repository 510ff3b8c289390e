"""Problem reporters: each format carries path, line, column, severity, rule and clusters."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import click
from click.testing import CliRunner

from gitops_gen.checks import registry
from gitops_gen.cli import main
from gitops_gen.errors import Problem
from gitops_gen.report.problems import REPORTERS
from tests.checks.test_validate import make_fleet

PROBLEMS = [
    Problem(
        "apps/a/base/d.yaml",
        3,
        5,
        "error",
        "k8s-schema",
        "Deployment/a: bad, really: 50%",
        ("c1", "c2", "c3", "c4"),
    ),
    Problem(
        "clusters/c1/cluster.yaml", 9, 7, "warning", "gpu-model-unknown", "pool p: unknown\nmodel", ("c1",)
    ),
]


def test_format_choices_are_the_registry() -> None:
    option = next(p for p in main.commands["validate"].params if p.name == "fmt")
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(REPORTERS) == ["text", "json", "github", "sarif", "junit"]
    for command, names in (("diff", ["text", "markdown", "json"]), ("explain", ["text", "json"])):
        option = next(p for p in main.commands[command].params if p.name == "fmt")
        assert isinstance(option.type, click.Choice) and list(option.type.choices) == names


def test_text_names_the_clusters_once() -> None:
    assert REPORTERS["text"](PROBLEMS).splitlines() == [
        "apps/a/base/d.yaml:3:5: error: [k8s-schema] Deployment/a: bad, really: 50% [4 clusters: c1, c2, c3, c4]",
        "clusters/c1/cluster.yaml:9:7: warning: [gpu-model-unknown] pool p: unknown\nmodel".splitlines()[0],
        "model",
    ]


def test_json_has_rule_and_clusters_as_fields() -> None:
    items = json.loads(REPORTERS["json"](PROBLEMS))
    assert items[0]["rule"] == "k8s-schema" and items[0]["clusters"] == ["c1", "c2", "c3", "c4"]
    assert items[0]["message"] == "Deployment/a: bad, really: 50%"
    assert [Problem(**i) for i in items] == PROBLEMS


def test_github_annotations_escape_their_fields() -> None:
    assert REPORTERS["github"](PROBLEMS).splitlines() == [
        "::error file=apps/a/base/d.yaml,line=3,col=5,title=k8s-schema::"
        "Deployment/a: bad, really: 50%25 [4 clusters: c1, c2, c3, c4]",
        "::warning file=clusters/c1/cluster.yaml,line=9,col=7,title=gpu-model-unknown::pool p: unknown%0Amodel",
    ]


def test_sarif_is_a_2_1_0_log_with_registered_rules() -> None:
    log = json.loads(REPORTERS["sarif"](PROBLEMS))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in registry.RULES]
    first, second = run["results"]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] == "k8s-schema"
    assert (first["level"], second["level"]) == ("error", "warning")
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5}
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "apps/a/base/d.yaml"
    assert first["properties"]["clusters"] == ["c1", "c2", "c3", "c4"]


def test_junit_fails_a_case_per_error() -> None:
    root = ET.fromstring(REPORTERS["junit"](PROBLEMS))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["apps/a/base/d.yaml:3:5", "clusters/c1/cluster.yaml:9:7"]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "k8s-schema"
    assert cases[1].find("failure") is None
    clean = ET.fromstring(REPORTERS["junit"]([])).find("testsuite")
    assert clean is not None and len(clean.findall("testcase")) == 1 and clean.get("failures") == "0"


def test_validate_github_format_on_a_broken_fleet(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "image-latest")
    result = CliRunner().invoke(main, ["validate", "--repo", str(repo), "--format", "github"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "::warning file=apps/private-detector/base/deployment.yaml,line=41,col=9,title=image-latest::"
    )
