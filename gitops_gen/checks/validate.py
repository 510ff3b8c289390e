"""`gitops-gen validate`: every offline check of a fleet, as problems at source lines.

Checks, in order (every rule id, its severity and scope: ``checks.registry``):
1. inventory: gitops-gen.yaml and cluster.yaml against their schemas;
2. generated files current;
3. every cluster renders (at the file:line the engine names); every rendered object valid
   for the cluster's Kubernetes version; sync.yaml against our Flux / Argo CD schemas;
4. GPU feasibility (``checks.gpu``);
5. hygiene.
Last, gitops-gen.yaml's ``rules:`` levels are applied (``registry.configure``).

Problems about a rendered value point at the line that set it (provenance): everything
renders fast without tracing first, then only clusters with findings are rebuilt traced.

With FILE arguments only the clusters those files can affect are checked (``deps``),
checks 1 and 2 only for those clusters. ``--staged`` (what the pre-commit hook runs) takes the
files from ``git diff --cached`` itself, so deletions and renames count too: where they were
used at HEAD. There,
per-object checks cover only objects from the apps that reach the changed files, and in a
git work tree the GPU workloads of untouched mapping entries come from a content-keyed
cache (``DemandCache``) instead of being rebuilt; capacity still sees the whole cluster.
Not seen in FILE mode: mapping-level render errors between an untouched and a touched
entry (e.g. the same object id in two apps), which a full validate reports.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops_gen import kube
from gitops_gen.applied import view as applied_view
from gitops_gen.checks import hygiene, k8sschema, namespaces, registry, silent
from gitops_gen.checks.demand import DemandCache, gpu_projection
from gitops_gen.checks.gpu import rules as gpu_rules
from gitops_gen.checks.gpu.feasibility import Finding, ObjectWorkloads, _obj_ref, check_cluster
from gitops_gen.checks.gpu.rules import GPU_CAPACITY_AUTOSCALE, GPU_CAPACITY_EXCEEDED, GPU_CAPACITY_ROLLOUT
from gitops_gen.checks.partial import Part, finish_parts
from gitops_gen.checks.registry import RENDER
from gitops_gen.errors import GitopsGenError, Problem, UsageError
from gitops_gen.fleet import deps
from gitops_gen.fleet.generate import check_generated, mapping_path, sync_namespace, sync_path
from gitops_gen.fleet.inventory import CONFIG_PATH, SCHEMA, YAML, Cluster, Fleet, check_fleet, locate
from gitops_gen.kustomize.build import Engine, ParseCache, legacy_sort_key
from gitops_gen.kustomize.resource import Origin, Resource
from gitops_gen.kustomize.types import FILE_NAMES
from gitops_gen.provenance import provenance
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import DiskTree, Kind, Tree


class ScopedTree:
    """A Tree that hides clusters (outside KEEP, or in DROP) from clusters/, mapping/ and apps/*/overlays/.

    inventory.check_fleet and generate.check_generated then load and compare only the
    visible clusters, without a change to either module.
    """

    def __init__(self, tree: Tree, keep: set[str] | None, drop: frozenset[str] = frozenset()):
        self.tree = tree
        self.keep = keep
        self.drop = drop

    def _gone(self, name: str) -> bool:
        return name in self.drop or (self.keep is not None and name not in self.keep)

    def _hidden(self, path: str) -> bool:
        parts = path.split("/")
        if len(parts) >= 2 and parts[0] in ("clusters", "mapping"):
            return self._gone(parts[1])
        if len(parts) >= 4 and parts[0] == "apps" and parts[2] == "overlays":
            return self._gone(parts[3])
        return False

    def read(self, path: str) -> bytes:
        if self._hidden(path):
            raise GitopsGenError("no such file", self.tree.display(path))
        return self.tree.read(path)

    def kind(self, path: str) -> Kind | None:
        return None if self._hidden(path) else self.tree.kind(path)

    def listdir(self, path: str) -> list[str]:
        return [n for n in self.tree.listdir(path) if not self._hidden(f"{path}/{n}" if path else n)]

    def canonical(self, path: str) -> str | None:
        """PATH with its symlinks resolved (the engine's load restrictor asks)."""
        resolve = getattr(self.tree, "canonical", None)
        return None if self._hidden(path) else resolve(path) if resolve is not None else path

    def display(self, path: str) -> str:
        return self.tree.display(path)


@dataclass
class Rendered:
    cluster: Cluster
    resources: list[Resource]
    findings: list[Finding] = field(default_factory=list)
    # GPU workloads of mapping entries taken from the demand cache (FILE mode): feasibility only.
    cached: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------- inventory and generated files


def _cluster_of_problem(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "clusters" else None


def load_inventory(tree: Tree, keep: set[str] | None) -> tuple[Fleet | None, list[Problem], frozenset[str]]:
    """The fleet of the clusters that load cleanly (among KEEP, if given), every inventory problem,
    and the clusters left out because their cluster.yaml is broken."""
    fleet, problems = check_fleet(ScopedTree(tree, keep))
    if fleet is not None or any(p.path == tree.display(CONFIG_PATH) for p in problems):
        return fleet, problems, frozenset()
    # Some cluster.yaml is broken: check the others anyway, without the broken ones.
    broken = frozenset(c for c in (_cluster_of_problem(p.path) for p in problems) if c)
    fleet, more = check_fleet(ScopedTree(tree, keep, broken))
    return fleet, problems + more, broken


def generated_problems(
    tree: Tree, fleet: Fleet, keep: set[str] | None, broken: frozenset[str]
) -> list[Problem]:
    """generate --check as problems, for the clusters in KEEP and not BROKEN."""
    return check_generated(ScopedTree(tree, keep, broken), fleet)


# ---------------------------------------------------------------- rendering and object checks


class ObjectMemo:
    """What the checks of one object's content alone found, once per distinct object and Kubernetes
    version: the clusters of a fleet share most objects whole. Keyed by the object's marshal bytes,
    so equal bytes are equal content; an object marshal cannot write is checked every time."""

    def __init__(self, store: DemandCache | None = None) -> None:
        self.findings: dict[tuple[str | None, bytes], list[Finding]] = {}
        self.unprintable: dict[bytes, str | None] = {}
        self.workloads: ObjectWorkloads = {}  # GPU feasibility's per-object part
        self.store = store  # earlier runs' answers, by content (``DemandCache.recall``)
        # id(object) -> (the object, its key): every check of one cluster's objects serialises each
        # once. The object is held so its id is not reused; ``forget`` between clusters frees them.
        self._keys: dict[int, tuple[Any, bytes | None]] = {}

    def forget(self) -> None:
        self._keys.clear()

    def recall(self, what: tuple[Any, ...], key: bytes) -> Any:
        return self.store.recall(self._digest(what, key)) if self.store is not None else None

    def keep(self, what: tuple[Any, ...], key: bytes, value: Any) -> None:
        if self.store is not None:
            self.store.keep(self._digest(what, key), value)

    @staticmethod
    def _digest(what: tuple[Any, ...], key: bytes) -> bytes:
        # WHAT names the check and all it depends on besides the object (version, rules on).
        return hashlib.blake2b(marshal.dumps(what) + b"\0" + key, digest_size=16).digest()

    def key(self, obj: dict[str, Any]) -> bytes | None:
        known = self._keys.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        try:
            # Version 0 shares nothing between equal strings or objects, so equal content gives equal
            # bytes in any process (later versions mark what happens to be shared in this one).
            key: bytes | None = marshal.dumps(obj, 0)
        except ValueError:  # a value marshal cannot write (a YAML timestamp)
            key = None
        self._keys[id(obj)] = (obj, key)
        return key


def unprintable_problems(resources: list[Resource], memo: ObjectMemo | None = None) -> list[Problem]:
    """Objects kustomize builds but refuses to print (render fails on them): a fleet that does not
    render must not validate."""
    from gitops_gen.repo.emit import check_printable

    memo = memo or ObjectMemo()
    out = []
    for res in resources:
        key = memo.key(res.obj)
        if key is None or key not in memo.unprintable:
            stored = memo.recall(("printable",), key) if key is not None else None
            if stored is not None:
                message = stored[0] if stored else None
            else:
                message = None
                try:
                    check_printable(res.obj)
                except GitopsGenError as err:
                    message = err.message
                if key is not None:
                    memo.keep(("printable",), key, (message,) if message is not None else ())
            if key is not None:
                memo.unprintable[key] = message
        else:
            message = memo.unprintable[key]
        if message is not None:
            out.append(
                Problem(
                    res.origin.path,
                    res.origin.line or 1,
                    1,
                    "error",
                    RENDER.id,
                    f"{res.kind}/{res.name}: {message}",
                )
            )
    return out


def render_problem(err: GitopsGenError, cluster: str) -> Problem:
    return Problem(
        err.path or mapping_path(cluster), err.line or 1, err.col or 1, "error", RENDER.id, err.message
    )


def _version_problem(cluster: Cluster, note: str) -> Problem:
    if "kubernetesVersion" in (cluster.raw.get("spec") or {}):
        line, col = cluster.position("spec", "kubernetesVersion")
        return Problem(cluster.path, line, col, "warning", k8sschema.K8S_VERSION.id, note)
    return Problem(CONFIG_PATH, 1, 1, "warning", k8sschema.K8S_VERSION.id, f"{note} (cluster {cluster.name})")


def object_findings(
    rendered: Rendered,
    version: str | None,
    schemas: k8sschema.ObjectValidator | None,
    focus: tuple[str, ...] | None = None,
    levels: Mapping[str, str] | None = None,
    memo: ObjectMemo | None = None,
) -> list[Finding]:
    """Schema, image and GPU findings on one cluster's rendered objects (located later).

    FOCUS (directory prefixes) limits the per-object checks to objects that come from there;
    GPU feasibility always sees the whole cluster (capacity is a cluster-wide sum). A check
    whose every rule LEVELS turns off is not run. MEMO carries the per-object findings from
    cluster to cluster.
    """
    levels = levels or {}
    if not registry.enabled(k8sschema.K8S_SCHEMA, levels=levels):
        schemas = None
    images = registry.enabled(*hygiene.IMAGE_RULES, levels=levels)
    memo = memo or ObjectMemo()
    out: list[Finding] = []
    checked = []
    for res in rendered.resources:
        if focus is not None and not res.origin.path.startswith(focus):
            continue
        checked.append(res.obj)
        key = memo.key(res.obj)
        found = memo.findings.get((version, key)) if key is not None else None
        what = ("object", version, schemas is not None, images)
        if found is None and key is not None:
            stored = memo.recall(what, key)
            if stored is not None:
                found = memo.findings[(version, key)] = [Finding(*f) for f in stored]
        if found is None:
            found = []
            ref = (res.kind, res.namespace, res.name)
            for err in schemas.errors(version, res.obj) if schemas is not None else ():
                message = f"{res.kind}/{res.name}: {err.message}"
                found.append(Finding(k8sschema.K8S_SCHEMA.id, "error", message, ref, err.path))
            if images:
                found.extend(hygiene.image_findings(res.obj))
            found.extend(silent.image_less_containers(res.obj))
            if key is not None:
                memo.findings[(version, key)] = found
                memo.keep(what, key, tuple(astuple(f) for f in found))
        out.extend(found)
    crds = kube.crd_scopes([r.obj for r in rendered.resources])
    out.extend(namespaces.namespace_findings(checked, version, sync_namespace(rendered.cluster), crds))
    if not registry.enabled(*gpu_rules.RULES, levels=levels):
        return out
    everything = list(rendered.resources)
    everything += [Resource(obj=o, origin=Origin("", "resource")) for o in rendered.cached]
    # One order with or without the demand cache (objects a HelmRelease expands into come after the
    # build's), so messages listing workloads read the same.
    everything.sort(key=legacy_sort_key())
    objects = [r.obj for r in everything]
    out.extend(check_cluster(objects, rendered.cluster.node_pools, key=memo.key, seen=memo.workloads))
    return out


def sync_problems(tree: Tree, cluster: Cluster, schemas: k8sschema.ObjectValidator) -> list[Problem]:
    path = sync_path(cluster.name)
    if tree.kind(path) != "file":
        return []  # generate --check reports it missing
    try:
        docs, maps = yamlio.load_with_lines(tree.read(path), tree.display(path))
    except GitopsGenError as err:
        return [Problem(err.path or path, err.line or 1, err.col or 1, "error", YAML.id, err.message)]
    out = []
    for doc, lines in zip(docs, maps, strict=True):
        if not isinstance(doc, dict):
            continue
        for bad in schemas.errors(None, doc):
            line, col = locate(lines, bad.path)
            out.append(Problem(tree.display(path), line, col, "error", k8sschema.SYNC_SCHEMA.id, bad.message))
    return out


def _find(resources: list[Resource], ref: tuple[str, str, str]) -> Resource | None:
    kind, namespace, name = ref
    for res in resources:
        if res.kind == kind and res.namespace == namespace and res.name == name:
            return res
    return None


def _pool_problem(cluster: Cluster, finding: Finding) -> Problem:
    line, col = cluster.position(*finding.field)
    return Problem(cluster.path, line, col, finding.severity, finding.rule, finding.message)


def locate_findings(
    tree: Tree,
    rendered: dict[str, Rendered],
    index: deps.Index | None = None,
    demand: DemandCache | None = None,
) -> list[tuple[Problem, str]]:
    """Each object finding at the source line that set the value, via a traced rebuild.

    With INDEX, only the mapping entries holding the objects with findings are rebuilt traced,
    once per distinct entry (``EntryLocator``); the whole cluster only where that cannot be known
    to give the same answer.
    """
    out: list[tuple[Problem, str]] = []
    engine: Engine | None = None
    locator = provenance.Locator(tree)
    entries: EntryLocator | None = None
    for name, item in rendered.items():
        pending = [f for f in item.findings if f.obj[0] != "NodePool"]
        out.extend((_pool_problem(item.cluster, f), name) for f in item.findings if f.obj[0] == "NodePool")
        if not pending:
            continue
        engine = engine or Engine(tree, trace=True, warnings=False, parse_cache=ParseCache())
        if index is not None and entries is None:
            entries = EntryLocator(tree, engine, index, locator, demand)
        found = entries.locate(name, item, pending) if entries is not None else None
        if found is None:
            traced = applied_view.applied_view(tree, engine, name, engine.build(f"mapping/{name}")).resources
            found = [_setter(traced, f, locator, name) for f in pending]
        for finding, where in zip(pending, found, strict=True):
            message = command_hint(finding.message, where[0])
            out.append((Problem(*where, finding.severity, finding.rule, message), name))
    return out


Where = tuple[str, int, int]


def _setter(traced: list[Resource], finding: Finding, locator: provenance.Locator, cluster: str) -> Where:
    res = _find(traced, finding.obj)
    setter = provenance.winner(res, finding.field, locator) if res is not None else None
    if setter is not None and setter.line is not None:
        return (setter.path, setter.line, setter.col or 1)
    if res is not None:
        return (res.origin.path, 1, 1)
    return (mapping_path(cluster), 1, 1)


def _canonical(obj: Any) -> bytes:
    """A digest of OBJ's content whatever the order of its keys (traced and plain builds differ there)."""
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=16).digest()


def _same(traced: Any, want: Any, projected: bool) -> bool:
    """The traced object is the one validate judged (for a cached workload: its GPU projection)."""
    if traced is None:
        return False
    return gpu_projection(traced) == want if projected else bool(traced == want)


# What a mapping generate writes may hold: then a whole-mapping build is its entries' builds, joined.
_MAPPING_KEYS = {"apiVersion", "kind", "resources"}
# A variant with only these builds what any variant of the same app naming the same entries builds.
_VARIANT_KEYS = {"apiVersion", "kind", "resources", "components"}


class EntryLocator:
    """Locates findings from traced builds of single mapping entries, shared across clusters.

    A cluster's findings usually sit in a few of its apps, and generated variants of one app that
    name the same components build the same objects (the engine's "twins"), so each distinct entry
    is traced once per run and its answers reused, after checking that the object is byte for byte
    the one validate checked in that cluster.
    """

    def __init__(
        self,
        tree: Tree,
        engine: Engine,
        index: deps.Index,
        locator: provenance.Locator,
        demand: DemandCache | None = None,
    ):
        self.tree = tree
        self.demand = demand  # FILE mode: the entries whose GPU workloads came from the cache
        self.engine = engine
        self.index = index
        self.locator = locator
        # (entry key, object ref, field) -> (the traced object, where it was set, or None)
        self.answers: dict[tuple[Any, ...], tuple[Any, Where | None]] = {}
        self._last: tuple[str, list[Resource]] = ("", [])  # an entry's findings come one after another

    def _kust(self, directory: str) -> dict[str, Any] | None:
        for name in FILE_NAMES:
            path = f"{directory}/{name}"
            if self.tree.kind(path) == "file":
                try:
                    docs = yamlio.load_documents(self.tree.read(path), path)
                except GitopsGenError:
                    return None
                return docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else None
        return None

    def _key(self, entry: str) -> tuple[Any, ...]:
        data = self._kust(entry)
        if data is None or not set(data) <= _VARIANT_KEYS:
            return ("dir", entry)
        lists = tuple(tuple(map(str, data.get(k) or ())) for k in ("resources", "components"))
        return ("twin", posixpath.dirname(entry), *lists)

    def _answer(self, entry: str, finding: Finding, cluster: str) -> tuple[Any, Where | None]:
        """Trace ENTRY; where FINDING was set in it (None: a root-only step of the entry won, which
        the whole mapping records at its own kustomization instead)."""
        if self._last[0] != entry:
            self._last = (entry, self.engine.build(entry))
        traced = self._last[1]
        twin = _find(traced, finding.obj)
        if twin is None:
            return None, None
        where = _setter(traced, finding, self.locator, cluster)
        if posixpath.dirname(where[0]) == entry and posixpath.basename(where[0]) in FILE_NAMES:
            return twin.obj, None
        return twin.obj, where

    def locate(self, cluster: str, item: Rendered, pending: list[Finding]) -> list[Where] | None:
        """Where each of PENDING was set; None when only the whole-mapping traced build can say."""
        mapping = mapping_path(cluster).rsplit("/", 1)[0]
        data = self._kust(mapping)
        if data is None or not set(data) <= _MAPPING_KEYS:
            return None
        self.index.closure(mapping)
        entries = sorted(self.index.refs[mapping].dirs)
        files = {e: set().union(*(self.index.refs[d].files for d in self.index.closure(e))) for e in entries}
        keys: dict[str, tuple[Any, ...]] = {}
        objects = {(r.kind, r.namespace, r.name): r for r in item.resources}
        out: list[Where] = []
        for finding in pending:
            owned = self._owner(objects, finding.obj, entries, files) if item.cached else None
            res = objects.get(finding.obj)
            if owned is None:
                owners = [e for e in entries if res is not None and res.origin.path in files[e]]
                if res is None or len(owners) != 1:
                    return None
                owned = (owners[0], res.obj)
            entry, want = owned
            projected = res is None
            remembered = self.demand.where(entry, (finding.obj, finding.field)) if self.demand else None
            if remembered is not None and remembered[0][projected] == _canonical(want):
                if remembered[1] is None:
                    return None
                out.append(remembered[1])
                continue
            key = keys.get(entry) or keys.setdefault(entry, self._key(entry))
            answer = self.answers.get((key, finding.obj, finding.field))
            if answer is None or not _same(answer[0], want, projected):
                answer = self._answer(entry, finding, cluster)
                self.answers[(key, finding.obj, finding.field)] = answer
            if not _same(answer[0], want, projected):
                return None
            if self.demand is not None:
                digests = (_canonical(answer[0]), _canonical(gpu_projection(answer[0])))
                self.demand.remember(entry, (finding.obj, finding.field), (digests, answer[1]))
            if answer[1] is None:
                return None
            out.append(answer[1])
        return out

    def _owner(
        self,
        objects: dict[tuple[str, str, str], Resource],
        ref: tuple[str, str, str],
        entries: list[str],
        files: dict[str, set[str]],
    ) -> tuple[str, Any] | None:
        """The cached entry holding REF, and its GPU projection, when REF came from the demand cache."""
        if self.demand is None or ref in objects:
            return None
        for entry in entries:
            for obj in self.demand.get(entry) or ():
                if _obj_ref(obj) == ref:
                    return entry, obj
        return None


def command_hint(message: str, path: str) -> str:
    """A suggested `set mig-profile` named for the app and layer of PATH (apps/<app>/<key>/<value>/...)."""
    from gitops_gen.checks.gpu.feasibility import SET_MIG_PROFILE

    if SET_MIG_PROFILE not in message:
        return message
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == "apps" and parts[2] == "base":
        return message.replace(SET_MIG_PROFILE, f"gitops-gen set mig-profile --app {parts[1]}")
    if len(parts) >= 5 and parts[0] == "apps" and parts[2] != "overlays":
        return message.replace(
            SET_MIG_PROFILE, f"gitops-gen set mig-profile --app {parts[1]} --layer {parts[2]}={parts[3]}"
        )
    return message


def merge_clusters(found: Iterable[tuple[Problem, str]]) -> list[Problem]:
    """One problem per source location and message, with the clusters it occurs in."""
    by_problem: dict[Problem, list[str]] = {}
    for problem, cluster in merge_capacity(found):
        names = by_problem.setdefault(problem, [])
        if cluster and cluster not in names:
            names.append(cluster)
    return [replace(problem, clusters=tuple(sorted(names))) for problem, names in by_problem.items()]


def merge_capacity(found: Iterable[tuple[Problem, str]]) -> list[tuple[Problem, str]]:
    """One capacity problem per shortage of a cluster, not one per workload in it: located at the
    first contributing line, the others named in the message."""
    out: list[tuple[Problem, str]] = []
    shortages: dict[tuple[str, str], list[Problem]] = {}
    for problem, cluster in found:
        if problem.rule in (GPU_CAPACITY_EXCEEDED.id, GPU_CAPACITY_ROLLOUT.id, GPU_CAPACITY_AUTOSCALE.id):
            shortages.setdefault((cluster, problem.message), []).append(problem)
        else:
            out.append((problem, cluster))
    for (cluster, _), problems in shortages.items():
        first, *others = sorted(set(problems))
        if others:
            lines = ", ".join(f"{p.path}:{p.line}" for p in (first, *others))
            first = replace(first, message=f"{first.message} (set at {lines})")
        out.append((first, cluster))
    return out


# ---------------------------------------------------------------- the command


def staged_scope(root: Path, index: deps.Index) -> tuple[list[str], deps.Affected]:
    """The paths the index changes against HEAD, and the clusters they affect.

    Additions and modifications count where they are now; a deleted path and the source of a
    rename count where they were, in HEAD's tree, since nothing in the working tree names a
    directory that is gone.
    """
    from gitops_gen.gitflow.git import staged_changes

    changes = staged_changes(root)
    paths = sorted({c.path for c in changes} | {c.old for c in changes if c.old})
    scope = deps.affected(root, paths, index) if paths else deps.Affected(False, frozenset())
    gone = sorted({c.path for c in changes if c.status == "D"} | {c.old for c in changes if c.old})
    return paths, scope.union(head_scope(root, gone))


def files_scope(root: Path, changed: list[str], index: deps.Index) -> deps.Affected:
    """The clusters `validate FILE...` checks for CHANGED (repo-relative paths): where the files are
    used now, where HEAD used the ones that no longer exist (deleted, renamed away), and whatever
    pulls in a Helm chart they are part of."""
    affected = deps.affected(root, changed, index)
    affected = affected.union(head_scope(root, [p for p in changed if not (root / p).exists()]))
    return affected.union(chart_scope(root, changed, index)) if changed else affected


def head_scope(root: Path, gone: list[str]) -> deps.Affected:
    """The clusters that used the paths GONE (deleted or renamed away) at HEAD; none outside a git work tree."""
    from gitops_gen.gitflow.git import RevisionFiles

    nothing = deps.Affected(False, frozenset())
    if not gone:
        return nothing
    try:
        head = RevisionFiles(root, "HEAD")
    except GitopsGenError:  # not a git work tree, or no commit yet: nothing used it
        return nothing
    try:
        return deps.affected(root, gone, deps.Index(root, head))
    finally:
        head.close()


def chart_scope(root: Path, changed: list[str], index: deps.Index) -> deps.Affected:
    """The clusters a change inside a Helm chart affects (the files that pull the chart in)."""
    from gitops_gen.applied.helmrelease import chart_users

    users = chart_users(root, changed)
    if users is None:
        return deps.Affected(True, frozenset())
    return deps.affected(root, users, index) if users else deps.Affected(False, frozenset())


def require_clusters(tree: Tree, names: list[str]) -> None:
    """Every name given with --cluster has a clusters/<name>/cluster.yaml (a broken one counts)."""
    known = cluster_names(tree)
    for name in names:
        if name not in known:
            raise UsageError(f"unknown cluster {name!r} (clusters: {', '.join(known) or 'none'})")


def validate(
    tree: DiskTree,
    clusters: list[str] | None = None,
    files: list[Path] | None = None,
    cwd: Path | None = None,
    staged: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    known: Known | None = None,
) -> list[Problem]:
    """Every problem of the fleet (or of the clusters FILES, or the staged changes, can affect), sorted
    and de-duplicated. ON_PROGRESS is told (clusters done, clusters to check) as the clusters go.
    A whole fleet (or --cluster list) is checked in up to JOBS processes (``workers``), each a part
    of the clusters, finished together as shards are. KNOWN: the scope of FILES, already worked out
    by the caller (commit)."""
    if not files and not staged:
        from gitops_gen import workers
        from gitops_gen.checks.parallel import validate_parallel

        if clusters:
            require_clusters(tree, clusters)
        names = sorted(set(clusters)) if clusters else cluster_names(tree)
        count = workers.worker_count(jobs, len(names))
        if count > 1:
            return finish_parts(validate_parallel(validate_part, tree, clusters, names, count, on_progress))
    part = validate_part(tree, clusters, files, cwd, staged, on_progress=on_progress, known=known)
    return finish_parts([part])


@dataclass
class Known:
    """What FILES change, what they affect (``files_scope``) and the dependency index that answered it:
    ``commit`` needs the answer for its trailer before it validates."""

    changed: list[str]
    affected: deps.Affected
    index: deps.Index


def cluster_names(tree: Tree) -> list[str]:
    """Every cluster with a clusters/<name>/cluster.yaml, broken or not (the set shards split)."""
    return [n for n in tree.listdir("clusters") if tree.kind(f"clusters/{n}/cluster.yaml") == "file"]


def validate_part(
    tree: DiskTree,
    clusters: list[str] | None = None,
    files: list[Path] | None = None,
    cwd: Path | None = None,
    staged: bool = False,
    shard: Collection[str] | None = None,
    fleet_wide: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    keep_cache: Callable[[DemandCache], None] | None = None,
    known: Known | None = None,
) -> Part:
    """What validate finds before the fleet-wide sums (``checks.partial``); with SHARD only those
    clusters are rendered and checked, the fleet-wide checks only with FLEET_WIDE. KEEP_CACHE is
    handed the demand cache instead of it being saved (a worker process gives its share back)."""
    root = tree.root
    # The hook's paths answer from the index: what it learns of the tree is kept for the next run.
    memory = deps.Memory.open(root) if known is None and (staged or files) else None
    index = known.index if known is not None else deps.Index(root, memory=memory)
    affected: deps.Affected | None = None
    changed: list[str] = []
    if known is not None:
        changed, affected = known.changed, known.affected
    elif staged:
        changed, affected = staged_scope(root, index)
    elif files:
        changed = sorted({r for r in (deps.relative(root, f, cwd) for f in files) if r is not None})
        affected = files_scope(root, changed, index)
    if staged and changed and affected is not None:
        affected = affected.union(chart_scope(root, changed, index))
    keep: set[str] | None = None
    if clusters:
        require_clusters(tree, clusters)
        keep = set(clusters)
    if affected is not None and not affected.every:
        keep = set(affected.clusters) if keep is None else keep & set(affected.clusters)
    problems: list[Problem] = []
    loaded = keep
    if shard is not None and not fleet_wide:
        # The whole inventory is judged in the fleet-wide part; another part needs its own clusters
        # only (a layer another part's inventory uses is not unused there, and the merge intersects).
        loaded = set(shard) if keep is None else keep & set(shard)
    fleet, inventory, broken = load_inventory(tree, loaded)
    problems.extend(inventory)
    if fleet is None:
        return Part(fleet_wide=problems if fleet_wide else [])
    levels = fleet.config.rules
    if fleet_wide:
        problems.extend(level_problems(fleet))
        problems.extend(generated_problems(tree, fleet, keep, broken))
        problems.extend(hygiene.missing_bases(tree, fleet))
        problems.extend(silent.unknown_layer_values(tree, fleet))
    part = Part(dict(levels), problems if fleet_wide else [])

    schemas = k8sschema.ObjectValidator()
    engine = Engine(tree, warnings=False, parse_cache=ParseCache())
    index.parsed = engine.parsed  # the same working tree: what the builds parsed, the index reads
    cache = DemandCache.open(root, index)
    memo = ObjectMemo(cache)
    touched = set(changed) | (set(affected.reaching) if affected is not None else set())
    rendered: dict[str, Rendered] = {}
    found: list[tuple[Problem, str]] = []
    mine = [(n, c) for n, c in fleet.clusters.items() if shard is None or n in shard]
    for done, (name, cluster) in enumerate(mine):
        memo.forget()
        if on_progress is not None:
            on_progress(done, len(mine))
        if registry.enabled(k8sschema.SYNC_SCHEMA, levels=levels):
            found.extend((p, name) for p in sync_problems(tree, cluster, schemas))
        if tree.kind(f"mapping/{name}") != "dir":
            continue  # generate --check reports the missing mapping
        focus = focus_of(affected, changed, name)
        cached: list[dict[str, Any]] = []
        try:
            partial = (
                cache.partial(engine, name, touched) if cache and affected and focus is not None else None
            )
            if partial is None:
                resources = engine.build(f"mapping/{name}")
                if cache is not None:
                    cache.learn(name, resources)
            else:
                resources, cached = partial
            resources, cached, notes = applied_view.for_validate(tree, engine, name, resources, cached)
            found.extend((note, name) for note in notes)
        except GitopsGenError as err:
            found.append((render_problem(err, name), name))
            continue
        found.extend((p, name) for p in unprintable_problems(resources, memo))
        version, note = k8sschema.resolve_version(cluster.kubernetes_version)
        if note:
            found.append((_version_problem(cluster, note), name))
        item = Rendered(cluster, resources, cached=cached)
        item.findings = silent.marked_in_source(
            tree, resources, object_findings(item, version, schemas, focus, levels, memo)
        )
        rendered[name] = item
    memo.forget()
    if on_progress is not None:
        on_progress(len(mine), len(mine))
    try:
        found.extend(locate_findings(tree, {n: r for n, r in rendered.items() if r.findings}, index, cache))
    except GitopsGenError as err:  # the traced build must not fail where the plain one passed; be safe
        found.append(
            (Problem(err.path or ".", err.line or 1, err.col or 1, "error", RENDER.id, err.message), "")
        )
    if cache is not None and keep_cache is not None:
        keep_cache(cache)
    elif cache is not None:
        cache.save(keep_only_seen=affected is None and not clusters and shard is None)
    index.remember()
    part.per_cluster = merge_clusters(silent.unfilled(tree, found))
    # With a broken cluster.yaml or --cluster we cannot know which layers the fleet uses: no layer-unused.
    if registry.enabled(hygiene.PATCH_TARGET_UNMATCHED, hygiene.LAYER_UNUSED, levels=levels):
        part.patch_hits, part.layer_unused = hygiene_part(
            tree, fleet, rendered, index, affected, changed, layers=not broken and not clusters
        )
    return part


def level_problems(fleet: Fleet) -> list[Problem]:
    """gitops-gen.yaml's `rules:` naming a rule that does not exist (a typo would silently do nothing)."""
    config = fleet.config
    return [
        Problem(
            config.path,
            *config.position("rules", rule_id),
            "error",
            SCHEMA.id,
            f"rules.{rule_id}: no such rule (see `gitops-gen validate --list-rules`)",
        )
        for rule_id in registry.unknown_levels(config.rules)
    ]


def focus_of(affected: deps.Affected | None, changed: list[str], cluster: str) -> tuple[str, ...] | None:
    """With FILES, the app directories whose objects can have changed in CLUSTER (None: all of them)."""
    if affected is None or affected.every:
        return None
    if any(p.split("/")[:2] in (["clusters", cluster], ["mapping", cluster]) for p in changed):
        return None  # the cluster's own inventory or mapping changed: anything may differ
    apps = {"/".join(d.split("/")[:2]) + "/" for d in affected.reaching if d.startswith("apps/")}
    apps |= {"/".join(p.split("/")[:2]) + "/" for p in changed if p.startswith("apps/") and p.count("/") >= 2}
    if any(not d.startswith("apps/") for d in affected.reaching):
        return None  # a directory outside apps/ is involved: do not guess which objects it feeds
    return tuple(sorted(apps))


def hygiene_part(
    tree: Tree,
    fleet: Fleet,
    rendered: dict[str, Rendered],
    index: deps.Index,
    affected: deps.Affected | None,
    changed: list[str],
    layers: bool = True,
) -> tuple[dict[str, tuple[int, list[hygiene.PatchHit]]], list[Problem] | None]:
    """Patch-target hits of the RENDERED clusters and the layer directories they leave unused
    (None: not judged), only those FILES touch, with FILES (``checks.partial`` finishes both)."""
    users: dict[str, list[list[Resource]]] = {}
    reached: set[str] = set()
    for name, item in rendered.items():
        for directory in index.closure(f"mapping/{name}"):
            reached.add(directory)
            users.setdefault(directory, []).append(item.resources)
    only: set[str] | None = None
    if affected is not None:
        scope = set(affected.reaching)
        users = {d: r for d, r in users.items() if d in scope}
        only = {"/".join(p.split("/")[:4]) for p in changed if p.startswith("apps/") and p.count("/") >= 3}
        if affected.every:
            only = None
    hits = hygiene.target_hits(tree, users)
    if layers and (affected is None or only):
        return hits, hygiene.unused_layers(tree, fleet, reached, only)
    return hits, None


def finish(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems))


def exit_code(problems: Iterable[Problem]) -> int:
    return 1 if any(p.severity == "error" for p in problems) else 0
