"""Facts about Kubernetes objects every check shares: where pods and containers are, and scope.

One walker finds the pod templates of a workload and the containers inside them, for the
built-in workload kinds and the custom resources GPU fleets run (KServe, Kubeflow, Ray,
JobSet, LeaderWorkerSet, Argo Rollouts, Knative, Volcano). The kinds live in one data table,
``gitops_gen/data/workloads.json``; each entry names its source. Per kind, ``templates`` lists:

- ``pod``: the path of a pod spec (``"*"`` stands for every key of a mapping or item of a list);
- ``containers``: paths, relative to the pod, of single containers kept outside ``containers``
  (KServe's ``predictor.model``; ``[]`` is the pod path itself, as for a TrainJob's trainer);
- ``resources``: the key holding a container's resource requirements (default ``resources``);
- ``factors``: numbers multiplied to give the pods running at once; each takes the first of its
  ``paths`` that is set, else ``default``; ``capBy`` caps it (a Job's completions), ``floorBy``
  then raises it to that path's value (Ray's minReplicas), ``atLeast`` raises it to a number,
  ``lessOneIf`` subtracts one when that path is set (a leader counted apart); ``kserveWorkers``
  instead computes KServe's multi-node worker count (``kserve_workers``);
- ``max``: the most pods an autoscaler may run: a factor replacing the first of ``factors`` (the
  others still multiply it), counted only when its ``when`` path is true; 0 means no maximum;
- ``perNode``: one pod on every node it fits (DaemonSet).

Scope: a built-in kind is known to kubernetes-validate's schemas; the cluster-scoped ones are
listed in ``CLUSTER_SCOPED`` (from the Kubernetes API discovery documents, ``namespaced: false``).
A custom resource is namespaced when the table knows it, else as its CRD's ``spec.scope`` says
when the CRD is among the objects, else unknown.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

Path = tuple[str | int, ...]

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
GPU_PREFIX = "nvidia.com/"
GPU_BYTES = GPU_PREFIX.encode()  # in an object's marshal bytes whenever one of its strings holds it

# Built-in kinds whose objects live outside namespaces, by API group (Kubernetes API discovery
# documents, kubernetes/kubernetes api/discovery/*.json, resources with "namespaced": false).
CLUSTER_SCOPED: dict[str, frozenset[str]] = {
    "": frozenset({"ComponentStatus", "Namespace", "Node", "PersistentVolume"}),
    "admissionregistration.k8s.io": frozenset({
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}),
    "apiextensions.k8s.io": frozenset({"CustomResourceDefinition"}),
    "apiregistration.k8s.io": frozenset({"APIService"}),
    "authentication.k8s.io": frozenset({"TokenReview", "SelfSubjectReview"}),
    "authorization.k8s.io": frozenset({"SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"}),
    "certificates.k8s.io": frozenset({"CertificateSigningRequest", "ClusterTrustBundle"}),
    "flowcontrol.apiserver.k8s.io": frozenset({"FlowSchema", "PriorityLevelConfiguration"}),
    "internal.apiserver.k8s.io": frozenset({"StorageVersion"}),
    "networking.k8s.io": frozenset({"IngressClass", "IPAddress", "ServiceCIDR", "ClusterCIDR"}),
    "node.k8s.io": frozenset({"RuntimeClass"}),
    "policy": frozenset({"PodSecurityPolicy"}),
    "rbac.authorization.k8s.io": frozenset({"ClusterRole", "ClusterRoleBinding"}),
    "resource.k8s.io": frozenset({"DeviceClass", "ResourceSlice", "ResourceClass", "DeviceTaintRule"}),
    "scheduling.k8s.io": frozenset({"PriorityClass"}),
    "storage.k8s.io": frozenset({"CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"}),
    "storagemigration.k8s.io": frozenset({"StorageVersionMigration"}),
}  # fmt: skip

# Old API groups whose workload kinds moved: looked up under their new group.
_GROUP_ALIASES = {"extensions": "apps"}


@dataclass(frozen=True)
class PodTemplate:
    """One pod template of a workload."""

    path: Path  # of the pod spec inside the object
    spec: Mapping[str, Any]
    pods: int  # pods running at once (per node for a DaemonSet)
    count_path: Path | None  # the value that set ``pods``, when the object sets it
    max_pods: int | None  # the most pods an autoscaler field of the object allows (None: none set)
    max_path: Path | None  # that field
    per_node: bool
    singles: tuple[Path, ...]  # single-container paths relative to the pod
    resources_key: str


@dataclass(frozen=True)
class Container:
    """One container of a pod template."""

    path: Path  # of the container inside the object
    section: str  # containers, initContainers, ephemeralContainers, or "single"
    index: int
    container: Mapping[str, Any]
    resources_key: str = "resources"

    @property
    def name(self) -> str:
        name = self.container.get("name")
        return str(name) if name is not None else str(self.index)

    @property
    def resources_path(self) -> Path:
        return (*self.path, self.resources_key)


@cache
def _table() -> dict[tuple[str, str], list[dict[str, Any]]]:
    text = resources.files("gitops_gen").joinpath("data", "workloads.json").read_text(encoding="utf-8")
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in json.loads(text)["kinds"]:
        out[(entry["group"], entry["kind"])] = entry["templates"]
    return out


def group_of(api_version: Any) -> str | None:
    if not isinstance(api_version, str) or not api_version:
        return None
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return _GROUP_ALIASES.get(group, group)


def known_workload(obj: Mapping[str, Any]) -> bool:
    """Whether the table says where OBJ's pods are."""
    group = group_of(obj.get("apiVersion"))
    return group is not None and (group, str(obj.get("kind"))) in _table()


