"""GPU feasibility of a cluster's rendered objects against its declared node pools.

``check_cluster(objects, pools)`` returns findings; it never raises on odd input
(malformed objects are the schema checks' business, here they are skipped).

Rules (stable ids; severity in brackets):

Pool declaration (obj ``("NodePool", "", <pool name>)``, field a path inside
cluster.yaml starting ``("spec", "nodePools", <index>, ...)``):
  gpu-pool-config-invalid [error|warning]  impossible pool: mig.config that does not exist for the
                                           model, MIG config on a non-MIG GPU, a mixed layout or
                                           all-enabled under single, bad counts; warning for a MIG
                                           config under strategy none or all-enabled under mixed
  gpu-model-unknown      [warning]  MIG is configured on a GPU whose product / MIG profiles we do not know
  mig-config-unknown     [warning]  a custom mig-parted config whose layout cannot be known

Containers (field = the ``resources.limits.<name>`` value, or ``requests`` where that is the culprit):
  gpu-resource-unknown   [error]    an nvidia.com/gpu* or nvidia.com/mig-* name the plugin never advertises
  gpu-resource-shared    [warning]  ``.shared`` names need ``renameByDefault``, which cluster.yaml cannot express
  gpu-quantity-not-integer [error]  not a non-negative whole number ("500m", 0.5, "abc")
  gpu-request-not-limit  [error]    request without limit, or request != limit
  gpu-mixed-resources    [warning]  one container asks for two NVIDIA resource types (only one set is visible)

Pods against pools (field = the resource limit, or the selector requirement for selector rules):
  gpu-resource-not-advertised [error] no selected pool advertises nvidia.com/gpu (or all requested
                                      resources on one node)
  mig-profile-not-on-gpu      [error] the MIG profile does not exist on the selected pools' GPU models
  mig-strategy-not-mixed      [error] the model has the profile but the pool's strategy is single / none,
                                      where nvidia.com/mig-* resources do not exist
  mig-profile-not-configured  [error] mixed pool, model has the profile, but mig.config does not create it
  gpu-selector-no-pool        [error] nodeSelector / required affinity matches no pool (at least one pool
                                      could supply the resources); field = the first failing requirement
  gpu-supply-unknown          [warning] only pools whose GPU resources are unknown (see the three pool
                                      rules) could run the pod, so it is not checked further
  gpu-selector-unverifiable   [warning] only pools on which the selector depends on GFD/NFD labels we do
                                      not model (gpu.family, gpu.memory, ...) could run the pod
  gpu-pod-too-large           [error] the pod's effective request exceeds one node of every selected pool
  gpu-daemonset-partial       [warning] a DaemonSet selects pools some of whose nodes cannot run its pod
  gpu-shared-request-gt-one   [warning] request > 1 of a time-sliced resource (no extra compute; rejected
                                      when failRequestsGreaterThanOne is set)
  gpu-capacity-exceeded       [error] replicas x per-pod GPUs exceed what the candidate pools supply;
                                      field: ``spec.replicas`` / Job ``parallelism`` (``completions``
                                      when that caps it) / CronJob ``jobTemplate.spec.parallelism`` when
                                      set in the object, else the GPU limit (Pods, DaemonSets, defaults)
  gpu-capacity-rollout        [warning] steady state fits, a rolling update's surge on top of an HPA's
                                      maxReplicas does not
  gpu-capacity-autoscale      [warning] steady state fits, the kind's own autoscaler maximum (KServe
                                      maxReplicas, Knative max-scale, Ray maxReplicas) does not

Workloads: every kind of the workload table (``kube``, ``gitops_gen/data/workloads.json``):
Pod, Deployment, StatefulSet, ReplicaSet, ReplicationController, DaemonSet (one pod
per node of each pool it fits), Job and CronJob (concurrent pods = parallelism,
default 1, capped by completions; one Job per CronJob), and the custom resources
GPU fleets run, each pod template with its own pods. Not modelled:
taints/tolerations (cluster.yaml declares none), spec.nodeName, suspended Jobs,
pod overhead. ``matchFields`` is ignored.
Selectors on kubelet/cloud labels (kubernetes.io/*, topology.kubernetes.io/*,
node.kubernetes.io/*) that a pool does not declare are assumed to match.

Capacity approach (per resource name): every workload has a candidate pool set
(selected pools whose one node fits the pod). For every union U of candidate
sets, the demand of the workloads whose candidates lie inside U (plus DaemonSet
pods on U's nodes) must not exceed U's total supply (Hall's condition for the
fluid relaxation; exact as a necessary condition, so any error is real). The
minimal violating unions are reported, one finding per workload in them. With
more than 10 distinct candidate sets only the connected components are checked
(still no false errors, some overloads missed).
Node-level packing (fragmentation) is not modelled. Workloads that could land on
a pool with unknown supply are left out (no false errors).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from gitops_gen import kube
from gitops_gen.checks.gpu import rules
from gitops_gen.checks.gpu.catalog import (
    GPU_RESOURCE,
    MIG_PREFIX,
    classify_resource,
    profile_for_resource,
    resource_suffix,
)
from gitops_gen.checks.gpu.equivalent import nearest_profile
from gitops_gen.checks.gpu.nodeselect import (
    UnknownKey,
    evaluate,
    first_mismatch,
    has_node_selection,
    selector_keys,
)
from gitops_gen.checks.gpu.supply import PoolSupply, pool_label_unknown, pool_supply
from gitops_gen.checks.model import Rule
from gitops_gen.repo.yamlio import NodePath

# The command that rewrites a profile; validate fills in --app/--layer from the file it points at.
SET_MIG_PROFILE = "gitops-gen set mig-profile --app APP --layer KEY=VALUE"
ObjRef = tuple[str, str, str]


@dataclass(frozen=True)
class Finding:
    """One feasibility problem, located by a path inside the object (see module docstring)."""

    rule: str
    severity: str  # "error" | "warning"
    message: str
    obj: ObjRef
    field: NodePath


# Labels the kubelet / cloud provider always sets with values the inventory does not
# model (os, arch, hostname, zone, instance type): assumed to match, silently, so
# that the ubiquitous `kubernetes.io/os: linux` does not drown real findings.
_KUBELET_PREFIXES = (
    "kubernetes.io/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "beta.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
)

_QUANTITY = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?"
)
_SUFFIX = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}  # fmt: skip


def parse_quantity(value: Any) -> Fraction | None:
    """A Kubernetes quantity (YAML int / float / string such as "1", "500m", "1e3") as an exact number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _QUANTITY.fullmatch(value.strip())
    if not m:
        return None
    number, suffix = Fraction(m.group(1)), m.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return number * Fraction(10) ** int(suffix[1:])
    return number * _SUFFIX[suffix]


