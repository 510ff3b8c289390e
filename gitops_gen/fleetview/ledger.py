"""The capacity ledger: per cluster and node pool, GPU supply against the demand of the manifests.

Supply per pool and resource = nodes x what one node advertises (``pool_supply``: whole GPUs,
the MIG slices of the pool's strategy and mig-parted config, time-sliced replicas).
Demand = effective pod request x pods of every workload placed on the pool (the placement of
``check_gpu`` feasibility: selector, resources, one pod per node). Two figures:

- steady: the replicas as written;
- surge: during a rolling update, each Deployment adds up to ``maxSurge`` pods (default 25%,
  rounded up; 0 for ``Recreate``) and each DaemonSet its ``maxSurge`` (default 0) per node;
  the surge column assumes every workload rolls at once (a change to a shared layer).

A workload whose pods fit several pools is spread greedily, one pod at a time, onto the
candidate with the most headroom left (pinned workloads first): an estimate of what the
scheduler does, flagged ``shared`` in its contribution. Workloads that fit no pool are
``unplaced`` (feasibility reports why); pools whose supply cannot be known have ``supply`` None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.checks.gpu.feasibility import Placement, placements
from gitops_gen.checks.gpu.supply import PoolSupply, pool_supply
from gitops_gen.fleetview.collect import ClusterView, FleetView

_PERCENT = re.compile(r"([0-9]+)%")
DEFAULT_DEPLOYMENT_SURGE = "25%"


@dataclass
class Contribution:
    """One workload's share of one resource on one pool."""

    app: str
    workload: str  # Kind/name or Kind/namespace/name
    pods: int
    per_pod: int
    surge_pods: int
    shared: bool = False  # the workload could also run on other pools

    @property
    def steady(self) -> int:
        return self.pods * self.per_pod

    @property
    def surge(self) -> int:
        return (self.pods + self.surge_pods) * self.per_pod


@dataclass
class ResourceLine:
    resource: str
    per_node: int | None
    supply: int | None
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def steady(self) -> int:
        return sum(c.steady for c in self.contributions)

    @property
    def surge(self) -> int:
        return sum(c.surge for c in self.contributions)

    @property
    def headroom(self) -> int | None:
        return None if self.supply is None else self.supply - self.steady

    @property
    def surge_headroom(self) -> int | None:
        return None if self.supply is None else self.supply - self.surge

    @property
    def apps(self) -> list[str]:
        return list(dict.fromkeys(c.app for c in self.contributions))


@dataclass
class PoolLedger:
    name: str
    supply: PoolSupply
    lines: list[ResourceLine]

    @property
    def model(self) -> str:
        """The GPU model's title, else the product as written, else "" (no GPUs)."""
        if self.supply.model is not None:
            return self.supply.model.title
        return self.supply.product or ("unknown GPU" if self.supply.gpus else "")

    def line(self, resource: str) -> ResourceLine | None:
        return next((ln for ln in self.lines if ln.resource == resource), None)


@dataclass
class Unplaced:
    app: str
    workload: str
    pods: int
    demand: Mapping[str, int]
    status: str  # unschedulable | unknown
    reason: str


@dataclass
class ClusterLedger:
    name: str
    layers: dict[str, str]
    pools: list[PoolLedger]
    unplaced: list[Unplaced]

    def pool(self, name: str) -> PoolLedger:
        return next(p for p in self.pools if p.name == name)


@dataclass
class Total:
    """Fleet-wide figures for one resource, of one GPU model (``model`` "" for all models)."""

    model: str
    resource: str
    pools: int = 0
    gpus: int = 0  # physical GPUs behind the resource
    supply: int = 0
    steady: int = 0
    surge: int = 0
    unknown_pools: int = 0

    @property
    def headroom(self) -> int:
        return self.supply - self.steady

    @property
    def surge_headroom(self) -> int:
        return self.supply - self.surge


@dataclass
class Ledger:
    clusters: list[ClusterLedger]
    by_model: list[Total]
    by_resource: list[Total]

    def cluster(self, name: str) -> ClusterLedger:
        return next(c for c in self.clusters if c.name == name)


# ---------------------------------------------------------------- surge


def _scaled(value: Any, pods: int, default: str) -> int:
    """An IntOrString like maxSurge applied to POD count, percentages rounded up."""
    raw = default if value is None else value
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return max(raw, 0)
    m = _PERCENT.fullmatch(str(raw).strip())
    if m:
        return math.ceil(pods * int(m.group(1)) / 100)
    return int(str(raw)) if str(raw).isdigit() else 0


