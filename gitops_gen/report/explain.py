"""Reporters for `explain`: the chain of setters as text, or the explanation as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ExplainReporter = Callable[[dict[str, Any]], str]
REPORTERS: dict[str, ExplainReporter] = {}


def reporter(name: str) -> Callable[[ExplainReporter], ExplainReporter]:
    def register(fn: ExplainReporter) -> ExplainReporter:
        REPORTERS[name] = fn
        return fn

    return register


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


@reporter("text")
def format_text(report: dict[str, Any]) -> str:
    value = report["value"]
    shown = _scalar(value) if not isinstance(value, dict | list) else json.dumps(value, sort_keys=True)
    lines = [f"{report['object']} {report['field']} = {shown}   (cluster {report['cluster']})"]
    rows = []
    for e in report["setters"]:
        where = f"{e['file']}:{e['line']}" if e["line"] else e["file"]
        note = {"wins": "<- wins", "key": "(names the field)"}.get(e["status"], "(overridden)")
        if e["layer"] and e["status"] == "wins":
            note += f" ({e['layer']})"
        sub = e["field"][len(report["field"]) :].lstrip(".")
        prefix = f"{sub} <- " if sub else ""
        rows.append((where, f"{prefix}{e['source']}", note))
    width = max((len(r[0]) for r in rows), default=0)
    swidth = max((len(r[1]) for r in rows), default=0)
    for where, source, note in rows:
        lines.append(f"  {where.ljust(width)}   {source.ljust(swidth)}   {note}".rstrip())
    if not rows:
        lines.append("  (no source recorded)")
    return "\n".join(lines) + "\n"


@reporter("json")
def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"