@dataclass(frozen=True)
class _Entry:
    """One container's demand for one GPU resource."""

    resource: str
    quantity: int
    path: NodePath  # absolute path of the value responsible (limit, else request)
    init: bool
    sidecar: bool
    order: int  # position among init containers (for sidecars started before an init container)


@dataclass
class _Workload:
    obj: ObjRef
    kind: str
    pod_path: NodePath
    pod_spec: Mapping[str, Any]
    pods: int
    count_path: NodePath | None
    entries: list[_Entry]
    demand: dict[str, tuple[int, NodePath]]  # resource -> (effective pod request, path to blame)
    peak: int = 0  # pods at the worst moment: autoscaler maximum plus rolling-update surge
    peak_why: str = ""  # how the peak comes about, for the message
    peak_path: NodePath | None = None  # what to blame for it (maxSurge, maxReplicas)
    most: int | None = (
        None  # pods the kind's own autoscaler may reach (KServe, Knative, Ray), when above pods
    )
    most_path: NodePath | None = None  # the field that sets that maximum


# What one object's content alone gives (its unchecked-request and workload findings, its workloads
# before the cluster's autoscalers and pools are applied), by the object's content key.
ObjectWorkloads = dict[bytes, tuple[list[Finding], list[_Workload]]]


def check_cluster(
    objects: list[dict[str, Any]],
    pools: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], bytes | None] | None = None,
    seen: ObjectWorkloads | None = None,
) -> list[Finding]:
    """All GPU feasibility findings for one cluster's rendered objects against its pools. KEY: the
    caller's content key of an object (marshal bytes), if it has one, so the object is not serialised
    again; SEEN carries each keyed object's workloads from cluster to cluster (clusters share most)."""
    findings: list[Finding] = []
    supplies: list[PoolSupply] = []
    for index, pool in enumerate(pools):
        if not isinstance(pool, Mapping):
            continue
        supply = pool_supply(pool)
        supplies.append(supply)
        for issue in supply.issues:
            field = ("spec", "nodePools", index, *issue.field)
            findings.append(
                Finding(issue.rule, issue.severity, issue.message, ("NodePool", "", supply.name), field)
            )

    placed: list[tuple[_Workload, list[PoolSupply]]] = []
    hpas = _autoscalers(objects)
    for obj in objects:
        content = key(obj) if key is not None and isinstance(obj, dict) else None
        if content is not None and kube.GPU_BYTES not in content:
            continue  # every GPU resource name starts with nvidia.com/: nothing here is asked for
        known = seen.get(content) if seen is not None and content is not None else None
        if known is None:
            own: list[Finding] = _unchecked(obj, content) if isinstance(obj, Mapping) else []
            known = (own, _workloads(obj, own))
            if seen is not None and content is not None:
                seen[content] = known
        findings.extend(known[0])
        for template in known[1]:
            if not template.demand:
                continue
            workload = replace(template)  # the peak below is this cluster's
            _set_peak(workload, obj, hpas)
            candidates = _place(workload, supplies, findings)
            if candidates is not None:
                placed.append((workload, candidates))
    findings.extend(_capacity(placed))
    return findings


@dataclass(frozen=True)
class Placement:
    """Where one GPU workload can run, for views that account demand (the fleet report).

    ``pods``: pods at once (DaemonSet: per node); ``demand``: effective per-pod request per
    resource; ``pools``: candidate pools that can each hold one pod; ``status`` "placed",
    "unschedulable" (no pool can run it) or "unknown" (only pools of unknown supply could);
    ``reason``: the first error or warning that says why it is not placed.
    """

    obj: ObjRef
    kind: str
    pods: int
    demand: Mapping[str, int]
    pools: tuple[str, ...]
    status: str
    reason: str = ""