def surge_pods(obj: Mapping[str, Any], pods: int) -> int:
    """Extra pods a rolling update of OBJ runs at once (per node for a DaemonSet)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    kind = obj.get("kind")
    if kind == "Deployment":
        strategy = spec.get("strategy") if isinstance(spec.get("strategy"), Mapping) else {}
        assert isinstance(strategy, Mapping)
        if strategy.get("type") == "Recreate" or pods == 0:
            return 0
        rolling = strategy.get("rollingUpdate") if isinstance(strategy.get("rollingUpdate"), Mapping) else {}
        assert isinstance(rolling, Mapping)
        return _scaled(rolling.get("maxSurge"), pods, DEFAULT_DEPLOYMENT_SURGE)
    if kind == "DaemonSet":
        strategy = spec.get("updateStrategy") if isinstance(spec.get("updateStrategy"), Mapping) else {}
        assert isinstance(strategy, Mapping)
        rolling = strategy.get("rollingUpdate") if isinstance(strategy.get("rollingUpdate"), Mapping) else {}
        assert isinstance(rolling, Mapping)
        # Up to maxSurge nodes (of PODS, the DaemonSet's nodes) run a new pod next to the old one.
        return min(pods, _scaled(rolling.get("maxSurge"), pods, "0"))
    # StatefulSets replace pods one at a time (old pod first); Jobs and Pods do not roll.
    return 0


# ---------------------------------------------------------------- the ledger


def _label(ref: tuple[str, str, str]) -> str:
    return "/".join(x for x in ref if x)


def _owners(view: ClusterView) -> dict[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    out: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    for app in view.apps.values():
        for obj in app.objects:
            md = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
            assert isinstance(md, Mapping)
            out.setdefault(
                (str(obj.get("kind", "")), str(md.get("namespace") or ""), str(md.get("name", ""))),
                (app.name, obj),
            )
    return out


def cluster_ledger(view: ClusterView) -> ClusterLedger:
    pools = [p for p in view.cluster.node_pools if isinstance(p, Mapping)]
    supplies = [pool_supply(p) for p in pools]
    ledgers = [
        PoolLedger(s.name, s, [ResourceLine(r, n, s.nodes * n) for r, n in s.resources.items()])
        for s in supplies
    ]
    by_name = {p.name: p for p in ledgers}
    owners = _owners(view)
    unplaced: list[Unplaced] = []
    placed = placements(view.objects(), pools)
    # Pinned workloads first, so that flexible ones spread over what is really left.
    for place in sorted(placed, key=lambda p: len(p.pools) > 1):
        app, obj = owners.get(place.obj, ("", {}))
        if place.status != "placed":
            unplaced.append(
                Unplaced(app, _label(place.obj), place.pods, dict(place.demand), place.status, place.reason)
            )
            continue
        _account(place, app, obj, [by_name[n] for n in place.pools])
    for pool in ledgers:
        for line in pool.lines:
            line.contributions.sort(key=lambda c: (c.app, c.workload))
        # Resources the pool does not advertise but someone asked for never happen (placement), so lines
        # are exactly the advertised resources.
    return ClusterLedger(view.name, dict(view.cluster.layers), ledgers, unplaced)


def _line(pool: PoolLedger, resource: str) -> ResourceLine:
    found = pool.line(resource)
    if found is None:  # not advertised (cannot happen for a placed workload); keep the ledger whole
        found = ResourceLine(resource, 0, 0)
        pool.lines.append(found)
    return found


def _account(place: Placement, app: str, obj: Mapping[str, Any], pools: list[PoolLedger]) -> None:
    label = _label(place.obj)
    if place.kind == "DaemonSet":
        for pool in pools:
            nodes = pool.supply.nodes
            for resource, per_pod in place.demand.items():
                _line(pool, resource).contributions.append(
                    Contribution(app, label, nodes, per_pod, surge_pods(obj, nodes))
                )
        return
    surge = surge_pods(obj, place.pods)
    shared = len(pools) > 1
    steady_split = _spread(place, pools, place.pods, surge=False)
    surge_split = _spread(place, pools, surge, surge=True, taken=steady_split)
    for pool in pools:
        pods, extra = steady_split.get(pool.name, 0), surge_split.get(pool.name, 0)
        if not pods and not extra:
            continue
        for resource, per_pod in place.demand.items():
            _line(pool, resource).contributions.append(Contribution(app, label, pods, per_pod, extra, shared))


def _spread(
    place: Placement, pools: list[PoolLedger], pods: int, surge: bool, taken: dict[str, int] | None = None
) -> dict[str, int]:
    """Pods per pool: each pod onto the pool with the most headroom left for the first resource."""
    if len(pools) == 1:
        return {pools[0].name: pods} if pods else {}
    resource, per_pod = next(iter(place.demand.items()))
    left = {}
    for pool in pools:
        line = _line(pool, resource)
        used = line.surge if surge else line.steady
        # The workload's own steady pods are not in the lines yet when its surge is spread.
        mine = (taken or {}).get(pool.name, 0) * per_pod
        left[pool.name] = (line.supply or 0) - used - mine
    out: dict[str, int] = {}
    for _ in range(pods):
        best = max(pools, key=lambda p: left[p.name])  # ties: the first declared pool
        out[best.name] = out.get(best.name, 0) + 1
        left[best.name] -= per_pod
    return out


def _totals(clusters: list[ClusterLedger]) -> tuple[list[Total], list[Total]]:
    by_model: dict[tuple[str, str], Total] = {}
    by_resource: dict[str, Total] = {}
    for cluster in clusters:
        for pool in cluster.pools:
            if not pool.supply.gpus:
                continue
            targets = [(pool.model, line) for line in pool.lines]
            if not pool.supply.known:
                unknown = by_model.setdefault((pool.model, "?"), Total(pool.model, "?"))
                unknown.pools += 1
                unknown.unknown_pools += 1
                unknown.gpus += pool.supply.nodes * pool.supply.gpus
                continue
            for model, line in targets:
                for total in (
                    by_model.setdefault((model, line.resource), Total(model, line.resource)),
                    by_resource.setdefault(line.resource, Total("", line.resource)),
                ):
                    total.pools += 1
                    total.gpus += pool.supply.nodes * pool.supply.gpus
                    total.supply += line.supply or 0
                    total.steady += line.steady
                    total.surge += line.surge
    models = sorted(by_model.values(), key=lambda t: (t.model, t.resource))
    resources = sorted(by_resource.values(), key=lambda t: (t.resource != "nvidia.com/gpu", t.resource))
    return models, resources


def ledger(fleet: FleetView) -> Ledger:
    clusters = [cluster_ledger(view) for view in fleet.clusters]
    models, resources = _totals(clusters)
    return Ledger(clusters, models, resources)