def value_at(node: Any, path: Path) -> Any:
    """The value at PATH (mapping keys and list indexes) in NODE; None where the path leads nowhere."""
    for key in path:
        if isinstance(node, Mapping) and isinstance(key, str):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def _expand(node: Any, pattern: list[str], done: Path = ()) -> Iterator[tuple[Path, tuple[str | int, ...]]]:
    """(concrete path, values the wildcards took) for every match of PATTERN."""
    if not pattern:
        yield done, ()
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        keys: list[str | int] = []
        if isinstance(node, Mapping):
            keys = [k for k in node if isinstance(k, str)]
        elif isinstance(node, list):
            keys = list(range(len(node)))
        for key in keys:
            for path, bound in _expand(value_at(node, (key,)), rest, (*done, key)):
                yield path, (key, *bound)
        return
    child = value_at(node, (head,))
    if child is not None:
        yield from _expand(child, rest, (*done, head))


def _bind(pattern: list[str], bound: tuple[str | int, ...]) -> Path:
    values = iter(bound)
    return tuple(next(values) if part == "*" else part for part in pattern)


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _gpus(container: Any) -> int:
    """The whole nvidia.com/gpu of one container spec: requests, else limits (0 when neither)."""
    resources = container.get("resources") if isinstance(container, Mapping) else None
    for key in ("requests", "limits"):
        values = resources.get(key) if isinstance(resources, Mapping) else None
        found = _number(values.get("nvidia.com/gpu")) if isinstance(values, Mapping) else None
        if found is not None:
            return found
    return 0


