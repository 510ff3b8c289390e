"""Reporters for validate's problems: text, json, github (workflow annotations), sarif, junit."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from gitops_gen.errors import Problem

ProblemReporter = Callable[[Sequence[Problem]], str]
REPORTERS: dict[str, ProblemReporter] = {}


def reporter(name: str) -> Callable[[ProblemReporter], ProblemReporter]:
    def register(fn: ProblemReporter) -> ProblemReporter:
        REPORTERS[name] = fn
        return fn

    return register


@reporter("text")
def as_text(problems: Sequence[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


@reporter("json")
def as_json(problems: Sequence[Problem]) -> str:
    return json.dumps([asdict(p) for p in problems], indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@reporter("github")
def as_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands: each problem annotates its file and line in the pull request."""
    return "".join(
        f"::{p.severity} file={_escape_property(p.path)},line={p.line},col={p.col},"
        f"title={_escape_property(p.rule)}::{_escape_data(p.text())}\n"
        for p in problems
    )


@reporter("sarif")
def as_sarif(problems: Sequence[Problem]) -> str:
    """SARIF 2.1.0, for code-scanning uploads: the registry's rules, then one result per problem."""
    from gitops_gen import __version__
    from gitops_gen.checks.registry import RULES

    index = {rule.id: i for i, rule in enumerate(RULES)}
    rules = [
        {
            "id": r.id,
            "shortDescription": {"text": r.summary},
            "defaultConfiguration": {"level": r.severity},
            "properties": {"scope": r.scope},
        }
        for r in RULES
    ]
    results = [
        {
            "ruleId": p.rule,
            **({"ruleIndex": index[p.rule]} if p.rule in index else {}),  # `nodes check` has rules of its own
            "level": p.severity,
            "message": {"text": p.text()},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": p.path, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": p.line, "startColumn": p.col},
                    }
                }
            ],
            **({"properties": {"clusters": list(p.clusters)}} if p.clusters else {}),
        }
        for p in problems
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "gitops-gen", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


@reporter("junit")
def as_junit(problems: Sequence[Problem]) -> str:
    """JUnit XML for CI test tabs: one test case per problem (errors fail, warnings pass with output);
    a clean fleet is one passing case."""
    from xml.etree import ElementTree as ET

    errors = sum(1 for p in problems if p.severity == "error")
    suites = ET.Element(
        "testsuites", name="gitops-gen validate", tests=str(max(1, len(problems))), failures=str(errors)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="validate",
        tests=str(max(1, len(problems))),
        failures=str(errors),
        errors="0",
        skipped="0",
    )
    for p in problems:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=p.rule,
            name=f"{p.path}:{p.line}:{p.col}",
            file=p.path,
            line=str(p.line),
        )
        if p.severity == "error":
            ET.SubElement(case, "failure", type=p.rule, message=p.text()).text = p.format()
        else:
            ET.SubElement(case, "system-out").text = p.format()
    if not problems:
        ET.SubElement(suite, "testcase", classname="validate", name="fleet")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
