"""`gitops-gen diff`: what a change does to every cluster's rendered manifests.

Both revisions are read straight from git objects (the head may be the working
tree); nothing is checked out and neither the index nor HEAD moves. Objects are
matched by kind/namespace/name; a generated name whose hash suffix changed is a
rename, not a removal plus an addition. Secret values never leave this module.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen import kube, workers
from gitops_gen.applied.view import applied_view
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet import deps
from gitops_gen.fleet.deps import Affected
from gitops_gen.fleet.layout import CONFIG_PATH
from gitops_gen.fleet.render import DocumentCache, fleet_clusters
from gitops_gen.gitflow.revision import (
    BlobReader,
    RevisionTree,
    changed_between,
    changed_in_worktree,
    files_containing,
    link_targets,
    through_links,
    worktree_links,
)
from gitops_gen.kustomize.build import Engine, ParseCache
from gitops_gen.kustomize.types import FILE_NAMES
from gitops_gen.repo.tree import DiskTree, Tree
from gitops_gen.secrets import mask_object

if TYPE_CHECKING:
    from gitops_gen.fleetview.change import PoolChange

ObjKey = tuple[str, str, str]  # kind, namespace, name
OnProgress = Callable[[int, int], None]  # (clusters done, clusters in all)
HASHED = re.compile(r"^(?P<stem>.+)-[a-z0-9]{10}$")
GPU_PREFIX = "nvidia.com/"


@dataclass
class ObjectChange:
    key: ObjKey
    status: str  # added | removed | changed | renamed
    diff: str = ""
    old_name: str = ""
    fields: list[str] = field(default_factory=list)  # changed leaf fields, as explain spells them
    sources: dict[str, str] = field(default_factory=dict)  # field -> "file:line" that set it at head

    def label(self) -> str:
        kind, ns, name = self.key
        return f"{kind}/{ns + '/' if ns else ''}{name}"


@dataclass
class ClusterDiff:
    name: str
    status: str  # changed | added | removed
    changes: list[ObjectChange] = field(default_factory=list)
    gpu_before: dict[str, int] = field(default_factory=dict)
    gpu_after: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)

    def signature(self) -> str:
        """Identical changes on several clusters group under one signature."""
        return "\n".join(f"{c.status} {c.label()}\n{c.diff}" for c in self.changes)


@dataclass
class FleetDiff:
    base: str
    head: str
    clusters: list[ClusterDiff]
    unchanged: int
    # Pool resources whose GPU supply or demand moves (filled for the markdown summary).
    capacity: list[PoolChange] = field(default_factory=list)
    # The clusters rendered to find the changes (at one side or both); the rest were known unchanged.
    rendered: frozenset[str] = frozenset()


def _key(obj: dict[str, Any]) -> ObjKey:
    md = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(md.get("namespace") or ""), str(md.get("name") or "")


def gpu_requests(objs: list[dict[str, Any]]) -> dict[str, int]:
    """NVIDIA resources the workloads ask for: pods x per-pod limits (DaemonSets excluded)."""
    totals: dict[str, int] = defaultdict(int)
    for obj in objs:
        for template in kube.pod_templates(obj):
            if template.per_node:
                continue
            for container in kube.containers(template, ("containers",)):
                resources = container.container.get(container.resources_key)
                limits = (resources.get("limits") if isinstance(resources, dict) else None) or {}
                for name, qty in limits.items() if isinstance(limits, dict) else ():
                    if str(name).startswith(GPU_PREFIX):
                        try:
                            totals[name] += int(str(qty)) * template.pods
                        except ValueError:
                            continue
    return dict(sorted(totals.items()))


class Renderer:
    """Renders clusters of one tree; the parse and document caches are shared between revisions."""

    def __init__(self, tree: Tree, parse_cache: ParseCache, docs: DocumentCache):
        self.tree = tree
        self.engine = Engine(tree, parse_cache=parse_cache, warnings=False)
        self.docs = docs

    def objects(self, cluster: str, rev: str) -> list[dict[str, Any]]:
        try:
            # What the cluster applies (sync-object transforms, post-build variables, Helm releases).
            return applied_view(self.tree, self.engine, cluster).objects
        except GitopsGenError as err:
            raise GitopsGenError(f"cannot render cluster {cluster} at {rev}: {err}") from None


def _yaml(docs: DocumentCache, obj: dict[str, Any]) -> list[str]:
    return docs.dump(obj).splitlines(keepends=True)


def _unified(
    docs: DocumentCache,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    label: str,
    base: str,
    head: str,
) -> str:
    a = _yaml(docs, old) if old is not None else []
    b = _yaml(docs, new) if new is not None else []
    lines = difflib.unified_diff(a, b, fromfile=f"{base}/{label}", tofile=f"{head}/{label}", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def changed_fields(old: Any, new: Any, prefix: tuple[Any, ...] = (), limit: int = 20) -> list[str]:
    """Leaf fields whose value differs, lists of named objects matched by name."""
    from gitops_gen.provenance.provenance import Sel, format_field

    out: list[str] = []

    def walk(a: Any, b: Any, path: tuple[Any, ...]) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                if k in b:
                    walk(a.get(k), b[k], (*path, k))
            return
        if isinstance(a, list) and isinstance(b, list):
            named = all(isinstance(i, dict) and "name" in i for i in [*a, *b])
            if named:
                old_by = {i["name"]: i for i in a}
                for item in b:
                    walk(old_by.get(item["name"]), item, (*path, Sel("name", item["name"])))
                return
            if len(a) == len(b):
                for i, (x, y) in enumerate(zip(a, b, strict=True)):
                    walk(x, y, (*path, i))
                return
        if b is not None:
            out.append(format_field(path))

    walk(old, new, prefix)
    return out


def annotate_sources(tree: Tree, cd: ClusterDiff) -> None:
    """Fill each changed field's source at head (a traced build of that one cluster)."""
    from gitops_gen.provenance.provenance import Locator, parse_field, winner

    wanted = [c for c in cd.changes if c.fields]
    if not wanted:
        return
    try:
        resources = Engine(tree, trace=True, warnings=False).build(f"mapping/{cd.name}")
    except GitopsGenError:
        return
    by_key = {_key(r.obj): r for r in resources}
    locator = Locator(tree)
    for change in wanted:
        res = by_key.get(change.key)
        if res is None:
            continue
        for f in change.fields:
            setter = winner(res, parse_field(f), locator)
            if setter is not None:
                change.sources[f] = f"{setter.path}:{setter.line}" if setter.line else setter.path