def kserve_workers(obj: Mapping[str, Any]) -> int:
    """Worker pods of a multi-node InferenceService (predictor.workerSpec), as KServe's controller counts
    them for its default Ray backend (components/predictor.go computeRayNodeAndGPUs): the
    tensorParallelSize x pipelineParallelSize GPUs (each default 1) over the nodes, the head (the
    predictor pod) being one of them."""
    predictor = value_at(obj, ("spec", "predictor"))
    worker = value_at(predictor, ("workerSpec",))
    if not isinstance(worker, Mapping):
        return 0
    pp = _number(worker.get("pipelineParallelSize")) or 1
    tp = _number(worker.get("tensorParallelSize")) or 1
    total = pp * tp
    per_worker = _gpus(value_at(worker, ("containers", 0)))
    head = _gpus(value_at(predictor, ("model",)) or value_at(predictor, ("containers", 0)))
    if per_worker > 0:
        if total <= head:
            return 0  # the head alone holds every GPU
        return -(-total // per_worker) - 1
    if head > 0:
        return max(total - head, 0)  # one GPU per worker for what the head does not hold
    return total - 1  # one GPU per node


def _factor(
    obj: Mapping[str, Any], factor: Mapping[str, Any], bound: tuple[str | int, ...]
) -> tuple[int, Path | None]:
    if factor.get("kserveWorkers"):
        return kserve_workers(obj), None
    value, where = int(factor.get("default", 1)), None
    for pattern in factor["paths"]:
        path = _bind(pattern, bound)
        found = _number(value_at(obj, path))
        if found is not None:
            value, where = found, path
            break
    for key, raise_ in (("capBy", False), ("floorBy", True)):
        if factor.get(key) is None:
            continue
        path = _bind(factor[key], bound)
        limit = _number(value_at(obj, path))
        if limit is not None and (limit > value if raise_ else limit < value):
            value, where = limit, path
    value = max(value, int(factor.get("atLeast", 0)))
    less = factor.get("lessOneIf")
    if less is not None and value_at(obj, _bind(less, bound)) is not None:
        value = max(value - 1, 0)
    return value, where


def _max_pods(
    obj: Mapping[str, Any], entry: Mapping[str, Any], bound: tuple[str | int, ...]
) -> tuple[int, Path] | None:
    """The most pods ENTRY's autoscaler may run, and the path that says so (None: no maximum set)."""
    most = entry.get("max")
    if most is None:
        return None
    when = most.get("when")
    if when is not None and value_at(obj, _bind(when, bound)) is not True:
        return None
    value, where = _factor(obj, {"default": 0, **most}, bound)
    if where is None or value == 0:
        return None
    for factor in entry.get("factors", [])[1:]:
        value *= _factor(obj, factor, bound)[0]
    return value, where


def pod_templates(obj: Mapping[str, Any]) -> list[PodTemplate]:
    """Every pod template of OBJ the table knows, with the pods each runs; [] for other kinds."""
    group = group_of(obj.get("apiVersion"))
    templates = _table().get((group or "", str(obj.get("kind")))) if group is not None else None
    out: list[PodTemplate] = []
    for entry in templates or []:
        for path, bound in _expand(obj, entry["pod"]):
            spec = value_at(obj, path)
            if not isinstance(spec, Mapping):
                continue
            pods, count_path = 1, None
            for factor in entry.get("factors", []):
                value, where = _factor(obj, factor, bound)
                pods *= value
                if where is not None and (count_path is None or value != 1):
                    count_path = where
            most = _max_pods(obj, entry, bound)
            singles = tuple(tuple(p) for p in entry.get("containers", []))
            out.append(
                PodTemplate(
                    path,
                    spec,
                    pods,
                    count_path,
                    most[0] if most else None,
                    most[1] if most else None,
                    bool(entry.get("perNode")),
                    singles,
                    entry.get("resources", "resources"),
                )
            )
    return out


def containers(template: PodTemplate, sections: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[Container]:
    """The containers of one pod template: the SECTIONS lists, then its single containers."""
    for section in sections:
        items = template.spec.get(section)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, Mapping):
                    yield Container((*template.path, section, index), section, index, item)
    if "containers" not in sections:
        return
    for offset, single in enumerate(template.singles):
        item = value_at(template.spec, single) if single else template.spec
        if isinstance(item, Mapping):
            name = single[-1] if single else "trainer"
            yield Container(
                (*template.path, *single), "single", offset, {"name": name, **item}, template.resources_key
            )


# What capacity reads of a container, and of an object.
DEMAND_CONTAINER_KEYS = ("name", "resources", "restartPolicy")


def demand_projection(obj: Mapping[str, Any]) -> dict[str, Any]:
    """OBJ reduced to what GPU feasibility and capacity read (the validate demand cache keeps these).

    The object's name and namespace; its pod specs (as the table finds them) without volumes, each
    container reduced to ``DEMAND_CONTAINER_KEYS`` (a single container to its name and resources
    key), ephemeral containers dropped; each pod template's metadata reduced to its annotations
    (Knative's min-scale and max-scale); every other field, replica counts and strategies
    included, as it is. Kinds the table does not know keep all but metadata and status.
    """
    pods: dict[Path, PodTemplate] = {t.path: t for t in pod_templates(obj)} if known_workload(obj) else {}
    metas = {(*path[:-1], "metadata") for path in pods if path and path[-1] == "spec"}
    out = _reduced(obj, (), pods, metas)
    meta = obj.get("metadata")
    if isinstance(meta, Mapping):
        out["metadata"] = {k: meta[k] for k in ("name", "namespace") if k in meta}
    return out


def _reduced(node: Any, path: Path, pods: Mapping[Path, PodTemplate], metas: set[Path]) -> Any:
    if path in pods:
        return _reduced_pod(node, pods[path])
    if path in metas and isinstance(node, Mapping):
        return {"annotations": node["annotations"]}
    if isinstance(node, Mapping):
        skip = ("metadata", "status") if not path else ()
        return {
            k: _reduced(v, (*path, k), pods, metas)
            for k, v in node.items()
            if k not in skip and not ((*path, k) in metas and not _has_annotations(v))
        }
    if isinstance(node, list):
        return [_reduced(v, (*path, i), pods, metas) for i, v in enumerate(node)]
    return node


def _has_annotations(meta: Any) -> bool:
    return isinstance(meta, Mapping) and "annotations" in meta


def _reduced_pod(spec: Mapping[str, Any], template: PodTemplate) -> dict[str, Any]:
    singles = {single[0] for single in template.singles if single}
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in ("volumes", "ephemeralContainers"):
            continue
        if key in ("containers", "initContainers") and isinstance(value, list):
            out[key] = [
                {k: c[k] for k in DEMAND_CONTAINER_KEYS if k in c} if isinstance(c, Mapping) else c
                for c in value
            ]
        elif key in singles and isinstance(value, Mapping):
            out[key] = {k: value[k] for k in ("name", template.resources_key) if k in value}
        else:
            out[key] = value  # replica fields of some kinds live here (KServe minReplicas, TrainJob numNodes)
    return out


def _generic_containers(node: Any, path: Path = ()) -> Iterator[Container]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, Mapping):
                        yield Container((*path, key, index), key, index, item)
            elif isinstance(value, (Mapping, list)):
                yield from _generic_containers(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _generic_containers(item, (*path, index))


def all_containers(obj: Mapping[str, Any]) -> Iterator[Container]:
    """Every container of OBJ: through the table for a known kind, else every container list found."""
    if known_workload(obj):
        for template in pod_templates(obj):
            yield from containers(template)
    else:
        yield from _generic_containers(obj)


def gpu_request_paths(node: Any) -> list[Path]:
    """Paths of every ``nvidia.com/...`` key inside a ``limits`` or ``requests`` mapping of NODE."""
    found: list[Path] = []
    _gpu_requests(node, [], found)
    return found


def _gpu_requests(node: Any, path: list[Any], found: list[Path]) -> None:
    # Every node of every GPU object of a fleet passes here: plain-dict checks (rendered objects are
    # plain dicts), scalars skipped before any call, and a path tuple built only for a hit.
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict):
                if key == "limits" or key == "requests":
                    for name in value:
                        if isinstance(name, str) and name.startswith(GPU_PREFIX):
                            found.append((*path, key, name))
                if key != "status":
                    path.append(key)
                    _gpu_requests(value, path, found)
                    path.pop()
            elif isinstance(value, list) and key != "status":
                path.append(key)
                _gpu_requests(value, path, found)
                path.pop()
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, (dict, list)):
                path.append(index)
                _gpu_requests(item, path, found)
                path.pop()


