"""`report --format markdown`: tables for a pull-request comment or a wiki page."""

from __future__ import annotations

from collections.abc import Sequence

from gitops_gen.fleetview.common import cell_text, cluster_set
from gitops_gen.fleetview.matrix import Matrix
from gitops_gen.fleetview.text import (
    CAPACITY_HEADERS,
    CAPACITY_RIGHT,
    TOTAL_HEADERS,
    TOTAL_RIGHT,
    capacity_rows,
    total_rows,
    unplaced_lines,
)
from gitops_gen.fleetview.views import Report

# Past this many clusters a grid is unreadable: each app lists its versions instead.
GRID_MAX_CLUSTERS = 12


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    out += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return out


def _warn(row: list[str]) -> list[str]:
    """Bold the headroom cells that are negative (over-committed)."""
    return [f"**{c}**" if i in (7, 8) and c.startswith("-") else c for i, c in enumerate(row)]


def version_section(m: Matrix, order: tuple[str, ...]) -> list[str]:
    if len(m.clusters) <= GRID_MAX_CLUSTERS:
        rows = [
            [a.name + (" ⚠ skew" if a.skew else ""), *(cell_text(a.cells[c]) for c in m.clusters)]
            for a in m.apps
        ]
        return md_table(["app", *m.clusters], rows, [False] * (len(m.clusters) + 1))
    rows = []
    for app in m.apps:
        for i, (cell, clusters) in enumerate(app.variants):
            name = (app.name + (" ⚠ skew" if app.skew else "")) if i == 0 else ""
            rows.append([name, cell_text(cell), cluster_set(clusters, m.layers, order)])
        off = app.clusters("disabled")
        if off:
            rows.append(["" if app.variants else app.name, "disabled", cluster_set(off, m.layers, order)])
    return md_table(["app", "version (replicas, GPU per pod)", "clusters"], rows, [False, False, False])


def render_markdown(report: Report) -> str:
    led = report.ledger
    out = [
        f"## GPU fleet report{' `' + report.title + '`' if report.title else ''}",
        "",
        "### Capacity",
        "",
        "Demand = requests x replicas of every workload placed on the pool; surge = every rolling update at "
        "once (maxSurge, default 25% rounded up).",
        "",
    ]
    out += md_table(CAPACITY_HEADERS, [_warn(r) for r in capacity_rows(led)], CAPACITY_RIGHT)
    missing = unplaced_lines(led)
    if missing:
        out += [
            "",
            "**Unplaced GPU workloads** (in no pool's demand):",
            "",
            *(f"- {escape(m)}" for m in missing),
        ]
    out += ["", "### Fleet totals", ""]
    out += md_table(TOTAL_HEADERS, total_rows(led.by_model) + total_rows(led.by_resource), TOTAL_RIGHT)
    out += ["", f"### Versions ({len(report.matrix.apps)} apps x {len(report.matrix.clusters)} clusters)", ""]
    out += version_section(report.matrix, report.layers)
    return "\n".join(out) + "\n"
