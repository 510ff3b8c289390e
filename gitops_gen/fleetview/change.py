"""`report --base REF [--head REF]`: what a change does to capacity and versions.

Both revisions are reported in full (the base read from git objects, like ``diff``), then
compared: every pool resource whose supply or demand moves, the fleet totals per resource,
GPU workloads that become (or stop being) unplaced, and every app x cluster cell whose
version, replicas, GPU request or status changes. This is the "GPU blast radius" of a pull
request: headroom before and after, per pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.fleetview.common import cell_text, cluster_set, hardware, num, short
from gitops_gen.fleetview.ledger import ClusterLedger, ResourceLine, Total
from gitops_gen.fleetview.matrix import Cell
from gitops_gen.fleetview.views import Report
from gitops_gen.kustomize.build import Engine, ParseCache
from gitops_gen.repo.tree import Tree

Figures = tuple[int | None, int, int]  # supply, steady demand, surge demand


@dataclass
class PoolChange:
    cluster: str
    pool: str
    hardware: str  # at head (base when the pool is gone)
    resource: str
    before: Figures | None  # None: the line does not exist at base
    after: Figures | None
    apps: list[str] = field(default_factory=list)  # apps whose demand on the line changed

    @staticmethod
    def headroom(fig: Figures | None, surge: bool = False) -> int | None:
        if fig is None or fig[0] is None:
            return None
        return fig[0] - (fig[2] if surge else fig[1])


@dataclass
class CellChange:
    app: str
    cluster: str
    before: Cell
    after: Cell


@dataclass
class TotalChange:
    resource: str
    before: Figures
    after: Figures


@dataclass
class Change:
    base: str
    head: str
    layers: tuple[str, ...]
    layer_values: dict[str, dict[str, str]]
    pools: list[PoolChange]
    totals: list[TotalChange]
    unplaced_before: list[str]
    unplaced_after: list[str]
    cells: list[CellChange]


def report_at(tree: Tree, clusters: list[str], cache: ParseCache, title: str) -> Report:
    from gitops_gen.fleet.inventory import load_fleet
    from gitops_gen.fleetview.collect import collect
    from gitops_gen.fleetview.views import report_of

    fleet = load_fleet(tree)
    # A cluster named with --cluster may exist at one revision only (added or removed by the change).
    names = [c for c in clusters if c in fleet.clusters] if clusters else None
    if clusters and not names:
        return _empty(fleet, title)
    return report_of(collect(tree, fleet, Engine(tree, parse_cache=cache, warnings=False), names), title)


def _empty(fleet: Any, title: str) -> Report:
    from gitops_gen.fleetview.collect import FleetView
    from gitops_gen.fleetview.views import report_of

    return report_of(FleetView(fleet.config.layers, [], []), title)


def _lines(c: ClusterLedger) -> dict[tuple[str, str], tuple[str, ResourceLine]]:
    return {(p.name, ln.resource): (hardware(p), ln) for p in c.pools for ln in p.lines}


def _fig(line: ResourceLine | None) -> Figures | None:
    return None if line is None else (line.supply, line.steady, line.surge)


def _app_demand(line: ResourceLine | None) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for c in line.contributions if line else []:
        steady, surge = out.get(c.app, (0, 0))
        out[c.app] = (steady + c.steady, surge + c.surge)
    return out


def _unplaced(report: Report) -> list[str]:
    return [
        f"{c.name}: {u.app} {u.workload} ({u.status})" for c in report.ledger.clusters for u in c.unplaced
    ]


def _totals(before: list[Total], after: list[Total]) -> list[TotalChange]:
    old = {t.resource: (t.supply, t.steady, t.surge) for t in before}
    new = {t.resource: (t.supply, t.steady, t.surge) for t in after}
    out = []
    for res in dict.fromkeys([*old, *new]):
        b, a = old.get(res, (0, 0, 0)), new.get(res, (0, 0, 0))
        if a != b:
            out.append(TotalChange(res, (b[0], b[1], b[2]), (a[0], a[1], a[2])))
    return out


def compare(before: Report, after: Report) -> Change:
    pools: list[PoolChange] = []
    old_c = {c.name: c for c in before.ledger.clusters}
    new_c = {c.name: c for c in after.ledger.clusters}
    for name in sorted(set(old_c) | set(new_c)):
        old = _lines(old_c[name]) if name in old_c else {}
        new = _lines(new_c[name]) if name in new_c else {}
        for key in dict.fromkeys([*old, *new]):
            o, n = old.get(key), new.get(key)
            bo, an = _fig(o[1] if o else None), _fig(n[1] if n else None)
            if bo == an:
                continue
            da, db = _app_demand(o[1] if o else None), _app_demand(n[1] if n else None)
            apps = sorted(a for a in set(da) | set(db) if da.get(a) != db.get(a))
            either = n or o
            pools.append(PoolChange(name, key[0], either[0] if either else "", key[1], bo, an, apps))
    cells: list[CellChange] = []
    for app in after.matrix.apps + [
        a for a in before.matrix.apps if a.name not in {x.name for x in after.matrix.apps}
    ]:
        old_row = next((a for a in before.matrix.apps if a.name == app.name), None)
        new_row = next((a for a in after.matrix.apps if a.name == app.name), None)
        clusters = dict.fromkeys([*(old_row.cells if old_row else {}), *(new_row.cells if new_row else {})])
        for cluster in clusters:
            b = old_row.cells.get(cluster, Cell("absent")) if old_row else Cell("absent")
            a = new_row.cells.get(cluster, Cell("absent")) if new_row else Cell("absent")
            if a.signature != b.signature:
                cells.append(CellChange(app.name, cluster, b, a))
    cells.sort(key=lambda c: (c.app, c.cluster))
    values = {**before.matrix.layers, **after.matrix.layers}
    return Change(
        before.title,
        after.title,
        after.layers,
        values,
        pools,
        _totals(before.ledger.by_resource, after.ledger.by_resource),
        _unplaced(before),
        _unplaced(after),
        cells,
    )


def capacity_changes(
    base_tree: Tree, head_tree: Tree, base: str, head: str, clusters: list[str] | None = None
) -> list[PoolChange]:
    """The pool resources whose supply or demand a change moves (for the diff's markdown summary);
    CLUSTERS: of those clusters only (a shard of the diff; None or empty: every cluster)."""
    cache = ParseCache()
    names = clusters or []
    return compare(report_at(base_tree, names, cache, base), report_at(head_tree, names, cache, head)).pools


# ---------------------------------------------------------------- output


def _figs(fig: Figures | None) -> str:
    return "-" if fig is None else f"{num(fig[0])} / {fig[1]} / {fig[2]}"


def _arrow(a: int | None, b: int | None) -> str:
    return num(a) if a == b else f"{num(a)} → {num(b)}"


def pool_rows(change: Change) -> list[list[str]]:
    rows = []
    for p in change.pools:
        rows.append(
            [
                p.cluster,
                p.pool,
                short(p.resource),
                _figs(p.before),
                _figs(p.after),
                _arrow(PoolChange.headroom(p.before), PoolChange.headroom(p.after)),
                _arrow(PoolChange.headroom(p.before, True), PoolChange.headroom(p.after, True)),
                ", ".join(p.apps) or "-",
            ]
        )
    return rows


POOL_HEADERS = (
    "cluster",
    "pool",
    "resource",
    "before (supply / demand / surge)",
    "after",
    "headroom",
    "headroom at surge",
    "apps changed",
)


def grouped_cells(change: Change) -> list[tuple[str, str, str, list[str]]]:
    """(app, before, after, clusters): the same cell change on several clusters once."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for c in change.cells:
        groups.setdefault((c.app, cell_text(c.before), cell_text(c.after)), []).append(c.cluster)
    return [(app, b, a, names) for (app, b, a), names in groups.items()]


def text_of(change: Change) -> str:
    from gitops_gen.fleetview.common import table

    out = [f"report {change.base} → {change.head}", ""]
    if not change.pools and not change.cells and not change.totals:
        return "\n".join([*out, "No change to capacity or versions."]) + "\n"
    out.append(f"Capacity: {len(change.pools)} pool resource(s) change")
    if change.pools:
        out += ["", *table(POOL_HEADERS, pool_rows(change), [False] * 8)]
    for t in change.totals:
        out.append(f"  fleet {short(t.resource)}: {_figs(t.before)} → {_figs(t.after)}")
    new = [u for u in change.unplaced_after if u not in change.unplaced_before]
    fixed = [u for u in change.unplaced_before if u not in change.unplaced_after]
    out += [f"  newly unplaced: {u}" for u in new] + [f"  no longer unplaced: {u}" for u in fixed]
    out += ["", f"Versions: {len(change.cells)} app x cluster cell(s) change"]
    for app, b, a, names in grouped_cells(change):
        out.append(f"  {app}: {b} → {a}  on {cluster_set(names, change.layer_values, change.layers)}")
    return "\n".join(out) + "\n"


def headroom_markdown(pools: list[PoolChange]) -> str:
    """The per-pool headroom table of a pull-request comment (a negative headroom after is bold)."""
    from gitops_gen.fleetview.markdown import md_table

    change = Change("", "", (), {}, pools, [], [], [], [])
    rows = pool_rows(change)
    for row in rows:
        for i in (5, 6):
            if row[i].split(" → ")[-1].startswith("-"):
                row[i] = f"**{row[i]}**"
    title = "GPU headroom per pool (supply / demand / demand during rollouts):"
    return "\n".join([title, "", *md_table(POOL_HEADERS, rows, [False] * 8)]) + "\n\n"


def markdown_of(change: Change) -> str:
    from gitops_gen.fleetview.markdown import escape, md_table

    out = [f"## GPU blast radius `{change.base}` → `{change.head}`", ""]
    if not change.pools and not change.cells and not change.totals:
        return "\n".join([*out, "No change to capacity or versions."]) + "\n"
    if change.pools:
        out += [
            f"### Capacity ({len(change.pools)} pool resource(s))",
            "",
            *headroom_markdown(change.pools).rstrip("\n").split("\n")[2:],
        ]
    if change.totals:
        out += ["", "| fleet resource | before (supply / demand / surge) | after |", "|---|---|---|"]
        out += [f"| {short(t.resource)} | {_figs(t.before)} | {_figs(t.after)} |" for t in change.totals]
    new = [u for u in change.unplaced_after if u not in change.unplaced_before]
    if new:
        out += ["", "**Newly unplaced GPU workloads:**", "", *(f"- {escape(u)}" for u in new)]
    if change.cells:
        out += ["", f"### Versions ({len(change.cells)} cell(s))", ""]
        out += md_table(
            ("app", "before", "after", "clusters"),
            [
                [app, b, a, cluster_set(n, change.layer_values, change.layers)]
                for app, b, a, n in grouped_cells(change)
            ],
            [False] * 4,
        )
    return "\n".join(out) + "\n"


def json_of(change: Change) -> str:
    from gitops_gen.fleetview.jsondoc import SCHEMA, cell_dict, dumps

    def fig(f: Figures | None) -> dict[str, Any] | None:
        return (
            None
            if f is None
            else {
                "supply": f[0],
                "demand": f[1],
                "surgeDemand": f[2],
                "headroom": PoolChange.headroom(f),
                "surgeHeadroom": PoolChange.headroom(f, True),
            }
        )

    return dumps(
        {
            "apiVersion": SCHEMA,
            "base": change.base,
            "head": change.head,
            "capacity": [
                {
                    "cluster": p.cluster,
                    "pool": p.pool,
                    "resource": p.resource,
                    "before": fig(p.before),
                    "after": fig(p.after),
                    "apps": p.apps,
                }
                for p in change.pools
            ],
            "totals": [
                {"resource": t.resource, "before": fig(t.before), "after": fig(t.after)}
                for t in change.totals
            ],
            "unplaced": {"before": change.unplaced_before, "after": change.unplaced_after},
            "versions": [
                {
                    "app": c.app,
                    "cluster": c.cluster,
                    "before": cell_dict(c.before),
                    "after": cell_dict(c.after),
                }
                for c in change.cells
            ],
        }
    )


def html_of(change: Change) -> str:
    from html import escape as e

    from gitops_gen.fleetview.html import bar_of, page

    body = []
    if not change.pools and not change.cells and not change.totals:
        body.append("<p>No change to capacity or versions.</p>")
    if change.pools:
        head = "".join(
            f"<th>{e(h)}</th>"
            for h in (*POOL_HEADERS[:3], "before", "after", "headroom", "at surge", "apps changed")
        )
        rows = []
        for p, row in zip(change.pools, pool_rows(change), strict=True):
            b = bar_of(*p.before) if p.before else ""
            a = bar_of(*p.after) if p.after else ""
            bad = (PoolChange.headroom(p.after, True) or 0) < 0
            rows.append(
                "<tr>"
                + "".join(f"<td>{e(c)}</td>" for c in row[:3])
                + f"<td>{e(row[3])}<br>{b}</td><td>{e(row[4])}<br>{a}</td>"
                + "".join(f"<td class='n{' neg' if bad and i == 6 else ''}'>{e(row[i])}</td>" for i in (5, 6))
                + f"<td class='apps'>{e(row[7])}</td></tr>"
            )
        body += [
            f"<h2>Capacity: {len(change.pools)} pool resource(s)</h2>",
            f"<table><tr>{head}</tr>{''.join(rows)}</table>",
        ]
    if change.cells:
        rows = [
            f"<tr><td>{e(app)}</td><td>{e(b)}</td><td>{e(a)}</td><td>"
            f"{e(cluster_set(n, change.layer_values, change.layers))}</td></tr>"
            for app, b, a, n in grouped_cells(change)
        ]
        body += [
            f"<h2>Versions: {len(change.cells)} cell(s)</h2>",
            f"<table class='grid'><tr><th>app</th><th>before</th><th>after</th><th>clusters</th></tr>"
            f"{''.join(rows)}</table>",
        ]
    return page(f"GPU blast radius {change.base} → {change.head}", "gitops-gen report --base", body)


RENDERERS: dict[str, Callable[[Change], str]] = {
    "text": text_of,
    "markdown": markdown_of,
    "json": json_of,
    "html": html_of,
}