# Clusters share most objects whole: the walk below is done once per distinct object (marshal bytes).
_UNCHECKED: dict[bytes, list[Path]] = {}
_UNCHECKED_MAX = 100_000


def unchecked_gpu_paths(obj: Mapping[str, Any], key: bytes | None = None) -> list[Path]:
    """GPU requests of OBJ outside every container the walker knows (what feasibility cannot see).
    KEY: OBJ's marshal bytes (any version: equal bytes are equal content), if the caller has them."""
    try:
        if key is None and isinstance(obj, dict):
            key = marshal.dumps(obj)
    except ValueError:  # a value marshal cannot write (a YAML timestamp): walk it
        pass
    # Most objects name no NVIDIA resource at all: one C-level serialisation rules them out.
    if key is not None and GPU_BYTES not in key:
        return []
    found = _UNCHECKED.get(key) if key is not None else None
    if found is None:
        covered = {c.resources_path for c in all_containers(obj)} if known_workload(obj) else set()
        found = [path for path in gpu_request_paths(obj) if path[:-2] not in covered]
        if key is not None:
            if len(_UNCHECKED) >= _UNCHECKED_MAX:
                _UNCHECKED.clear()
            _UNCHECKED[key] = found
    return list(found)


# ---------------------------------------------------------------- scope


def crd_scopes(objects: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for every CustomResourceDefinition among OBJECTS."""
    out: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if (
            obj.get("kind") != "CustomResourceDefinition"
            or group_of(obj.get("apiVersion")) != "apiextensions.k8s.io"
        ):
            continue
        spec = obj.get("spec")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("names"), Mapping):
            continue
        kind, group = spec["names"].get("kind"), spec.get("group")
        if isinstance(kind, str) and isinstance(group, str):
            out[(group, kind)] = spec.get("scope") != "Cluster"
    return out


def namespaced(obj: Mapping[str, Any], crds: Mapping[tuple[str, str], bool], builtin: bool) -> bool | None:
    """Whether OBJ's kind is namespaced; None when nothing says (a custom resource without its CRD).

    BUILTIN: the Kubernetes schemas know the kind (kubernetes-validate ships a schema for it).
    """
    group = group_of(obj.get("apiVersion"))
    kind = str(obj.get("kind"))
    if group is None:
        return None
    if builtin:
        return kind not in CLUSTER_SCOPED.get(group, frozenset())
    if (group, kind) in crds:
        return crds[(group, kind)]
    if (group, kind) in _table():
        return True  # every custom workload kind in the table is namespaced
    return None
