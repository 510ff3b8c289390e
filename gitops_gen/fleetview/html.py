"""`report --format html`: one self-contained page (inline CSS and SVG, no script, no network).

Made to stay readable for hundreds of clusters: clusters are grouped by their layer values
(every layer but the last, e.g. company / zone), clusters of a group with identical figures
share one row, groups without a problem start collapsed, and past ``GRID_MAX_CLUSTERS`` the
version matrix becomes a map with one square per cluster (a whole group is one bar when the
app is the same everywhere in it) coloured by version, the versions listed beside each app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from gitops_gen import __version__
from gitops_gen.fleetview.common import app_demand, cell_text, cluster_set, hardware, num, short
from gitops_gen.fleetview.ledger import ClusterLedger, Ledger, ResourceLine, Total
from gitops_gen.fleetview.matrix import AppRow, Cell, Matrix
from gitops_gen.fleetview.views import Report

GRID_MAX_CLUSTERS = 24
PALETTE = ("#2f7d4a", "#2b6cb0", "#b7791f", "#805ad5", "#c05621", "#2c7a7b", "#b83280", "#4a5568")
CELL = 4  # px per cluster in the version map
GAP = 4  # px between groups

CSS = """
*{box-sizing:border-box}body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#1a202c;background:#f7f8fa}header{background:#1f2937;color:#fff;padding:12px 20px}
header h1{font-size:18px;margin:0}header p{margin:2px 0 0;color:#cbd5e0}main{padding:12px 20px;max-width:1400px}
h2{font-size:16px;margin:18px 0 6px}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:6px 12px;min-width:110px}
.card b{display:block;font-size:18px}.card.bad{border-color:#e53e3e;background:#fff5f5}
.card.warn{border-color:#dd6b20;background:#fffaf0}table{border-collapse:collapse;background:#fff;width:100%}
th,td{padding:3px 6px;border-bottom:1px solid #edf2f7;text-align:left;vertical-align:top;white-space:nowrap}
th{background:#edf2f7;font-weight:600;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.neg{color:#c53030;font-weight:700}td.apps{white-space:normal;max-width:340px;color:#4a5568}
details{background:#fff;border:1px solid #e2e8f0;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:6px 10px;font-weight:600}summary .meta{font-weight:400;color:#4a5568}
summary .bad{color:#c53030}summary .warn{color:#c05621}details>div{padding:0 10px 8px}
.legend{color:#4a5568;margin:4px 0}.sw{display:inline-block;width:10px;height:10px;border-radius:2px;
margin:0 3px 0 8px;vertical-align:middle}.chip{display:inline-block;border-radius:3px;padding:0 5px;margin:1px 2px;
color:#fff;font-size:11px;max-width:320px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:middle}.skew{color:#c05621;font-weight:600}.off{color:#a0aec0}
.map td{padding:1px 6px}.map td.label{width:190px;overflow:hidden;text-overflow:ellipsis;max-width:190px}
.map .vers{white-space:normal;max-width:1000px}.grid td{white-space:normal}.grid td.cell{font-size:12px}
.cells{display:block}
"""


@dataclass
class Group:
    key: str  # "bumble / zone-1"
    clusters: list[str]


def groups(m: Matrix, layers: Sequence[str]) -> list[Group]:
    """Clusters grouped by the values of every layer but the most specific one."""
    keys = list(layers[:-1]) if len(layers) > 1 else list(layers)
    out: dict[str, list[str]] = {}
    for name in m.clusters:
        values = m.layers.get(name, {})
        key = " / ".join(values.get(k, "-") for k in keys) or "all"
        out.setdefault(key, []).append(name)
    return [Group(k, v) for k, v in sorted(out.items())]


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def bar(line: ResourceLine, width: int = 150) -> str:
    return bar_of(line.supply, line.steady, line.surge, width)


def bar_of(known: int | None, steady: int, surge: int, width: int = 150) -> str:
    """Supply as a frame, steady demand filled, surge demand lighter; red past the supply."""
    supply = known or 0
    top = max(supply, surge, 1)

    def x(v: int) -> float:
        return round(v * width / top, 1)

    over = known is not None and steady > supply
    surge_over = known is not None and surge > supply
    fill = "#e53e3e" if over else "#38a169"
    surge_fill = "#feb2b2" if surge_over else "#9ae6b4"
    title = f"supply {num(known)}, demand {steady}, at surge {surge}"
    return (
        f'<svg width="{width}" height="12" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
        f'<rect x="0" y="1" width="{x(supply)}" height="10" fill="#edf2f7" stroke="#a0aec0"/>'
        f'<rect x="0" y="3" width="{x(surge)}" height="6" fill="{surge_fill}"/>'
        f'<rect x="0" y="3" width="{x(steady)}" height="6" fill="{fill}"/>'
        f'<line x1="{x(supply)}" y1="0" x2="{x(supply)}" y2="12" stroke="#2d3748" stroke-width="1.5"/></svg>'
    )


def _n(value: int | None, cls: str = "n") -> str:
    neg = value is not None and value < 0
    return f'<td class="{cls}{" neg" if neg else ""}">{_e(num(value))}</td>'


def _apps(line: ResourceLine, shown: int = 4) -> str:
    """The apps with the most demand first; past SHOWN the rest are counted (all of them in the tooltip)."""
    ranked = app_demand(line)
    parts = [f"{_e(app)}&nbsp;{amount}" for app, amount in ranked[:shown]]
    if len(ranked) > shown:
        everything = ", ".join(f"{a} {n}" for a, n in ranked)
        parts.append(f"<span class='off' title='{_e(everything)}'>+{len(ranked) - shown} more</span>")
    return ", ".join(parts) or "-"


def _row_signature(cluster: ClusterLedger) -> tuple[Any, ...]:
    return tuple(
        (
            p.name,
            hardware(p),
            tuple((ln.resource, ln.supply, ln.steady, ln.surge, tuple(ln.apps)) for ln in p.lines),
        )
        for p in cluster.pools
        if p.supply.gpus
    )


def _group_rows(members: list[ClusterLedger], m: Matrix, order: Sequence[str]) -> list[str]:
    """Table rows of one group, clusters with identical figures merged into one row."""
    merged: dict[tuple[Any, ...], list[ClusterLedger]] = {}
    for c in members:
        merged.setdefault(_row_signature(c), []).append(c)
    rows: list[str] = []
    for same in merged.values():
        first = same[0]
        names = [c.name for c in same]
        label = (
            _e(names[0])
            if len(names) == 1
            else f'{len(names)} clusters <span class="off">({_e(cluster_set(names, m.layers, order, limit=4))})</span>'
        )
        for pool in first.pools:
            if not pool.supply.gpus:
                continue
            for line in pool.lines or [ResourceLine("-", None, None)]:
                rows.append(
                    f"<tr><td>{label}</td><td>{_e(pool.name)}</td><td>{_e(hardware(pool))}</td>"
                    f"<td>{_e(short(line.resource))}</td>{_n(line.supply)}<td class='n'>{line.steady}</td>"
                    f"<td class='n'>{line.surge}</td>{_n(line.headroom)}{_n(line.surge_headroom)}"
                    f"<td>{bar(line)}</td><td class='apps'>{_apps(line)}</td></tr>"
                )
    return rows


def _status(clusters: Iterable[ClusterLedger]) -> tuple[int, int, int]:
    """(lines over-committed at steady, lines over only at surge, unplaced workloads)."""
    over = surge = unplaced = 0
    for c in clusters:
        unplaced += len(c.unplaced)
        for p in c.pools:
            for ln in p.lines:
                if ln.headroom is not None and ln.headroom < 0:
                    over += 1
                elif ln.surge_headroom is not None and ln.surge_headroom < 0:
                    surge += 1
    return over, surge, unplaced


def capacity_section(led: Ledger, m: Matrix, order: Sequence[str]) -> list[str]:
    by_name = {c.name: c for c in led.clusters}
    out = [
        '<h2 id="capacity">Capacity per cluster and node pool</h2>',
        '<p class="legend">Bar: frame = supply, <span class="sw" style="background:#38a169"></span>demand '
        '(requests x replicas), <span class="sw" style="background:#9ae6b4"></span>during a rollout surge '
        "(maxSurge, default 25% rounded up, every workload at once); red = over the supply. "
        "Clusters with identical figures share a row.</p>",
    ]
    head = (
        "<tr><th>cluster</th><th>pool</th><th>hardware</th><th>resource</th><th>supply</th><th>demand</th>"
        "<th>surge</th><th>headroom</th><th>at surge</th><th></th><th>apps (demand)</th></tr>"
    )
    for group in groups(m, order):
        members = [by_name[n] for n in group.clusters if n in by_name]
        over, surge, unplaced = _status(members)
        flags = []
        if over:
            flags.append(f'<span class="bad">{over} over-committed</span>')
        if surge:
            flags.append(f'<span class="warn">{surge} over at surge</span>')
        if unplaced:
            flags.append(f'<span class="bad">{unplaced} unplaced</span>')
        totals: dict[str, list[int]] = {}
        for c in members:
            for p in c.pools:
                for ln in p.lines:
                    t = totals.setdefault(short(ln.resource), [0, 0])
                    t[0] += ln.supply or 0
                    t[1] += ln.steady
        summary = ", ".join(f"{r} {d}/{s}" for r, (s, d) in sorted(totals.items()))
        # Groups with a real problem start open; over-commitment only at surge is flagged but stays closed.
        is_open = " open" if over or unplaced or len(led.clusters) <= 8 else ""
        out.append(
            f"<details{is_open}><summary>{_e(group.key)} <span class='meta'>{len(members)} "
            f"cluster{'s' if len(members) != 1 else ''}; demand/supply {_e(summary or 'no GPUs')}</span> "
            f"{' '.join(flags)}</summary><div>"
        )
        rows = _group_rows(members, m, order)
        out.append(f"<table>{head}{''.join(rows)}</table>" if rows else "<p class='off'>no GPU pools</p>")
        lost = [(c.name, u) for c in members for u in c.unplaced]
        if lost:
            out.append("<p><b>Unplaced GPU workloads</b> (in no pool's demand):</p><ul>")
            out += [
                f"<li>{_e(n)}: {_e(u.app)} {_e(u.workload)} ({u.pods} pods) {_e(u.status)}: {_e(u.reason)}</li>"
                for n, u in lost
            ]
            out.append("</ul>")
        out.append("</div></details>")
    return out


def totals_section(led: Ledger) -> list[str]:
    def rows(items: list[Total]) -> str:
        out = []
        for t in items:
            unknown = t.resource == "?"
            out.append(
                f"<tr><td>{_e(t.model or 'all models')}</td><td>{_e(short(t.resource) if not unknown else 'unknown')}"
                f"</td><td class='n'>{t.pools}</td><td class='n'>{t.gpus}</td>"
                + (
                    "<td class='n'>?</td><td></td><td></td><td></td><td></td><td></td>"
                    if unknown
                    else f"<td class='n'>{t.supply}</td><td class='n'>{t.steady}</td><td class='n'>{t.surge}</td>"
                    f"{_n(t.headroom)}{_n(t.surge_headroom)}<td>{bar_of(t.supply, t.steady, t.surge)}</td>"
                )
                + "</tr>"
            )
        return "".join(out)

    head = (
        "<tr><th>GPU model</th><th>resource</th><th>pools</th><th>GPUs</th><th>supply</th><th>demand</th>"
        "<th>surge</th><th>headroom</th><th>at surge</th><th></th></tr>"
    )
    return [
        '<h2 id="totals">Fleet totals</h2>',
        f"<table>{head}{rows(led.by_model)}{rows(led.by_resource)}</table>",
    ]


def _variant_colours(app: AppRow) -> dict[tuple[Any, ...], str]:
    """One colour per image version of the app (replicas and GPU requests do not change it)."""
    return {images: PALETTE[i % len(PALETTE)] for i, (images, _, _) in enumerate(app.versions())}


def _fill(cell: Cell, colours: dict[tuple[Any, ...], str]) -> str:
    if cell.status == "enabled":
        return colours.get(cell.images, "#4a5568")
    return "#e2e8f0" if cell.status == "absent" else "#a0aec0"


def _chip(colour: str, text: str, count: int) -> str:
    return f'<span class="chip" style="background:{colour}">{_e(text)} <b>{count}</b></span>'


def _cell_title(name: str, cell: Cell) -> str:
    return f"{name}: {cell_text(cell)}"


def version_grid(m: Matrix, order: Sequence[str]) -> list[str]:
    gs = groups(m, order)
    head = (
        "<tr><th>app</th>"
        + "".join(f"<th title='{_e(g.key)}'>{_e(n)}</th>" for g in gs for n in g.clusters)
        + "</tr>"
    )
    rows = []
    for app in m.apps:
        colours = _variant_colours(app)
        cells = []
        for g in gs:
            for n in g.clusters:
                cell = app.cells[n]
                colour = colours.get(cell.images) if cell.status == "enabled" else None
                style = f" style='border-left:4px solid {colour}'" if colour else ""
                cls = "cell" if cell.status == "enabled" else "cell off"
                cells.append(f"<td class='{cls}'{style}>{_e(cell_text(cell))}</td>")
        label = _e(app.name) + (" <span class='skew'>skew</span>" if app.skew else "")
        rows.append(f"<tr><td>{label}</td>{''.join(cells)}</tr>")
    return [f"<table class='grid'>{head}{''.join(rows)}</table>"]


def _map_svg(app: AppRow, gs: list[Group], colours: dict[tuple[Any, ...], str]) -> str:
    x = 0
    parts = []
    for g in gs:
        cells = [app.cells[n] for n in g.clusters]
        width = len(cells) * CELL
        if len({(c.status, c.images) for c in cells}) == 1:
            cell = cells[0]
            fill = _fill(cell, colours)
            texts = sorted({cell_text(c) for c in cells})
            title = (
                f"{g.key}: {len(cells)} clusters, {'; '.join(texts[:3])}{' ...' if len(texts) > 3 else ''}"
            )
            parts.append(
                f'<rect x="{x}" y="0" width="{width - 1}" height="12" fill="{fill}">'
                f"<title>{_e(title)}</title></rect>"
            )
        else:
            for i, (n, cell) in enumerate(zip(g.clusters, cells, strict=True)):
                fill = _fill(cell, colours)
                parts.append(
                    f'<rect x="{x + i * CELL}" y="0" width="{CELL - 1}" height="12" fill="{fill}">'
                    f"<title>{_e(_cell_title(n, cell))}</title></rect>"
                )
        x += width + GAP
    return f'<svg width="{x}" height="12">{"".join(parts)}</svg>'


def version_map(m: Matrix, order: Sequence[str]) -> list[str]:
    gs = groups(m, order)
    x = 0
    labels = []
    for g in gs:
        width = len(g.clusters) * CELL
        labels.append(
            f'<text x="{x}" y="10" font-size="10" fill="#4a5568">{_e(g.key)}</text>' if width >= 40 else ""
        )
        x += width + GAP
    header = f'<svg width="{x}" height="12">{"".join(labels)}</svg>'
    rows = [f"<tr><th>app</th><th>{header}<br>image versions (clusters)</th></tr>"]
    for app in m.apps:
        colours = _variant_colours(app)
        versions = app.versions()
        chips = "".join(_chip(colours[images], tags, len(names)) for images, tags, names in versions[:6])
        if len(versions) > 6:
            chips += f" +{len(versions) - 6} more"
        off = app.clusters("disabled")
        if off:
            chips += f' <span class="off">disabled {len(off)}</span>'
        label = _e(app.name) + (" <span class='skew'>skew</span>" if app.skew else "")
        rows.append(
            f"<tr><td class='label'>{label}</td><td>{_map_svg(app, gs, colours)}"
            f"<div class='vers'>{chips}</div></td></tr>"
        )
    return [f"<table class='map'>{''.join(rows)}</table>"]


def versions_section(m: Matrix, order: Sequence[str]) -> list[str]:
    skewed = sum(1 for a in m.apps if a.skew)
    out = [
        f'<h2 id="versions">Versions: {len(m.apps)} apps x {len(m.clusters)} clusters</h2>',
        f"<p class='legend'>{skewed} app{'s' if skewed != 1 else ''} with image version skew. Colour = one "
        "image version of the app, most common first; grey = disabled, light = "
        "absent. Cell text: image tags (replicas x, GPU per pod).</p>",
    ]
    out += version_grid(m, order) if len(m.clusters) <= GRID_MAX_CLUSTERS else version_map(m, order)
    return out


def cards(report: Report) -> list[str]:
    led, m = report.ledger, report.matrix
    over, surge, unplaced = _status(led.clusters)
    gpus = sum(p.supply.nodes * p.supply.gpus for c in led.clusters for p in c.pools)
    items = [("clusters", str(len(m.clusters)), ""), ("apps", str(len(m.apps)), ""), ("GPUs", str(gpus), "")]
    for t in led.by_resource:
        items.append(
            (f"{short(t.resource)} free", f"{t.headroom} / {t.supply}", "bad" if t.headroom < 0 else "")
        )
    items += [
        ("over-committed", str(over), "bad" if over else ""),
        ("over at surge", str(surge), "warn" if surge else ""),
        ("unplaced", str(unplaced), "bad" if unplaced else ""),
        (
            "apps with skew",
            str(sum(1 for a in m.apps if a.skew)),
            "warn" if any(a.skew for a in m.apps) else "",
        ),
    ]
    return (
        ["<div class='cards'>"]
        + [f"<div class='card {cls}'><b>{_e(v)}</b>{_e(k)}</div>" for k, v, cls in items]
        + ["</div>"]
    )


def page(title: str, subtitle: str, body: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def render_html(report: Report) -> str:
    order = report.layers
    body = (
        cards(report) + totals_section(report.ledger) + capacity_section(report.ledger, report.matrix, order)
    )
    body += versions_section(report.matrix, order)
    title = "GPU fleet report" + (f" at {report.title}" if report.title else "")
    return page(title, f"gitops-gen {__version__}; layers {', '.join(order) or '-'}", body)