def placements(objects: list[dict[str, Any]], pools: list[dict[str, Any]]) -> list[Placement]:
    """Every GPU workload of OBJECTS with its candidate pools (the placement ``check_cluster`` uses)."""
    supplies = [pool_supply(p) for p in pools if isinstance(p, Mapping)]
    out: list[Placement] = []
    for obj in objects:
        scratch: list[Finding] = []
        for workload in _workloads(obj, scratch):
            if workload.demand:
                out.append(_placement(workload, supplies, scratch))
    return out


def _placement(workload: _Workload, supplies: list[PoolSupply], scratch: list[Finding]) -> Placement:
    before = len(scratch)
    candidates = _place(workload, supplies, scratch)
    demand = {r: q for r, (q, _) in workload.demand.items()}
    if candidates is not None:
        return Placement(
            workload.obj, workload.kind, workload.pods, demand, tuple(p.name for p in candidates), "placed"
        )
    why = scratch[before:]
    status = "unknown" if any(f.rule == rules.GPU_SUPPLY_UNKNOWN.id for f in why) else "unschedulable"
    reason = next((f.message for f in why if f.severity == "error"), why[0].message if why else "")
    return Placement(workload.obj, workload.kind, workload.pods, demand, (), status, reason)


# --- workloads ---------------------------------------------------------------------------------


def _unchecked(obj: Mapping[str, Any], key: bytes | None = None) -> list[Finding]:
    """A warning for NVIDIA requests outside every container the table knows of OBJ's kind."""
    paths = kube.unchecked_gpu_paths(obj, key)
    if not paths:
        return []
    ref = _obj_ref(obj)
    return [
        Finding(
            rules.GPU_REQUEST_UNCHECKED.id,
            "warning",
            f"not checked: {ref[0]}/{ref[2]} asks for {paths[0][-1]} in a place gitops-gen does not know "
            "(add the kind to gitops_gen/data/workloads.json)",
            ref,
            paths[0],
        )
    ]


def _get(node: Any, path: NodePath) -> Any:
    for key in path:
        if isinstance(node, Mapping) and isinstance(key, str):
            node = node.get(key)
        else:
            return None
    return node


def _obj_ref(obj: Mapping[str, Any]) -> ObjRef:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def _workloads(obj: Any, findings: list[Finding]) -> list[_Workload]:
    """One workload per pod template of OBJ (kube's table: built-in kinds and known custom resources)."""
    if not isinstance(obj, Mapping):
        return []
    ref = _obj_ref(obj)
    out = []
    for template in kube.pod_templates(obj):
        kind = "DaemonSet" if template.per_node else ref[0]
        entries = _entries(ref, template, findings)
        out.append(
            _Workload(
                ref,
                kind,
                template.path,
                template.spec,
                template.pods,
                template.count_path,
                entries,
                _effective(entries),
                most=template.max_pods if (template.max_pods or 0) > template.pods else None,
                most_path=template.max_path,
            )
        )
    return out


def _entries(ref: ObjRef, template: kube.PodTemplate, findings: list[Finding]) -> list[_Entry]:
    entries: list[_Entry] = []
    for container in kube.containers(template, ("initContainers", "containers")):
        init = container.section == "initContainers"
        sidecar = init and container.container.get("restartPolicy") == "Always"
        found = _container(
            ref, container.resources_path, container.container.get(container.resources_key), findings
        )
        entries.extend(_Entry(r, q, p, init, sidecar, container.index) for r, q, p in found)
        named = [(r, p) for r, q, p in found if q > 0]
        if len({r for r, _ in named}) > 1:
            names = ", ".join(dict.fromkeys(r for r, _ in named))
            findings.append(
                Finding(
                    rules.GPU_MIXED_RESOURCES.id,
                    "warning",
                    f"container {container.name} asks for several NVIDIA resources ({names}): only "
                    "mixed-strategy nodes offer them together, and the container sees only one resource's devices",
                    ref,
                    named[1][1],
                )
            )
    return entries


def _container(
    ref: ObjRef, base: NodePath, resources: Any, findings: list[Finding]
) -> list[tuple[str, int, NodePath]]:
    """(resource, quantity, path) for every GPU resource of one container, reporting bad values."""
    if not isinstance(resources, Mapping):
        return []
    limits = resources.get("limits") if isinstance(resources.get("limits"), Mapping) else {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), Mapping) else {}
    assert isinstance(limits, Mapping) and isinstance(requests, Mapping)
    out: list[tuple[str, int, NodePath]] = []
    for name in dict.fromkeys([*limits, *requests]):
        if not isinstance(name, str):
            continue
        kind = classify_resource(name)
        if kind is None:
            continue
        where = "limits" if name in limits else "requests"
        path = (*base, where, name)
        if kind == "invalid":
            findings.append(Finding(rules.GPU_RESOURCE_UNKNOWN.id, "error", _invalid_name(name), ref, path))
            continue
        if kind == "shared":
            findings.append(
                Finding(
                    rules.GPU_RESOURCE_SHARED.id,
                    "warning",
                    f"{name} exists only with time-slicing renameByDefault: true, which cluster.yaml does not "
                    "declare; without it the plugin advertises the resource without .shared",
                    ref,
                    path,
                )
            )
            continue
        limit = _quantity(ref, (*base, "limits", name), limits, name, findings)
        request = _quantity(ref, (*base, "requests", name), requests, name, findings)
        if name in requests and name not in limits:
            findings.append(
                Finding(
                    rules.GPU_REQUEST_NOT_LIMIT.id,
                    "error",
                    f"{name} is requested without a limit; extended resources cannot be overcommitted, set "
                    f"limits.{name} (the request then defaults to it)",
                    ref,
                    (*base, "requests", name),
                )
            )
        elif limit is not None and request is not None and limit != request:
            findings.append(
                Finding(
                    rules.GPU_REQUEST_NOT_LIMIT.id,
                    "error",
                    f"{name}: request {_show(request)} must equal the limit {_show(limit)} (no overcommit of "
                    "extended resources)",
                    ref,
                    (*base, "requests", name),
                )
            )
        amount = limit if limit is not None else request
        if amount is not None and amount > 0:
            # Round up so that the remaining checks still see the resource the user meant.
            out.append((name, math.ceil(amount), path))
    return out