def compare_cluster(
    name: str, old: list[dict[str, Any]], new: list[dict[str, Any]], docs: DocumentCache, base: str, head: str
) -> ClusterDiff:
    before = {_key(o): o for o in old}
    after = {_key(o): o for o in new}
    changes: list[ObjectChange] = []
    removed = [k for k in before if k not in after]
    added = [k for k in after if k not in before]
    renamed: dict[ObjKey, ObjKey] = {}
    for r in removed:
        m = HASHED.match(r[2])
        if not m:
            continue
        for a in added:
            n = HASHED.match(a[2])
            if n and a[:2] == r[:2] and n.group("stem") == m.group("stem") and a not in renamed.values():
                renamed[r] = a
                break
    for key in sorted(set(before) | set(after)):
        old_obj, new_obj = before.get(key), after.get(key)
        if key in renamed:
            new_key = renamed[key]
            new_obj = after[new_key]
            masked_old = mask_object(old_obj) if old_obj else None
            masked_new = mask_object(new_obj, old_obj)
            diff = _unified(docs, masked_old, masked_new, ObjectChange(new_key, "").label(), base, head)
            changes.append(ObjectChange(new_key, "renamed", diff, old_name=key[2]))
            continue
        if key in renamed.values():
            continue
        if old_obj is not None and new_obj is not None:
            if old_obj == new_obj:
                continue
            diff = _unified(
                docs,
                mask_object(old_obj),
                mask_object(new_obj, old_obj),
                ObjectChange(key, "").label(),
                base,
                head,
            )
            changes.append(ObjectChange(key, "changed", diff, fields=changed_fields(old_obj, new_obj)))
        elif new_obj is not None:
            diff = _unified(docs, None, mask_object(new_obj), ObjectChange(key, "").label(), base, head)
            changes.append(ObjectChange(key, "added", diff))
        elif old_obj is not None:
            diff = _unified(docs, mask_object(old_obj), None, ObjectChange(key, "").label(), base, head)
            changes.append(ObjectChange(key, "removed", diff))
    return ClusterDiff(name, "changed", changes, gpu_requests(old), gpu_requests(new))


