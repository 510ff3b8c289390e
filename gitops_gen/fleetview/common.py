"""Pieces the text, markdown and HTML views share: pool descriptions, cluster-set names, tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gitops_gen.fleetview.ledger import PoolLedger, ResourceLine
from gitops_gen.fleetview.matrix import Cell

GPU_PREFIX = "nvidia.com/"


def short(resource: str) -> str:
    """``nvidia.com/mig-1g.5gb`` -> ``mig-1g.5gb``."""
    return resource.removeprefix(GPU_PREFIX)


def app_demand(line: ResourceLine) -> list[tuple[str, int]]:
    """(app, steady demand) on LINE, the largest first."""
    totals: dict[str, int] = {}
    for c in line.contributions:
        totals[c.app] = totals.get(c.app, 0) + c.steady
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def apps_text(line: ResourceLine, shown: int = 5) -> str:
    ranked = app_demand(line)
    text = ", ".join(f"{a} {n}" for a, n in ranked[:shown])
    return text + (f", +{len(ranked) - shown} more" if len(ranked) > shown else "") if ranked else "-"


def hardware(pool: PoolLedger) -> str:
    """``4 x 4 A100 40GB, mixed all-1g.5gb, time-sliced x4`` (``2 nodes, no GPUs`` for a CPU pool)."""
    s = pool.supply
    if not s.gpus:
        return f"{s.nodes} node{'s' if s.nodes != 1 else ''}, no GPUs"
    parts = [f"{s.nodes} x {s.gpus} {pool.model}"]
    if s.strategy != "none" or s.config:
        parts.append(" ".join(x for x in (s.strategy, s.config) if x))
    if s.replicas > 1:
        parts.append(f"time-sliced x{s.replicas}")
    if not s.known:
        parts.append("supply unknown")
    return ", ".join(parts)


def num(value: int | None) -> str:
    return "?" if value is None else str(value)


def cell_text(cell: Cell) -> str:
    """One line for a matrix cell: tags, replicas and GPU request of its workloads."""
    if cell.status != "enabled":
        return cell.status
    if not cell.workloads:
        return "no workloads"
    parts = []
    for w in cell.workloads:
        count = "per node" if w.replicas is None else f"{w.replicas}x"
        gpu = " ".join(f"{short(r)}:{n}" for r, n in w.gpu)
        tags = (
            " ".join(c.tag for c in w.containers)
            if len(w.containers) <= 1
            else " ".join(f"{c.name}={c.tag}" for c in w.containers)
        )
        parts.append(" ".join(x for x in (tags, f"({count}{' ' + gpu if gpu else ''})") if x))
    return "; ".join(parts)


def cluster_set(
    names: Sequence[str], layers: Mapping[str, Mapping[str, str]], order: Sequence[str], limit: int = 6
) -> str:
    """Name a set of clusters briefly: ``all 200 clusters``, ``zone=zone-1 (12)``, or the names.

    Whole layer values (general layers first) replace the clusters they cover when the set holds
    every cluster with that value; leftover names are listed up to LIMIT.
    """
    wanted = set(names)
    if wanted == set(layers) and len(wanted) > 1:
        return f"all {len(wanted)} clusters"
    left = list(names)
    parts: list[str] = []
    for layer in order:
        values: dict[str, list[str]] = {}
        for cluster, vals in layers.items():
            if layer in vals:
                values.setdefault(vals[layer], []).append(cluster)
        for value, members in sorted(values.items()):
            if len(members) > 1 and set(members) <= set(left):
                parts.append(f"{layer}={value} ({len(members)})")
                left = [n for n in left if n not in members]
    parts.extend(left[:limit])
    if len(left) > limit:
        parts.append(f"+{len(left) - limit} more")
    return ", ".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Aligned plain-text table lines (no trailing spaces)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(out).rstrip()

    return [fmt(headers), *(fmt(r) for r in rows)]