def _quantity(
    ref: ObjRef, path: NodePath, values: Mapping[str, Any], name: str, findings: list[Finding]
) -> Fraction | None:
    if name not in values:
        return None
    raw = values[name]
    value = parse_quantity(raw)
    if value is None or value < 0 or value.denominator != 1:
        what = "not a valid quantity" if value is None else "not a non-negative whole number"
        findings.append(
            Finding(
                rules.GPU_QUANTITY_NOT_INTEGER.id,
                "error",
                f"{name}: {raw!r} is {what}; GPU and MIG resources are counted in whole devices",
                ref,
                path,
            )
        )
        return value if value is not None and value > 0 else None
    return value


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def _invalid_name(name: str) -> str:
    if name.startswith(MIG_PREFIX) and re.match(r"[0-9]+c\.", name[len(MIG_PREFIX) :]):
        return f"{name}: compute-instance profiles are never advertised by the device plugin; request the GPU-instance profile"
    return (
        f"{name} is not a resource the NVIDIA device plugin advertises (nvidia.com/gpu, or "
        "nvidia.com/mig-<G>g.<M>gb[.attr] under mig.strategy mixed)"
    )


def _effective(entries: list[_Entry]) -> dict[str, tuple[int, NodePath]]:
    """Effective pod request per resource: max(app containers + sidecars, each init + earlier sidecars)."""
    demand: dict[str, tuple[int, NodePath]] = {}
    for resource in dict.fromkeys(e.resource for e in entries):
        mine = [e for e in entries if e.resource == resource]
        steady = [e for e in mine if not e.init or e.sidecar]
        best = (sum(e.quantity for e in steady), _largest(steady))
        for e in mine:
            if e.init and not e.sidecar:
                before = [s for s in mine if s.sidecar and s.order < e.order]
                need = e.quantity + sum(s.quantity for s in before)
                if need > best[0]:
                    best = (need, e.path)
        if best[0] > 0 and best[1] is not None:
            demand[resource] = (best[0], best[1])
    return demand


def _largest(entries: list[_Entry]) -> NodePath | None:
    return max(entries, key=lambda e: e.quantity).path if entries else None


# --- placement ---------------------------------------------------------------------------------


def _kubelet_key(key: str) -> bool:
    return key.startswith(_KUBELET_PREFIXES)


def _selection(workload: _Workload, supply: PoolSupply) -> str:
    """Whether the pod selects the pool: "yes", "maybe" (depends on unmodelled GPU labels) or "no"."""

    def all_unknown(key: str) -> bool:
        return _kubelet_key(key) or pool_label_unknown(supply, key)

    spec, labels = workload.pod_spec, supply.labels
    if evaluate(spec, labels, all_unknown) is False:
        return "no"
    return "yes" if evaluate(spec, labels, _kubelet_key) is not False else "maybe"


def _supplies(supply: PoolSupply, demand: Mapping[str, tuple[int, NodePath]]) -> bool:
    return all(supply.resources.get(r, 0) > 0 for r in demand)


def _fits(supply: PoolSupply, demand: Mapping[str, tuple[int, NodePath]]) -> bool:
    return all(supply.resources.get(r, 0) >= q for r, (q, _) in demand.items())


def _place(workload: _Workload, pools: list[PoolSupply], findings: list[Finding]) -> list[PoolSupply] | None:
    """Check where the pod can run; returns its candidate pools for capacity, or None to leave it out."""
    demand = workload.demand
    state = {p.name: _selection(workload, p) for p in pools}
    selected = [p for p in pools if state[p.name] != "no"]
    unknown = [p for p in selected if not p.known]
    supplying = [p for p in selected if p.known and _supplies(p, demand)]

    if not selected and has_node_selection(workload.pod_spec):
        findings.append(_no_pool(workload, pools))
        if not any(p.known and _supplies(p, demand) for p in pools):
            findings.extend(_diagnose(workload, pools, pools, scoped=False))
        return None
    if not supplying:
        if unknown:
            findings.append(_unverified(workload, unknown))
        else:
            findings.extend(
                _diagnose(workload, selected, pools, scoped=has_node_selection(workload.pod_spec))
            )
        return None
    if all(state[p.name] == "maybe" for p in supplying) and not unknown:
        findings.append(_maybe(workload, supplying))
    fitting = [p for p in supplying if _fits(p, demand)]
    if not fitting:
        if unknown:
            findings.append(_unverified(workload, unknown))
        else:
            findings.append(_too_large(workload, supplying))
        return None
    if workload.kind == "DaemonSet":
        stuck = [p for p in selected if state[p.name] == "yes" and p.known and p not in fitting]
        if stuck:
            findings.append(_daemonset_partial(workload, stuck))
    _shared_warning(workload, fitting, findings)
    return None if unknown else fitting


