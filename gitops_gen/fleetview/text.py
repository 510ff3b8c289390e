"""`report --format text`: terminal tables."""

from __future__ import annotations

from gitops_gen.fleetview.common import apps_text, cell_text, cluster_set, hardware, num, short, table
from gitops_gen.fleetview.ledger import Ledger, Total
from gitops_gen.fleetview.matrix import Matrix
from gitops_gen.fleetview.views import Report

CAPACITY_HEADERS = (
    "cluster",
    "pool",
    "hardware",
    "resource",
    "supply",
    "demand",
    "surge",
    "headroom",
    "at surge",
    "apps",
)
CAPACITY_RIGHT = (False, False, False, False, True, True, True, True, True, False)
TOTAL_HEADERS = ("model", "resource", "pools", "GPUs", "supply", "demand", "surge", "headroom", "at surge")
TOTAL_RIGHT = (False, False, True, True, True, True, True, True, True)


def capacity_rows(ledger: Ledger) -> list[list[str]]:
    """One row per GPU resource of each pool (pools without GPUs left out)."""
    rows: list[list[str]] = []
    for cluster in ledger.clusters:
        for pool in cluster.pools:
            if not pool.supply.gpus:
                continue
            if not pool.lines:
                supply = "0" if pool.supply.known else "?"
                rows.append([cluster.name, pool.name, hardware(pool), "-", supply, "", "", "", "", ""])
            for line in pool.lines:
                rows.append(
                    [
                        cluster.name,
                        pool.name,
                        hardware(pool),
                        short(line.resource),
                        num(line.supply),
                        str(line.steady),
                        str(line.surge),
                        num(line.headroom),
                        num(line.surge_headroom),
                        apps_text(line),
                    ]
                )
    return rows


def total_rows(totals: list[Total]) -> list[list[str]]:
    return [
        [
            t.model or "all",
            short(t.resource),
            str(t.pools),
            str(t.gpus),
            "?" if t.resource == "?" else str(t.supply),
            str(t.steady),
            str(t.surge),
            "?" if t.resource == "?" else str(t.headroom),
            "?" if t.resource == "?" else str(t.surge_headroom),
        ]
        for t in totals
    ]


def unplaced_lines(ledger: Ledger) -> list[str]:
    out = []
    for cluster in ledger.clusters:
        for u in cluster.unplaced:
            need = ", ".join(f"{short(r)}:{n}" for r, n in u.demand.items())
            out.append(
                f"{cluster.name}: {u.app} {u.workload} ({u.pods} pods x {need}) {u.status}: {u.reason}"
            )
    return out


def version_lines(m: Matrix, order: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for app in m.apps:
        flags = []
        if app.skew:
            flags.append(f"SKEW: {len(app.versions())} image versions")
        out.append(app.name + (f"  [{'; '.join(flags)}]" if flags else ""))
        for cell, clusters in app.variants:
            out.append(f"  {cell_text(cell)}  on {cluster_set(clusters, m.layers, order)}")
        for status in ("disabled", "absent"):
            names = app.clusters(status)
            if names:
                out.append(f"  {status} on {cluster_set(names, m.layers, order)}")
    return out


def render_text(report: Report) -> str:
    led = report.ledger
    out = [
        f"Capacity{' at ' + report.title if report.title else ''} "
        "(demand = requests x replicas; surge = every rolling update at once)",
        "",
    ]
    out += table(CAPACITY_HEADERS, capacity_rows(led), CAPACITY_RIGHT)
    missing = unplaced_lines(led)
    if missing:
        out += ["", "Unplaced GPU workloads (in no pool's demand):", *(f"  {m}" for m in missing)]
    out += ["", "Fleet totals by GPU model", ""]
    out += table(TOTAL_HEADERS, total_rows(led.by_model), TOTAL_RIGHT)
    out += ["", "Fleet totals by resource", ""]
    out += table(TOTAL_HEADERS, total_rows(led.by_resource), TOTAL_RIGHT)
    out += ["", f"Versions ({len(report.matrix.apps)} apps x {len(report.matrix.clusters)} clusters)", ""]
    out += version_lines(report.matrix, report.layers)
    return "\n".join(out) + "\n"