def diff_trees(
    base_tree: Tree,
    head_tree: Tree,
    base: str,
    head: str,
    only: frozenset[str] | None = None,
    on_progress: OnProgress | None = None,
    same: frozenset[str] = frozenset(),
) -> FleetDiff:
    """Every cluster's diff between two trees; ONLY restricts it to those cluster names (a shard).
    ON_PROGRESS is told (clusters done, clusters to diff) as they go. SAME: kustomization directories
    whose inputs are the same in both trees (``affected_clusters``): the head side takes them as the
    base side built them (each cluster is built at the base first)."""
    parse_cache, docs = ParseCache(), DocumentCache()
    old_r, new_r = Renderer(base_tree, parse_cache, docs), Renderer(head_tree, parse_cache, docs)
    if same:
        lend = old_r.engine.lend
        new_r.engine.lender = lambda directory: lend(directory) if directory in same else None
    old_names, new_names = set(fleet_clusters(base_tree)), set(fleet_clusters(head_tree))
    names = old_names | new_names
    if only is not None:
        names &= only
    clusters: list[ClusterDiff] = []
    unchanged = 0
    for done, name in enumerate(sorted(names)):
        if on_progress is not None:
            on_progress(done, len(names))
        old = old_r.objects(name, base) if name in old_names else []
        new = new_r.objects(name, head) if name in new_names else []
        if name in old_names and name in new_names and old == new:
            unchanged += 1
            continue
        cd = compare_cluster(name, old, new, docs, base, head)
        if name not in old_names:
            cd.status = "added"
        elif name not in new_names:
            cd.status = "removed"
        if cd.changes or cd.status != "changed":
            clusters.append(cd)
        else:
            unchanged += 1
    if on_progress is not None:
        on_progress(len(names), len(names))
    return FleetDiff(base, head, clusters, unchanged, rendered=frozenset(names))


def changed_paths(
    repo: Path, base_tree: RevisionTree, head_tree: RevisionTree | None
) -> tuple[set[str], list[str]]:
    """(paths whose blob differs between the two sides, seen through symbolic links too; wholly
    untracked directories of the working tree, for HEAD_TREE None)."""
    if head_tree is not None:
        changed = changed_between(base_tree, head_tree)
        untracked: list[str] = []
        links = {**link_targets(base_tree), **link_targets(head_tree)}
    else:
        changed, untracked = changed_in_worktree(repo, base_tree)
        links = {**link_targets(base_tree), **worktree_links(repo)}
    return through_links(changed, links), untracked


@dataclass
class Scope:
    """What differs between two trees, found from blob ids and the dependency graph, nothing built."""

    paths: list[str]  # the changed paths
    affected: Affected  # the clusters whose inputs can differ
    # Kustomization directories both sides hold whose inputs cannot differ (none when ``affected.every``):
    # each builds the same at both sides.
    same: frozenset[str] = frozenset()