def _resource_path(workload: _Workload, resource: str) -> NodePath:
    for entry in workload.entries:
        if entry.resource == resource:
            return entry.path
    return workload.demand[resource][1]


def _no_pool(workload: _Workload, pools: list[PoolSupply]) -> Finding:
    demand = workload.demand
    relevant = [p for p in pools if p.known and _supplies(p, demand)] or [p for p in pools if p.gpus] or pools
    reasons: list[str] = []
    field: NodePath | None = None
    for supply in relevant[:4]:
        mismatch = first_mismatch(workload.pod_spec, supply.labels, _unknown_for(supply))
        if mismatch is None:
            continue
        if field is None:
            field = (*workload.pod_path, *mismatch.path)
        reasons.append(f"pool {supply.name}: {mismatch.reason}")
    if field is None:
        field = (*workload.pod_path, "nodeSelector" if workload.pod_spec.get("nodeSelector") else "affinity")
    wanted = ", ".join(f"{r}: {q}" for r, (q, _) in demand.items())
    scope = "pools that supply it" if relevant and _supplies(relevant[0], demand) else "GPU pools"
    return Finding(
        rules.GPU_SELECTOR_NO_POOL.id,
        "error",
        f"nodeSelector/affinity of a pod needing {wanted} matches no node pool; {scope}: "
        + "; ".join(reasons),
        workload.obj,
        field,
    )


def _unknown_for(supply: PoolSupply) -> UnknownKey:
    return lambda key: _kubelet_key(key) or pool_label_unknown(supply, key)


def _unverified(workload: _Workload, unknown: list[PoolSupply]) -> Finding:
    first = next(iter(workload.demand))
    names = "; ".join(f"{p.describe()}: {p.layout.reason or 'invalid pool declaration'}" for p in unknown)
    return Finding(
        rules.GPU_SUPPLY_UNKNOWN.id,
        "warning",
        f"cannot verify {first}: only pools whose GPU resources are unknown could run this pod ({names})",
        workload.obj,
        _resource_path(workload, first),
    )


def _maybe(workload: _Workload, supplying: list[PoolSupply]) -> Finding:
    supply = supplying[0]
    keys = [k for k in selector_keys(workload.pod_spec) if pool_label_unknown(supply, k)]
    mismatch = first_mismatch(workload.pod_spec, supply.labels, _kubelet_key)
    field = (*workload.pod_path, *mismatch.path) if mismatch else (*workload.pod_path, "nodeSelector")
    return Finding(
        rules.GPU_SELECTOR_UNVERIFIABLE.id,
        "warning",
        f"the selector depends on labels gitops-gen does not model ({', '.join(keys)}); cannot verify that it "
        f"matches pool {', '.join(p.name for p in supplying)}, the only pools supplying the pod's GPUs",
        workload.obj,
        field,
    )


_RANK = {
    rules.MIG_PROFILE_NOT_CONFIGURED.id: 0,
    rules.MIG_STRATEGY_NOT_MIXED.id: 1,
    rules.MIG_PROFILE_NOT_ON_GPU.id: 2,
    rules.GPU_RESOURCE_NOT_ADVERTISED.id: 3,
}


def _diagnose(
    workload: _Workload, selected: list[PoolSupply], pools: list[PoolSupply], scoped: bool
) -> list[Finding]:
    """Why none of ``selected`` supplies the pod's resources: one finding per missing resource."""
    findings: list[Finding] = []
    missing = [r for r in workload.demand if not any(p.known and p.resources.get(r, 0) > 0 for p in selected)]
    for resource in missing:
        reasons = [_why_not(resource, p) for p in selected]
        rule = min(
            (r for r, _ in reasons), key=_RANK.__getitem__, default=rules.GPU_RESOURCE_NOT_ADVERTISED.id
        )
        detail = "; ".join(text for _, text in reasons) or "the cluster declares no node pools"
        elsewhere = [
            p.name for p in pools if p not in selected and p.known and p.resources.get(resource, 0) > 0
        ]
        hint = (
            f" (pool {', '.join(elsewhere)} supplies it but the pod's selector excludes it)"
            if elsewhere
            else ""
        )
        scope = "no pool selected by the pod" if scoped else "no pool"
        findings.append(
            Finding(
                rule,
                "error",
                f"{resource}: {scope} advertises it: {detail}{hint}",
                workload.obj,
                _resource_path(workload, resource),
            )
        )
    if not missing:
        names = ", ".join(workload.demand)
        detail = "; ".join(f"{p.name} offers {_offer(p)}" for p in selected)
        first = next(iter(workload.demand))
        findings.append(
            Finding(
                rules.GPU_RESOURCE_NOT_ADVERTISED.id,
                "error",
                f"no node of one pool advertises all of {names} together: {detail}",
                workload.obj,
                _resource_path(workload, first),
            )
        )
    return findings


