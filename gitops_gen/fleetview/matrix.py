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

from gitops_gen import kube
from gitops_gen.checks.gpu.catalog import classify_resource
from gitops_gen.fleetview.collect import FleetView


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


def _gpu(template: kube.PodTemplate) -> dict[str, int]:
    """Whole GPU / MIG / shared limits of one pod template, app and init containers added up."""
    gpu: dict[str, int] = {}
    for c in kube.containers(template, ("initContainers", "containers")):
        resources = c.container.get(c.resources_key)
        limits = resources.get("limits") if isinstance(resources, Mapping) else None
        for res, qty in limits.items() if isinstance(limits, Mapping) else ():
            if classify_resource(str(res)) in ("gpu", "mig", "shared"):
                try:
                    gpu[str(res)] = gpu.get(str(res), 0) + int(str(qty))
                except ValueError:
                    continue
    return gpu


def workload(obj: Mapping[str, Any]) -> Workload | None:
    """OBJ as a matrix workload, when the workload table knows its kind (kube's walker).

    Containers: every pod template's. Replicas and GPU request: those of the first template that asks
    for GPUs (a Ray cluster's workers, not its head), else of the first template.
    """
    templates = kube.pod_templates(obj) if kube.known_workload(obj) else []
    if not templates:
        return None
    containers = [
        Container(
            c.name if c.section == "single" else str(c.container.get("name", "")),
            str(c.container.get("image", "")),
        )
        for t in templates
        for c in kube.containers(t, ("initContainers", "containers"))
    ]
    gpus = [(t, _gpu(t)) for t in templates]
    main, gpu = next(((t, g) for t, g in gpus if g), gpus[0])
    replicas = None if main.per_node else main.pods
    meta = obj.get("metadata")
    name = str(meta.get("name") or "") if isinstance(meta, Mapping) else ""
    return Workload(str(obj.get("kind")), name, replicas, tuple(containers), tuple(sorted(gpu.items())))


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