def affected_clusters(repo: Path, base_tree: RevisionTree, head_tree: RevisionTree | None) -> Scope:
    """What differs between BASE_TREE and HEAD_TREE (None: the working tree).

    Which paths differ comes from blob ids (`git ls-tree`, `git diff` for the working tree); which
    clusters read them from the dependency graph (``deps``) of both sides, so a path used only at
    one side counts. Over-approximates, never misses: gitops-gen.yaml, or an untracked directory
    a kustomization may read, is every cluster; a path no kustomization reads may still be a Helm
    chart or values file of a Flux HelmRelease (the applied view reads those), so it counts for
    every cluster whose inputs hold a HelmRelease.
    """
    changed, untracked = changed_paths(repo, base_tree, head_tree)
    if CONFIG_PATH in changed:
        return Scope(sorted(changed), Affected(True, frozenset()))
    head_files: deps.Files = deps.TreeFiles(head_tree) if head_tree is not None else deps.DiskFiles(repo)
    named: deps.NamedCache = {}
    base_index = deps.Index(repo, deps.TreeFiles(base_tree), named)
    head_index = deps.Index(repo, head_files, named)
    outside: list[str] = []
    for directory in untracked:  # wholly untracked: every file in it is new
        if deps.cluster_of(directory + "/x") is not None:
            changed.add(directory + "/")
        elif directory.startswith("apps/"):
            for top, _, names in os.walk(repo / directory):
                rel = Path(top).relative_to(repo).as_posix()
                changed.update(posixpath.join(rel, n) for n in names)
        else:
            outside.append(directory)
    paths = sorted(changed)
    base_tree.prefetch_named(FILE_NAMES)
    if head_tree is not None:
        head_tree.prefetch_named(FILE_NAMES)
    indexes = [base_index, head_index]
    found = deps.affected_sides(repo, paths, indexes)
    for index in indexes if outside else []:
        index.hand_written([], skip={".git"})  # filled even when no other path needed it
    if any(deps.near(index, d) for d in outside for index in indexes):
        return Scope(paths, Affected(True, frozenset()))  # e.g. an ignored directory a kustomization reads
    unread = [p for p in paths if deps.cluster_of(p) is None and not any(deps.reads(i, p) for i in indexes)]
    if unread:
        sides = [
            (head_index, head_tree.commit if head_tree is not None else None),
            (base_index, base_tree.commit),
        ]
        for index, rev in sides:
            releases = files_containing(repo, "HelmRelease", rev)
            if releases:
                found = found.union(deps.affected(repo, releases, index, through_inventory=True))
    if found.every:
        return Scope(paths, found)
    # Indexed at both sides (every hand-written kustomization and every variant: ``affected_sides``)
    # and reaching no changed path at either: the same files, so the same build.
    same = (base_index.refs.keys() & head_index.refs.keys()) - found.reaching
    return Scope(paths, found, frozenset(same))