def _offer(supply: PoolSupply) -> str:
    return ", ".join(f"{r} {n}" for r, n in supply.resources.items()) or "no GPU resources"


def _why_not(resource: str, supply: PoolSupply) -> tuple[str, str]:
    """(rule, explanation) for why one pool does not advertise ``resource``."""
    name = supply.name
    if not supply.gpus:
        return rules.GPU_RESOURCE_NOT_ADVERTISED.id, f"pool {name} has no GPUs"
    if resource == GPU_RESOURCE:
        return (
            rules.GPU_RESOURCE_NOT_ADVERTISED.id,
            f"pool {name} ({supply.strategy} {supply.config or 'all-disabled'}) advertises "
            + (f"only {_offer(supply)}" if supply.resources else "no GPU resources"),
        )
    model, product = supply.model, supply.product or "unknown GPU"
    suffix = resource[len(MIG_PREFIX) :]
    if model is None or model.mig == "unknown":
        return rules.GPU_RESOURCE_NOT_ADVERTISED.id, f"pool {name}: MIG profiles of {product} are unknown"
    if model.mig == "no":
        return rules.MIG_PROFILE_NOT_ON_GPU.id, f"pool {name}: {product} does not support MIG"
    profile = profile_for_resource(model, resource)
    if profile is None:
        profiles = ", ".join(resource_suffix(p) for p in model.profiles)
        nearest = nearest_profile(suffix, model)
        hint = (
            f"; nearest equivalent on {model.title}: {nearest} ({SET_MIG_PROFILE} {suffix} {nearest})"
            if nearest
            else ""
        )
        return (
            rules.MIG_PROFILE_NOT_ON_GPU.id,
            f"pool {name}: profile {suffix} does not exist on {product} (profiles: {profiles}){hint}",
        )
    if supply.strategy == "single":
        return (
            rules.MIG_STRATEGY_NOT_MIXED.id,
            f"pool {name} uses mig.strategy single, where MIG slices are advertised as nvidia.com/gpu "
            f"(select them with nvidia.com/gpu.product={product}-MIG-{suffix})",
        )
    if supply.strategy == "none":
        return (
            rules.MIG_STRATEGY_NOT_MIXED.id,
            f"pool {name} uses mig.strategy none, which advertises only whole GPUs as nvidia.com/gpu",
        )
    return (
        rules.MIG_PROFILE_NOT_CONFIGURED.id,
        f"pool {name}: {product} has {suffix} (up to {model.profiles[profile]} per GPU) but mig.config "
        f"{supply.config or 'all-disabled (default)'} provides {_offer(supply)}",
    )


def _too_large(workload: _Workload, supplying: list[PoolSupply]) -> Finding:
    over = [
        (r, q, p)
        for r, (q, p) in workload.demand.items()
        if not all(s.resources.get(r, 0) >= q for s in supplying)
    ]
    resource, quantity, path = (
        over[0] if over else (next(iter(workload.demand)), *workload.demand[next(iter(workload.demand))])
    )
    per_pool = "; ".join(f"{s.name}: {s.resources.get(resource, 0)} per node" for s in supplying)
    return Finding(
        rules.GPU_POD_TOO_LARGE.id,
        "error",
        f"one pod needs {resource}: {quantity} on a single node, but the most any node of the selected pools "
        f"offers is {max(s.resources.get(resource, 0) for s in supplying)} ({per_pool})",
        workload.obj,
        path,
    )


def _daemonset_partial(workload: _Workload, stuck: list[PoolSupply]) -> Finding:
    first = next(iter(workload.demand))
    wanted = ", ".join(f"{r}: {q}" for r, (q, _) in workload.demand.items())
    return Finding(
        rules.GPU_DAEMONSET_PARTIAL.id,
        "warning",
        f"DaemonSet pods needing {wanted} stay Pending on pool {', '.join(s.describe() for s in stuck)}, "
        "which its selector also matches",
        workload.obj,
        _resource_path(workload, first),
    )


def _shared_warning(workload: _Workload, fitting: list[PoolSupply], findings: list[Finding]) -> None:
    if not all(p.replicas > 1 for p in fitting):
        return
    for entry in workload.entries:
        if entry.quantity > 1:
            findings.append(
                Finding(
                    rules.GPU_SHARED_REQUEST_GT_ONE.id,
                    "warning",
                    f"{entry.resource}: {entry.quantity} on time-sliced pools ({', '.join(p.name for p in fitting)}) "
                    "gives no extra compute or isolation, and is rejected when failRequestsGreaterThanOne is set",
                    workload.obj,
                    entry.path,
                )
            )


# --- capacity ----------------------------------------------------------------------------------

# Rolling updates that start new pods before old ones stop, and their default maxSurge.
_SURGING = {
    ("apps", "Deployment"): ("spec", "strategy"),
    ("argoproj.io", "Rollout"): ("spec", "strategy", "canary"),
}
_DEFAULT_SURGE = "25%"


