"""What the views read: the inventory and each enabled app's objects as the cluster applies them.

Objects are what the GitOps engine applies (``applied_view``: Flux Kustomization edits, post-build
variables, common metadata, Argo CD's default namespace), as validate judges them. Each mapping entry (``apps/<app>/overlays/<cluster>`` or the app's hand-written overlay) is
built on its own, so every object is known to belong to its app; the engine shares layer
results between entries and clusters, so this costs about what one render of the fleet does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_gen.applied.view import Applied, applied_view
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.generate import app_entry
from gitops_gen.fleet.inventory import Cluster, Fleet, load_fleet
from gitops_gen.kustomize.build import Engine, ParseCache
from gitops_gen.kustomize.resource import Resource
from gitops_gen.repo.tree import Tree


@dataclass
class AppView:
    """One entry of a cluster's ``spec.apps``: its status and, when enabled, its rendered objects."""

    name: str
    enabled: bool
    entry: str  # repo-relative directory the mapping lists
    objects: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ClusterView:
    cluster: Cluster
    apps: dict[str, AppView]  # spec.apps order
    extra: list[dict[str, Any]] = field(default_factory=list)  # applied objects no app's files made

    @property
    def name(self) -> str:
        return self.cluster.name

    def objects(self) -> list[dict[str, Any]]:
        return [o for a in self.apps.values() for o in a.objects] + self.extra


@dataclass
class FleetView:
    layers: tuple[str, ...]  # configured layers, without the implicit cluster layer
    clusters: list[ClusterView]  # by name
    apps: list[str]  # every app of the fleet: listed by some cluster or with a directory under apps/

    def cluster(self, name: str) -> ClusterView:
        for view in self.clusters:
            if view.name == name:
                return view
        raise GitopsGenError(
            f"unknown cluster {name!r} (clusters: {', '.join(c.name for c in self.clusters)})"
        )


def entry_dir(cluster: str, entry: str) -> str:
    """The repo-relative directory of a mapping entry (``../../apps/x/...`` seen from mapping/<cluster>)."""
    return entry.removeprefix("../../") if entry.startswith("../../") else f"mapping/{cluster}/{entry}"


def _app_of(path: str, tree: Tree) -> str | None:
    # Origins carry the tree's display form ("REV:apps/..." for a git revision).
    rev = tree.display("")
    if rev.endswith(":"):
        path = path.removeprefix(rev)
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "apps" else None


def _attribute(view: ClusterView, result: Applied, owners: list[str], tree: Tree) -> None:
    """Give each applied object to its app: by position when the sync object did not change the build
    (post-build substitution and metadata keep the order), else by the file it came from."""
    if not result.rebuilt and len(result.resources) == len(owners):
        for owner, res in zip(owners, result.resources, strict=True):
            view.apps[owner].objects.append(res.obj)
        return
    for res in result.resources:
        app = _app_of(res.origin.path, tree)
        if app is not None and app in view.apps and view.apps[app].enabled:
            view.apps[app].objects.append(res.obj)
        else:
            view.extra.append(res.obj)


def collect(
    tree: Tree, fleet: Fleet | None = None, engine: Engine | None = None, clusters: list[str] | None = None
) -> FleetView:
    """Load the fleet from TREE and build every enabled app of every (or each named) cluster."""
    fleet = fleet or load_fleet(tree)
    engine = engine or Engine(tree, parse_cache=ParseCache(), warnings=False)
    names = list(fleet.clusters)
    if clusters:
        for name in clusters:
            fleet.cluster(name)  # unknown names fail here, naming the known ones
        names = [n for n in names if n in clusters]
    views: list[ClusterView] = []
    for name in names:
        cluster = fleet.clusters[name]
        apps: dict[str, AppView] = {}
        built: list[Resource] = []
        owners: list[str] = []
        for ref in cluster.apps:
            directory = entry_dir(name, app_entry(ref, name))
            apps[ref.name] = AppView(ref.name, ref.enabled, directory)
            if ref.enabled:
                if tree.kind(directory) != "dir":
                    raise GitopsGenError(
                        f"cluster {name}: {directory} does not exist; run `gitops-gen generate`",
                        tree.display(directory),
                    )
                resources = engine.build(directory)
                built += resources
                owners += [ref.name] * len(resources)
        view = ClusterView(cluster, apps)
        _attribute(view, applied_view(tree, engine, name, built), owners, tree)
        views.append(view)
    listed = {a for v in views for a in v.apps}
    on_disk = {n for n in tree.listdir("apps") if tree.kind(f"apps/{n}") == "dir"}
    return FleetView(fleet.config.layers, views, sorted(listed | on_disk))
