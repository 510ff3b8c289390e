"""`report --format json`: the ledger and the matrix as one document with stable field names.

The fields are documented in docs/report-json.md; ``apiVersion`` names the version of that
contract (a field is only ever added within one version).
"""

from __future__ import annotations

import json
from typing import Any

from gitops_gen.fleetview.ledger import ClusterLedger, Ledger, PoolLedger, ResourceLine, Total
from gitops_gen.fleetview.matrix import Cell, Matrix

SCHEMA = "gitops-gen/report/v1"


def _line(line: ResourceLine) -> dict[str, Any]:
    return {
        "resource": line.resource,
        "perNode": line.per_node,
        "supply": line.supply,
        "demand": line.steady,
        "surgeDemand": line.surge,
        "headroom": line.headroom,
        "surgeHeadroom": line.surge_headroom,
        "apps": [
            {
                "app": c.app,
                "workload": c.workload,
                "pods": c.pods,
                "perPod": c.per_pod,
                "demand": c.steady,
                "surgePods": c.surge_pods,
                "surgeDemand": c.surge,
                "shared": c.shared,
            }
            for c in line.contributions
        ],
    }


def _pool(pool: PoolLedger) -> dict[str, Any]:
    s = pool.supply
    return {
        "name": pool.name,
        "nodes": s.nodes,
        "gpu": ({"product": s.product, "model": pool.model, "perNode": s.gpus} if s.gpus else None),
        "mig": ({"strategy": s.strategy, "config": s.config} if s.gpus else None),
        "timeSlicingReplicas": s.replicas,
        "supplyKnown": s.known,
        "resources": [_line(ln) for ln in pool.lines],
    }


def _cluster(c: ClusterLedger) -> dict[str, Any]:
    return {
        "name": c.name,
        "layers": c.layers,
        "pools": [_pool(p) for p in c.pools],
        "unplaced": [
            {
                "app": u.app,
                "workload": u.workload,
                "pods": u.pods,
                "demand": dict(u.demand),
                "status": u.status,
                "reason": u.reason,
            }
            for u in c.unplaced
        ],
    }


def _total(t: Total) -> dict[str, Any]:
    out: dict[str, Any] = {"model": t.model} if t.model else {}
    out.update(
        {
            "resource": t.resource,
            "pools": t.pools,
            "gpus": t.gpus,
            "supply": t.supply,
            "demand": t.steady,
            "surgeDemand": t.surge,
            "headroom": t.headroom,
            "surgeHeadroom": t.surge_headroom,
        }
    )
    if t.unknown_pools:
        out["unknownPools"] = t.unknown_pools
    return out


def ledger_dict(ledger: Ledger) -> dict[str, Any]:
    return {
        "clusters": [_cluster(c) for c in ledger.clusters],
        "totals": {
            "byModel": [_total(t) for t in ledger.by_model],
            "byResource": [_total(t) for t in ledger.by_resource],
        },
    }


def cell_dict(cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"status": cell.status}
    if cell.status == "enabled":
        out["workloads"] = [
            {
                "kind": w.kind,
                "name": w.name,
                "replicas": w.replicas,
                "containers": [{"name": c.name, "image": c.image, "tag": c.tag} for c in w.containers],
                "gpu": dict(w.gpu),
            }
            for w in cell.workloads
        ]
    return out


def matrix_dict(m: Matrix) -> dict[str, Any]:
    return {
        "clusters": m.clusters,
        "apps": [
            {
                "name": a.name,
                "skew": a.skew,
                "versions": len(a.versions()),
                "cells": {c: cell_dict(cell) for c, cell in a.cells.items()},
            }
            for a in m.apps
        ],
    }


def report_dict(layers: tuple[str, ...], ledger: Ledger, m: Matrix) -> dict[str, Any]:
    return {
        "apiVersion": SCHEMA,
        "layers": list(layers),
        "capacity": ledger_dict(ledger),
        "versions": matrix_dict(m),
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"