def _autoscalers(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[int, NodePath, str]]:
    """(namespace, kind, name) of each HPA target -> (maxReplicas, its path, the HPA's name)."""
    out: dict[tuple[str, str, str], tuple[int, NodePath, str]] = {}
    for obj in objects:
        if not isinstance(obj, Mapping) or obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
        assert isinstance(spec, Mapping)
        target = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), Mapping) else {}
        assert isinstance(target, Mapping)
        most = spec.get("maxReplicas")
        if isinstance(most, int) and not isinstance(most, bool):
            _, ns, name = _obj_ref(obj)
            out[(ns, str(target.get("kind", "")), str(target.get("name", "")))] = (
                most,
                ("spec", "maxReplicas"),
                name,
            )
    return out


def _surge(obj: Mapping[str, Any], pods: int) -> tuple[int, str, NodePath | None]:
    """Extra pods a rolling update of OBJ starts at PODS replicas: (count, maxSurge as written, its path)."""
    group = kube.group_of(obj.get("apiVersion"))
    where = _SURGING.get((group or "", str(obj.get("kind"))))
    if where is None:
        return 0, "", None
    strategy = _get(obj, where)
    if isinstance(strategy, Mapping) and strategy.get("type") == "Recreate":
        return 0, "", None
    path: NodePath = (
        (*where, "rollingUpdate", "maxSurge") if where[-1] == "strategy" else (*where, "maxSurge")
    )
    value = _get(obj, path)
    if value is None:
        value, path_set = _DEFAULT_SURGE, None
    else:
        path_set = path
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return math.ceil(pods * int(value[:-1]) / 100), value, path_set
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, str(value), path_set
    return 0, "", None


def _set_peak(
    workload: _Workload, obj: Any, hpas: Mapping[tuple[str, str, str], tuple[int, NodePath, str]]
) -> None:
    if not isinstance(obj, Mapping) or workload.kind == "DaemonSet":
        workload.peak = workload.pods
        return
    base, why, blame = workload.pods, [], None
    hpa = hpas.get((workload.obj[1], workload.obj[0], workload.obj[2]))
    if hpa is not None and hpa[0] > base:
        base, why = hpa[0], [f"HPA {hpa[2]} maxReplicas {hpa[0]}"]
    surge, written, surge_path = _surge(obj, base)
    if surge:
        why.append(f"maxSurge {written}")
        blame = surge_path
    workload.peak = base + surge
    workload.peak_why = " and ".join(why)
    workload.peak_path = blame


@dataclass(frozen=True)
class _Demand:
    workload: int  # index into the placed list
    amount: int
    pools: frozenset[str]
    detail: str


def _capacity(placed: list[tuple[_Workload, list[PoolSupply]]]) -> list[Finding]:
    findings: list[Finding] = []
    supply_by_name = {p.name: p for _, pools in placed for p in pools}
    resources = list(dict.fromkeys(r for w, _ in placed for r in w.demand))
    reported: set[tuple[int, str]] = set()
    for resource in resources:
        demands = _demands(placed, resource)
        for union in _violations(demands, supply_by_name, resource):
            inside = [d for d in demands if d.pools <= union]
            need = sum(d.amount for d in inside)
            pools = sorted(union)
            have = sum(supply_by_name[n].nodes * supply_by_name[n].resources.get(resource, 0) for n in pools)
            per_pool = "; ".join(
                f"{n}: {supply_by_name[n].nodes} x {supply_by_name[n].resources.get(resource, 0)}"
                f" = {supply_by_name[n].nodes * supply_by_name[n].resources.get(resource, 0)}"
                for n in pools
            )
            parts = "; ".join(d.detail for d in inside)
            where = f"pool{'s' if len(pools) > 1 else ''} {', '.join(pools)}"
            message = f"{resource}: needed {need}, available {have} on {where} ({per_pool}); demand: {parts}"
            for d in inside:
                if (d.workload, resource) in reported:
                    continue
                reported.add((d.workload, resource))
                workload = placed[d.workload][0]
                field = workload.count_path or workload.demand[resource][1]
                findings.append(
                    Finding(rules.GPU_CAPACITY_EXCEEDED.id, "error", message, workload.obj, field)
                )
    findings.extend(_rollout_capacity(placed, supply_by_name, reported))
    findings.extend(_autoscale_capacity(placed, supply_by_name, reported))
    return findings


def _autoscale_capacity(
    placed: list[tuple[_Workload, list[PoolSupply]]],
    supply_by_name: Mapping[str, PoolSupply],
    reported: set[tuple[int, str]],
) -> list[Finding]:
    """Warnings where the pools hold the steady state but not every autoscaled workload at its maximum
    (KServe maxReplicas, Knative max-scale, Ray maxReplicas), the others at their steady count."""
    return _beyond_steady(
        placed,
        supply_by_name,
        reported,
        rules.GPU_CAPACITY_AUTOSCALE,
        peak=False,
        grows=lambda w: w.most is not None,
        why=lambda ws: ", ".join(f"{'/'.join(x for x in w.obj if x)} up to {w.most}" for w in ws),
        text="{resource}: needed {need} with the autoscalers at their maximum ({why} pods), {where} has "
        "{have} (steady state fits); demand: {parts}",
        field=lambda w: w.most_path,
    )


