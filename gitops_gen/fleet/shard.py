"""`--shard I/N`: which clusters one of N CI runners takes.

The split must be the same on every runner given the same commit (nothing but the tree's
content and N go in: no clock, no randomness, no machine), balanced by what a cluster costs
to render, and stable: adding or removing one cluster should move as few others as possible,
so a CI cache or a reviewer's "my cluster is in shard 3" keeps holding.

The two textbook answers each give up one of these. Greedy longest-processing-time (sort by
cost, give each cluster to the least loaded shard) balances well, but one added cluster shifts
every cluster after it in the order. Rendezvous hashing (each cluster goes to the shard with the
highest hash of (cluster, shard)) never moves a cluster that was not added or removed, but only
balances on average: 12 clusters on 3 shards easily end up 6/4/2. We use rendezvous hashing with
bounded loads: clusters, most expensive first, take the first shard in their own hash order that
still has room under a cap of (1 + SLACK) x the mean load; a cluster that fits nowhere goes to the
least loaded shard. The cap bounds the imbalance (at most the cap, or the mean plus the largest
cluster); a new cluster can only displace clusters processed after it whose first choice it
filled, so most clusters keep their shard (tests/fleet/test_shard.py measures both).

The cost of a cluster is the number of entries in its mapping kustomization (one per app,
plus its namespaces file): one small file read per cluster, no build.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gitops_gen.errors import GitopsGenError, UsageError
from gitops_gen.repo.tree import Tree

# Room above the mean load before a cluster spills to its next choice: small enough to stay
# balanced, large enough that an added cluster rarely pushes others out.
SLACK = 0.15
SHARD_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 10_000


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def label(self) -> str:
        return f"{self.index}/{self.total}"

    @property
    def first(self) -> bool:
        """The shard that also runs the fleet-wide checks (once, never twice, never lost)."""
        return self.index == 1


def parse_shard(text: str) -> Shard:
    """`I/N` with 1 <= I <= N, else a UsageError saying what is wrong."""
    match = SHARD_FORM.match(text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected I/N, e.g. 2/4 (shard I of N, counted from 1)")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or total > MAX_SHARDS:
        raise UsageError(f"--shard {text}: N must be between 1 and {MAX_SHARDS}")
    if not 1 <= index <= total:
        raise UsageError(f"--shard {text}: I must be between 1 and {total} (shards count from 1)")
    return Shard(index, total)


def cluster_cost(tree: Tree, name: str) -> int:
    """Entries of mapping/<name>/kustomization.yaml (at least 1): the apps it renders."""
    from gitops_gen.repo import yamlio

    path = f"mapping/{name}/kustomization.yaml"
    if tree.kind(path) != "file":
        return 1
    try:
        docs = yamlio.load_documents(tree.read(path), tree.display(path))
    except GitopsGenError:
        return 1  # validate reports it; the split only needs a number
    doc = docs[0] if len(docs) == 1 else None
    if not isinstance(doc, dict):
        return 1
    count = sum(len(v) for k in ("resources", "components") if isinstance(v := doc.get(k), list))
    return max(1, count)


def costs_of(trees: Iterable[Tree], names: Iterable[str]) -> dict[str, int]:
    """Each name's cost in the first of TREES that has its mapping (diff: head, then base)."""
    trees = list(trees)
    out: dict[str, int] = {}
    for name in names:
        found = next((t for t in trees if t.kind(f"mapping/{name}/kustomization.yaml") == "file"), None)
        out[name] = cluster_cost(found, name) if found is not None else 1
    return out


def _preference(name: str, total: int) -> list[int]:
    """Shard indices (0-based) in NAME's own rendezvous order: highest hash first."""

    def weight(shard: int) -> bytes:
        return hashlib.blake2b(f"{name}\0{shard}".encode(), digest_size=8).digest()

    return sorted(range(total), key=lambda s: (weight(s), -s), reverse=True)


def assign(costs: Mapping[str, int], total: int) -> dict[str, int]:
    """Cluster -> its shard (1-based) among TOTAL: bounded-load rendezvous hashing (module docstring)."""
    if total < 1:
        raise ValueError("at least one shard")
    cap = (1 + SLACK) * sum(costs.values()) / total
    loads = [0] * total
    out: dict[str, int] = {}
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        cost = costs[name]
        order = _preference(name, total)
        pick = next((s for s in order if loads[s] + cost <= cap), None)
        if pick is None:
            pick = min(order, key=lambda s: loads[s])  # ties: the cluster's own preference
        loads[pick] += cost
        out[name] = pick + 1
    return out


def clusters_of(shard: Shard, costs: Mapping[str, int]) -> list[str]:
    """The clusters SHARD takes of the fleet whose clusters cost COSTS, sorted by name."""
    placed = assign(costs, shard.total)
    return sorted(n for n, s in placed.items() if s == shard.index)


def split(shard: Shard, trees: Iterable[Tree], names: Iterable[str]) -> list[str]:
    """SHARD's clusters among NAMES, costed from TREES."""
    return clusters_of(shard, costs_of(trees, names))
