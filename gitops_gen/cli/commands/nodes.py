"""`gitops-gen nodes check`: a `kubectl get nodes -o json` snapshot against a cluster's node pools;
and the node pools of `new cluster --from-nodes`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from gitops_gen.authoring.plan import Change
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.fleetview.nodes import Node, check_nodes, cluster_with_pools, load_nodes, pools_from_nodes
from gitops_gen.repo.tree import DiskTree
from gitops_gen.report.problems import REPORTERS


def read_snapshot(path: Path) -> list[Node]:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as err:
        raise GitopsGenError(f"cannot read: {err.strerror}", str(path)) from None
    return load_nodes(data, str(path))


def with_snapshot_pools(change: Change, snapshot: Path) -> Change:
    """CHANGE (a new cluster.yaml) with the node pools of a snapshot in place of the template's."""
    pools, notes = pools_from_nodes(read_snapshot(snapshot))
    ((path, data),) = change.files.items()
    text = cluster_with_pools(data.decode("utf-8"), pools)
    return replace(change, files={path: text.encode()}, notes=(*change.notes, *notes))


def nodes_check(repo: Path, cluster: str, snapshot: Path, fmt: str) -> int:
    declared = load_fleet(DiskTree(repo)).cluster(cluster)
    problems = check_nodes(declared, read_snapshot(snapshot))
    sys.stdout.write(REPORTERS[fmt](problems))
    return 1 if any(p.severity == "error" for p in problems) else 0