def diff_revisions(
    repo: Path,
    base: str,
    head: str | None,
    sources: bool = False,
    only: frozenset[str] | None = None,
    incremental: bool = True,
    on_progress: OnProgress | None = None,
    jobs: int | None = None,
) -> FleetDiff:
    """The fleet diff between git revision BASE and HEAD (default: the working tree).

    With SOURCES each change is annotated with the files and lines that made it (markdown output).
    ONLY restricts the diff to those cluster names (a shard); None is every cluster.
    INCREMENTAL renders only the clusters whose inputs differ (``affected_clusters``); False renders
    every cluster at both sides (the reference the incremental diff is tested against).
    ON_PROGRESS is told (clusters done, clusters to diff) as they go. JOBS: worker processes (-j), at
    most one per PER_WORKER clusters to render.
    """
    from gitops_gen.gitflow.git import open_repo

    grepo = open_repo(repo)
    blobs = BlobReader(repo)
    try:
        base_tree = RevisionTree(grepo, repo, base, blobs)
        head_rev = RevisionTree(grepo, repo, head, blobs) if head else None
        head_tree: Tree = head_rev if head_rev is not None else DiskTree(repo)
        scope = only
        same: frozenset[str] = frozenset()
        if incremental:
            found = affected_clusters(repo, base_tree, head_rev)
            hit, same = found.affected, found.same
            if not hit.every:
                scope = hit.clusters if only is None else only & hit.clusters
        names = set(fleet_clusters(base_tree)) | set(fleet_clusters(head_tree))
        wanted = sorted(names if scope is None else names & scope)
        jobs = workers.worker_count(jobs, len(wanted), per_worker=PER_WORKER)
        if jobs > 1:
            fd = _diff_parallel(repo, base, head, wanted, jobs, on_progress, same)
        else:
            fd = diff_trees(
                base_tree, head_tree, base, head or "worktree", only=scope, on_progress=on_progress, same=same
            )
        if scope is not only:
            # Known unchanged without rendering: every cluster of either side outside the scope.
            fd.unchanged = len(names & only if only is not None else names) - len(fd.clusters)
        if sources:
            _annotate(fd, base_tree, head_tree, base, head or "worktree")
    finally:
        blobs.close()
    return fd


PER_WORKER = 40  # clusters to diff before a second process pays for its start and its own caches


def _diff_chunk(
    repo: str, base: str, head: str | None, names: list[str], same: frozenset[str] = frozenset()
) -> FleetDiff | GitopsGenError:
    """One worker's share: the diff of NAMES, with its own git readers (nothing is shared across a fork)."""
    from gitops_gen.gitflow.git import open_repo

    root = Path(repo)
    grepo = open_repo(root)
    blobs = BlobReader(root)
    try:
        base_tree = RevisionTree(grepo, root, base, blobs)
        head_tree: Tree = RevisionTree(grepo, root, head, blobs) if head else DiskTree(root)
        return diff_trees(base_tree, head_tree, base, head or "worktree", only=frozenset(names), same=same)
    except GitopsGenError as err:
        return GitopsGenError(err.message, err.path, err.line, err.col)
    finally:
        blobs.close()


def _diff_parallel(
    repo: Path,
    base: str,
    head: str | None,
    names: list[str],
    jobs: int,
    on_progress: OnProgress | None = None,
    same: frozenset[str] = frozenset(),
) -> FleetDiff:
    """diff_trees over NAMES in JOBS processes, in contiguous runs of the sorted names (neighbours
    share layers); the first failing cluster's error, in name order, as the serial diff raises it."""
    chunks = workers.runs(names, jobs)
    parts: list[FleetDiff] = []
    with workers.pool(jobs) as pool:
        pending = [pool.apply_async(_diff_chunk, (str(repo), base, head, chunk, same)) for chunk in chunks]
        done = 0
        for result in pending:
            value = result.get()
            if isinstance(value, GitopsGenError):
                raise value
            parts.append(value)
            done += len(value.rendered)
            if on_progress is not None:
                on_progress(done, len(names))
    return FleetDiff(
        base,
        head or "worktree",
        [cd for part in parts for cd in part.clusters],
        sum(part.unchanged for part in parts),
        rendered=frozenset(n for part in parts for n in part.rendered),
    )


def _annotate(fd: FleetDiff, base_tree: Tree, head_tree: Tree, base: str, head: str) -> None:
    from gitops_gen.fleetview.change import capacity_changes

    # An inventory that does not load at one side: the diff itself still says what changed.
    # Supply and demand move only where a cluster's inputs do: the clusters the diff rendered.
    if fd.rendered:
        with contextlib.suppress(GitopsGenError):
            fd.capacity = capacity_changes(base_tree, head_tree, base, head, clusters=sorted(fd.rendered))
    seen: set[str] = set()
    for cd in fd.clusters:  # one traced build per distinct change; grouped clusters share it
        if cd.signature() not in seen:
            seen.add(cd.signature())
            annotate_sources(head_tree, cd)
