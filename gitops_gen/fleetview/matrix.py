"""The version matrix: apps x clusters, with image tags per container, replicas and GPU resources.

A cell is "enabled" (the app renders there), "disabled" (listed with ``enabled: false``) or
"absent" (not listed). Two enabled cells with the same ``signature`` (every workload's
kind/name, images, replicas and GPU request) are the same version: that is what the views
group and collapse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.checks.gpu.catalog import classify_resource
from gitops_gen.fleetview.collect import FleetView

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
)


@dataclass(frozen=True)
class Container:
    name: str
    image: str

    @property
    def repository(self) -> str:
        return split_image(self.image)[0]

    @property
    def tag(self) -> str:
        """The tag, ``@sha256:<12 hex>`` for a digest, or "latest" when neither is given."""
        _, tag, digest = split_image(self.image)
        if digest:
            return f"{tag}@{digest[:19]}" if tag else f"@{digest[:19]}"
        return tag or "latest"


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    replicas: int | None  # None: not a replica count (DaemonSet: one per node)
    containers: tuple[Container, ...]
    gpu: tuple[tuple[str, int], ...]  # (resource, per pod), limits of app and init containers


@dataclass(frozen=True)
class Cell:
    status: str  # enabled | disabled | absent
    workloads: tuple[Workload, ...] = ()

    @property
    def signature(self) -> tuple[Any, ...]:
        return (self.status, self.workloads)

    @property
    def images(self) -> tuple[tuple[str, str], ...]:
        """(container, image) of every workload: the app's version, without replicas or GPU requests."""
        return tuple((c.name, c.image) for w in self.workloads for c in w.containers)

    def tags(self) -> str:
        """Short text of the images: ``detector=1.13.2 metrics=v0.26.1`` (one container: just the tag)."""
        containers = [c for w in self.workloads for c in w.containers]
        if len(containers) == 1:
            return containers[0].tag
        return " ".join(f"{c.name}={c.tag}" for c in containers)


@dataclass
class AppRow:
    name: str
    cells: dict[str, Cell]  # cluster -> cell, every cluster
    variants: list[tuple[Cell, list[str]]] = field(
        default_factory=list
    )  # enabled versions, most clusters first

    @property
    def skew(self) -> bool:
        """Several versions of the images among the clusters that run the app."""
        return len(self.versions()) > 1

    def versions(self) -> list[tuple[tuple[tuple[str, str], ...], str, list[str]]]:
        """(images, their tags as text, clusters) per image version, most clusters first."""
        found: dict[tuple[tuple[str, str], ...], tuple[str, list[str]]] = {}
        for cell, clusters in self.variants:
            found.setdefault(cell.images, (cell.tags(), []))[1].extend(clusters)
        return sorted(((k, t, sorted(c)) for k, (t, c) in found.items()), key=lambda v: (-len(v[2]), v[1]))

    def clusters(self, status: str) -> list[str]:
        return [n for n, c in self.cells.items() if c.status == status]


@dataclass
class Matrix:
    clusters: list[str]
    layers: dict[str, dict[str, str]]  # cluster -> its layer values
    apps: list[AppRow]

    def app(self, name: str) -> AppRow:
        return next(a for a in self.apps if a.name == name)


def split_image(image: str) -> tuple[str, str, str]:
    """``registry:5000/a/b:1.2@sha256:...`` -> (``registry:5000/a/b``, ``1.2``, ``sha256:...``)."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest
    return rest, "", digest


def _get(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _pod_spec(obj: Mapping[str, Any]) -> Any:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj.get("spec")
    if kind == "CronJob":
        return _get(obj, "spec", "jobTemplate", "spec", "template", "spec")
    return _get(obj, "spec", "template", "spec")


def workload(obj: Mapping[str, Any]) -> Workload | None:
    kind = obj.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    spec = _pod_spec(obj)
    if not isinstance(spec, Mapping):
        return None
    containers: list[Container] = []
    gpu: dict[str, int] = {}
    for section in ("initContainers", "containers"):
        for c in spec.get(section) or []:
            if not isinstance(c, Mapping):
                continue
            containers.append(Container(str(c.get("name", "")), str(c.get("image", ""))))
            limits = _get(c, "resources", "limits")
            for res, qty in limits.items() if isinstance(limits, Mapping) else ():
                if classify_resource(str(res)) in ("gpu", "mig", "shared"):
                    try:
                        gpu[str(res)] = gpu.get(str(res), 0) + int(str(qty))
                    except ValueError:
                        continue
    replicas: int | None
    if kind in ("DaemonSet",):
        replicas = None
    elif kind == "Pod":
        replicas = 1
    elif kind in ("Job", "CronJob"):
        job = obj.get("spec") if kind == "Job" else _get(obj, "spec", "jobTemplate", "spec")
        value = _get(job, "parallelism")
        replicas = value if isinstance(value, int) else 1
    else:
        value = _get(obj, "spec", "replicas")
        replicas = value if isinstance(value, int) and not isinstance(value, bool) else 1
    name = str(_get(obj, "metadata", "name") or "")
    return Workload(str(kind), name, replicas, tuple(containers), tuple(sorted(gpu.items())))


def matrix(fleet: FleetView) -> Matrix:
    names = [v.name for v in fleet.clusters]
    rows: list[AppRow] = []
    for app in fleet.apps:
        cells: dict[str, Cell] = {}
        for view in fleet.clusters:
            ref = view.apps.get(app)
            if ref is None:
                cells[view.name] = Cell("absent")
            elif not ref.enabled:
                cells[view.name] = Cell("disabled")
            else:
                found = [w for w in (workload(o) for o in ref.objects) if w is not None]
                cells[view.name] = Cell("enabled", tuple(found))
        groups: dict[tuple[Any, ...], tuple[Cell, list[str]]] = {}
        for cluster, cell in cells.items():
            if cell.status == "enabled":
                groups.setdefault(cell.signature, (cell, []))[1].append(cluster)
        variants = sorted(groups.values(), key=lambda v: (-len(v[1]), v[1][0]))
        rows.append(AppRow(app, cells, variants))
    return Matrix(names, {v.name: dict(v.cluster.layers) for v in fleet.clusters}, rows)