def _rollout_capacity(
    placed: list[tuple[_Workload, list[PoolSupply]]],
    supply_by_name: Mapping[str, PoolSupply],
    reported: set[tuple[int, str]],
) -> list[Finding]:
    """Warnings where the pools hold the steady state but not the peak (surge, autoscaler maximum)."""
    return _beyond_steady(
        placed,
        supply_by_name,
        reported,
        rules.GPU_CAPACITY_ROLLOUT,
        peak=True,
        grows=lambda w: w.peak > w.pods,
        why=lambda ws: "; ".join(dict.fromkeys(w.peak_why for w in ws)),
        text="{resource}: needed {need} during a rollout with {why}, {where} has {have} "
        "(steady state fits); demand: {parts}",
        field=lambda w: w.peak_path or w.count_path,
    )


def _beyond_steady(
    placed: list[tuple[_Workload, list[PoolSupply]]],
    supply_by_name: Mapping[str, PoolSupply],
    reported: set[tuple[int, str]],
    rule: Rule,
    peak: bool,
    grows: Callable[[_Workload], bool],
    why: Callable[[list[_Workload]], str],
    text: str,
    field: Callable[[_Workload], NodePath | None],
) -> list[Finding]:
    """Warnings on the workloads that GROW past their steady count (PEAK: rollout surge and HPA maximum,
    else their own autoscaler's maximum) where the pools hold the steady state but not that; pools
    already short in steady state are left to the error."""
    findings: list[Finding] = []
    resources = list(dict.fromkeys(r for w, _ in placed for r in w.demand))
    for resource in resources:
        demands = _demands(placed, resource, peak=peak, most=not peak)
        for union in _violations(demands, supply_by_name, resource):
            inside = [d for d in demands if d.pools <= union]
            if any((d.workload, resource) in reported for d in inside):
                continue  # already short in steady state: the error says it
            growing = [d for d in inside if grows(placed[d.workload][0])]
            if not growing:
                continue
            pools = sorted(union)
            have = sum(supply_by_name[n].nodes * supply_by_name[n].resources.get(resource, 0) for n in pools)
            message = text.format(
                resource=resource,
                need=sum(d.amount for d in inside),
                why=why([placed[d.workload][0] for d in growing]),
                where=f"pool{'s' if len(pools) > 1 else ''} {', '.join(pools)}",
                have=have,
                parts="; ".join(d.detail for d in inside),
            )
            for d in growing:
                workload = placed[d.workload][0]
                findings.append(
                    Finding(
                        rule.id,
                        "warning",
                        message,
                        workload.obj,
                        field(workload) or workload.demand[resource][1],
                    )
                )
    return findings


def _demands(
    placed: list[tuple[_Workload, list[PoolSupply]]], resource: str, peak: bool = False, most: bool = False
) -> list[_Demand]:
    out: list[_Demand] = []
    for index, (workload, pools) in enumerate(placed):
        if resource not in workload.demand:
            continue
        per_pod = workload.demand[resource][0]
        name = "/".join(x for x in workload.obj if x)
        if workload.kind == "DaemonSet":
            # One pod on every node of each pool it runs on: demand pinned to that pool.
            for p in pools:
                amount = per_pod * p.nodes
                out.append(
                    _Demand(
                        index, amount, frozenset([p.name]), f"{name} {p.nodes} nodes x {per_pod} = {amount}"
                    )
                )
        elif _pods(workload, peak, most) > 0:
            pods = _pods(workload, peak, most)
            amount = per_pod * pods
            out.append(
                _Demand(
                    index,
                    amount,
                    frozenset(p.name for p in pools),
                    f"{name} {pods} x {per_pod} = {amount}",
                )
            )
    return out


def _pods(workload: _Workload, peak: bool, most: bool) -> int:
    if most and workload.most is not None:
        return workload.most
    return workload.peak if peak else workload.pods


def _violations(
    demands: list[_Demand], supplies: Mapping[str, PoolSupply], resource: str
) -> list[frozenset[str]]:
    """Minimal pool sets (unions of candidate sets) whose demand exceeds their supply."""
    by_set: dict[frozenset[str], int] = {}
    for d in demands:
        by_set[d.pools] = by_set.get(d.pools, 0) + d.amount
    unions = _unions(sorted(by_set, key=lambda s: (len(s), sorted(s))))

    def need(u: frozenset[str]) -> int:
        return sum(amount for pools, amount in by_set.items() if pools <= u)

    def have(u: frozenset[str]) -> int:
        return sum(supplies[n].nodes * supplies[n].resources.get(resource, 0) for n in u)

    bad: list[frozenset[str]] = []
    for union in sorted(unions, key=lambda s: (len(s), sorted(s))):
        if need(union) > have(union) and not any(b < union for b in bad):
            bad.append(union)
    return bad


def _unions(sets: list[frozenset[str]]) -> set[frozenset[str]]:
    """All unions of the candidate sets; past 10 distinct sets, only connected components (still sound)."""
    if len(sets) <= 10:
        unions: set[frozenset[str]] = set()
        for s in sets:
            unions |= {s} | {s | u for u in unions}
        return unions
    components: list[frozenset[str]] = []
    for s in sets:
        overlapping = [c for c in components if c & s]
        merged = frozenset(s).union(*overlapping)
        components = [c for c in components if not (c & s)] + [merged]
    return set(sets) | set(components)


def iter_rules() -> Iterable[str]:
    """Every rule id this module can emit (for docs and tests)."""
    return tuple(rule.id for rule in rules.RULES)
