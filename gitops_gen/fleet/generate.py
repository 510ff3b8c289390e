"""`gitops-gen generate`: the variants, mappings and sync objects derived from the inventory.

``plan`` is pure: it reads the tree and returns every generated file's bytes plus
how the tree differs from them. Writing happens only after the whole plan is
known, so bad input writes nothing. A generated file is recognised by its
header line; a file without it is hand-written and never touched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_gen.applied.variables import cluster_vars
from gitops_gen.checks.model import Rule
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.fleet.inventory import CLUSTERS_DIR, AppRef, Cluster, Config, Fleet, app_namespace
from gitops_gen.fleet.layout import (
    APPS_DIR,
    HEADER_PREFIX,
    KUSTOMIZATION,
    MAPPING_DIR,
    OVERLAYS_DIR,
    SYNC_FILE,
    header,
    is_generated,
)
from gitops_gen.kustomize.kustfile import plain_namespace
from gitops_gen.kustomize.types import KUSTOMIZATION_VERSION
from gitops_gen.repo.files import inside, remove_dead_temp_files, remove_file, write_atomic_many
from gitops_gen.repo.tree import Tree

_CHECK = "fleet.generate.check_generated"
GENERATED_STALE = Rule(
    "generated-stale",
    "error",
    "inventory",
    "a generated file is stale, missing or no longer belongs: run `gitops-gen generate`",
    _CHECK,
)
GENERATED_CONFLICT = Rule(
    "generated-conflict", "error", "inventory", "a hand-written file sits where generate must write", _CHECK
)
APP_MISSING = Rule(
    "app-missing",
    "error",
    "inventory",
    "a cluster lists an app with no apps/<app>/base/",
    "fleet.generate.check_app_sources",
)
OVERLAY_MISSING = Rule(
    "overlay-missing",
    "error",
    "inventory",
    "a cluster names a hand-written overlay directory that does not exist",
    "fleet.generate.check_app_sources",
)
RULES = (GENERATED_STALE, GENERATED_CONFLICT, APP_MISSING, OVERLAY_MISSING)

NAMESPACES_FILE = "namespaces.yaml"

# Flux convention: `flux bootstrap` names the repository's GitRepository flux-system in flux-system.
FLUX_SOURCE = {"kind": "GitRepository", "name": "flux-system"}
FLUX_NAMESPACE = "flux-system"
FLUX_INTERVAL = "10m"
ARGOCD_NAMESPACE = "argocd"
ARGOCD_PROJECT = "default"
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# Namespaces every cluster has: a Namespace object for them would let the engine prune (delete) them.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

MISSING, STALE, EXTRA = "missing", "stale", "extra"


@dataclass(frozen=True)
class Plan:
    files: dict[str, bytes]  # every generated path -> its bytes, sorted by path
    extra: list[str]  # existing generated files that no longer belong
    changes: list[tuple[str, str]] = field(default_factory=list)  # (path, missing|stale|extra), by path

    @property
    def current(self) -> bool:
        return not self.changes


def variant_path(app: str, cluster: str) -> str:
    return f"{APPS_DIR}/{app}/{OVERLAYS_DIR}/{cluster}/{KUSTOMIZATION}"


def mapping_path(cluster: str) -> str:
    return f"{MAPPING_DIR}/{cluster}/{KUSTOMIZATION}"


def sync_path(cluster: str) -> str:
    return f"{CLUSTERS_DIR}/{cluster}/{SYNC_FILE}"


SOURCEIGNORE = ".sourceignore"
GENERATED_PLACES = re.compile(
    rf"^({CLUSTERS_DIR}/[^/]+/{re.escape(SYNC_FILE)}|{MAPPING_DIR}/[^/]+/{re.escape(KUSTOMIZATION)}"
    rf"|{MAPPING_DIR}/[^/]+/{re.escape(NAMESPACES_FILE)}"
    rf"|{APPS_DIR}/[^/]+/{OVERLAYS_DIR}/[^/]+/{re.escape(KUSTOMIZATION)}|{re.escape(SOURCEIGNORE)})$"
)


def is_generated_place(path: str) -> bool:
    """Whether generate writes (or removes) files at the repo-relative PATH."""
    return GENERATED_PLACES.match(path) is not None


def namespaces_path(cluster: str) -> str:
    return f"{MAPPING_DIR}/{cluster}/{NAMESPACES_FILE}"


def _dump(obj: dict[str, Any]) -> str:
    # Block style, keys in insertion order, kustomize-like indentless lists: stable bytes.
    return yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, width=4096)


class DirCache:
    """Which directories exist, asked once each: a fleet asks the same few questions thousands of times."""

    def __init__(self, tree: Tree):
        self.tree = tree
        self._dirs: dict[str, bool] = {}
        self._names: dict[str, frozenset[str]] = {}

    def is_dir(self, path: str) -> bool:
        found = self._dirs.get(path)
        if found is None:
            found = self._dirs[path] = self.tree.kind(path) == "dir"
        return found

    def has_dir(self, parent: str, name: str) -> bool:
        """Whether PARENT/NAME is a directory; one listing of PARENT answers most of these."""
        names = self._names.get(parent)
        if names is None:
            names = self._names[parent] = frozenset(self.tree.listdir(parent))
        return name in names and self.is_dir(f"{parent}/{name}")


# ---------------------------------------------------------------- the generated files


def variant_components(tree: Tree | DirCache, cluster: Cluster, app: str) -> list[str]:
    """The component directories of APP that exist for CLUSTER, relative to its variant, in layer order."""
    dirs = tree if isinstance(tree, DirCache) else DirCache(tree)
    return [
        f"../../{layer}/{value}"
        for layer, value in cluster.layer_chain
        if dirs.has_dir(f"{APPS_DIR}/{app}/{layer}", value)
    ]


def render_variant(tree: Tree | DirCache, cluster: Cluster, app: str, namespace: str | None = None) -> bytes:
    # Written by hand, not dumped: every entry is a relative path starting "../../", always a plain string,
    # and a namespace is a DNS label (the schema's pattern), never needing quotes.
    lines = [header(cluster.path).rstrip("\n"), f"apiVersion: {KUSTOMIZATION_VERSION}", "kind: Kustomization"]
    if namespace is not None:
        lines.append(f"namespace: {namespace}" if plain_namespace(namespace) else f'namespace: "{namespace}"')
    lines += ["resources:", "- ../../base"]
    components = variant_components(tree, cluster, app)
    if components:
        lines.append("components:")
        lines.extend(f"- {path}" for path in components)
    return ("\n".join(lines) + "\n").encode()


def app_entry(app: AppRef, cluster: str) -> str:
    """The path mapping/<cluster>/ lists for APP."""
    if app.overlay is not None:
        return f"../../{APPS_DIR}/{app.name}/{app.overlay}"
    return f"../../{APPS_DIR}/{app.name}/{OVERLAYS_DIR}/{cluster}"


def engine_namespace(cluster: Cluster) -> str:
    """The namespace of the cluster's sync object."""
    if cluster.engine == "argocd":
        return str(cluster.argocd.get("namespace", ARGOCD_NAMESPACE))
    return str(cluster.flux.get("namespace", FLUX_NAMESPACE))


def sync_namespace(cluster: Cluster) -> str | None:
    """The namespace the sync object gives objects that have none (Flux targetNamespace, Argo destination)."""
    if cluster.engine == "argocd":
        return cluster.argocd.get("destinationNamespace")
    return cluster.flux.get("targetNamespace")


def cluster_namespaces(config: Config, cluster: Cluster) -> list[str]:
    """The Namespace objects mapping/<cluster>/ creates: every enabled app's namespace, sorted.

    Flux's targetNamespace moves every object into that one namespace, so it is then the only
    one. System namespaces and the engine's own are never created (pruning one would delete it).
    """
    target = cluster.flux.get("targetNamespace") if cluster.engine == "flux" else None
    wanted = {target} if target else {app_namespace(config, app) for app in cluster.enabled_apps}
    skip = SYSTEM_NAMESPACES | {engine_namespace(cluster)}
    return sorted(n for n in wanted if n is not None and n not in skip)


def _scalar(name: str) -> str:
    return name if plain_namespace(name) else f'"{name}"'


def render_namespaces(cluster: Cluster, names: list[str]) -> bytes:
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_scalar(name)}\n" for name in names]
    return (header(cluster.path) + "---\n".join(docs)).encode()


def render_mapping(cluster: Cluster, namespaces: bool = False) -> bytes:
    lines = [header(cluster.path).rstrip("\n"), f"apiVersion: {KUSTOMIZATION_VERSION}", "kind: Kustomization"]
    lines.append("resources:" if cluster.enabled_apps or namespaces else "resources: []")
    if namespaces:
        lines.append(f"- {NAMESPACES_FILE}")
    for app in cluster.apps:
        entry = app_entry(app, cluster.name)
        # Disabled apps stay visible (and trivially re-enabled) as a comment.
        lines.append(f"- {entry}" if app.enabled else f"# - {entry}   (disabled)")
    return ("\n".join(lines) + "\n").encode()


def _flux_sync(config: Config, cluster: Cluster) -> dict[str, Any]:
    flux = cluster.flux
    spec: dict[str, Any] = {"interval": flux.get("interval", FLUX_INTERVAL)}
    for key in ("retryInterval", "timeout"):
        if key in flux:
            spec[key] = flux[key]
    spec["path"] = f"./{MAPPING_DIR}/{cluster.name}"
    spec["prune"] = flux.get("prune", True)
    source = {**FLUX_SOURCE, **flux.get("sourceRef", {})}
    spec["sourceRef"] = {key: source[key] for key in ("kind", "name", "namespace") if key in source}
    for key in ("wait", "targetNamespace", "serviceAccountName"):
        if key in flux:
            spec[key] = flux[key]
    if "dependsOn" in flux:
        spec["dependsOn"] = [{"name": d} if isinstance(d, str) else dict(d) for d in flux["dependsOn"]]
    if "decryption" in flux:
        spec["decryption"] = flux["decryption"]
    substitute = cluster_vars(config, cluster)
    if substitute is not None:
        spec["postBuild"] = {"substitute": substitute}
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": cluster.name, "namespace": engine_namespace(cluster)},
        "spec": spec,
    }


def _argocd_sync(config: Config, cluster: Cluster) -> dict[str, Any]:
    argo = cluster.argocd
    metadata: dict[str, Any] = {"name": cluster.name, "namespace": engine_namespace(cluster)}
    if argo.get("finalizer"):
        metadata["finalizers"] = [ARGOCD_FINALIZER]
    destination = {"name": cluster.name}
    if "destinationNamespace" in argo:
        destination["namespace"] = argo["destinationNamespace"]
    policy: dict[str, Any] = {
        "automated": {"prune": argo.get("prune", True), "selfHeal": argo.get("selfHeal", True)}
    }
    if argo.get("syncOptions"):
        policy["syncOptions"] = list(argo["syncOptions"])
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": {
            "project": argo.get("project", ARGOCD_PROJECT),
            "source": {
                "repoURL": config.repo_url,
                "targetRevision": config.branch,
                "path": f"{MAPPING_DIR}/{cluster.name}",
            },
            "destination": destination,
            "syncPolicy": policy,
        },
    }


def render_sync(config: Config, cluster: Cluster) -> bytes:
    body = _argocd_sync(config, cluster) if cluster.engine == "argocd" else _flux_sync(config, cluster)
    return (header(cluster.path) + _dump(body)).encode()


# ---------------------------------------------------------------- planning


def check_app_sources(tree: Tree, fleet: Fleet, dirs: DirCache | None = None) -> list[Problem]:
    """Every app a cluster lists must have a base (or the named hand-written overlay)."""
    dirs = dirs or DirCache(tree)
    problems = []
    for cluster in fleet.clusters.values():
        where = tree.display(cluster.path)
        for app in cluster.apps:
            if app.overlay is not None:
                target = f"{APPS_DIR}/{app.name}/{app.overlay}"
                if not dirs.is_dir(target):
                    problems.append(
                        Problem(
                            where,
                            app.line,
                            app.col,
                            "error",
                            OVERLAY_MISSING.id,
                            f"app {app.name!r}: overlay directory {target}/ does not exist",
                        )
                    )
            elif not dirs.is_dir(f"{APPS_DIR}/{app.name}/base"):
                problems.append(
                    Problem(
                        where,
                        app.line,
                        app.col,
                        "error",
                        APP_MISSING.id,
                        f"app {app.name!r} has no {APPS_DIR}/{app.name}/base/ directory",
                    )
                )
    return problems


def render_sourceignore() -> bytes:
    """Flux's .sourceignore (gitignore syntax): a cluster bootstrapped at clusters/<cluster>/ must apply
    sync.yaml there, not the inventory file next to it. Written for every fleet (Argo CD ignores it), so
    it does not depend on which clusters a scoped validate sees."""
    return (
        header("gitops-gen.yaml")
        + "# Flux: the inventory files are not Kubernetes objects; do not apply them.\n"
        f"{CLUSTERS_DIR}/*/cluster.yaml\n"
    ).encode()


def generated_candidates(tree: Tree) -> dict[str, bytes]:
    """Existing files at the places generate writes to (generated or not), with their bytes."""
    paths = [SOURCEIGNORE, *(sync_path(name) for name in tree.listdir(CLUSTERS_DIR))]
    paths += [mapping_path(name) for name in tree.listdir(MAPPING_DIR)]
    paths += [namespaces_path(name) for name in tree.listdir(MAPPING_DIR)]
    for app in tree.listdir(APPS_DIR):
        paths += [variant_path(app, cluster) for cluster in tree.listdir(f"{APPS_DIR}/{app}/{OVERLAYS_DIR}")]
    found = {}
    for path in sorted(paths):
        try:
            found[path] = tree.read(path)
        except GitopsGenError:  # not a file (or a link out of the repo, which we will not write through)
            continue
    return found


def _plan(tree: Tree, fleet: Fleet) -> tuple[Plan, list[Problem]]:
    dirs = DirCache(tree)
    problems = check_app_sources(tree, fleet, dirs)
    files: dict[str, bytes] = {SOURCEIGNORE: render_sourceignore()}
    for cluster in fleet.clusters.values():
        files[sync_path(cluster.name)] = render_sync(fleet.config, cluster)
        namespaces = cluster_namespaces(fleet.config, cluster)
        files[mapping_path(cluster.name)] = render_mapping(cluster, bool(namespaces))
        if namespaces:
            files[namespaces_path(cluster.name)] = render_namespaces(cluster, namespaces)
        for app in cluster.apps:
            if app.enabled and app.overlay is None:
                files[variant_path(app.name, cluster.name)] = render_variant(
                    dirs, cluster, app.name, app_namespace(fleet.config, app)
                )
    changes: list[tuple[str, str]] = []
    extra: list[str] = []
    existing = generated_candidates(tree)
    for path in sorted(existing.keys() | files.keys()):
        current = existing.get(path)
        if current is not None and not is_generated(current):
            if path in files:
                problems.append(
                    Problem(
                        tree.display(path),
                        1,
                        1,
                        "error",
                        GENERATED_CONFLICT.id,
                        f"a hand-written file is where gitops-gen generates one (no '{HEADER_PREFIX.decode()}' "
                        "header): move it away or delete it",
                    )
                )
            continue
        if path not in files:
            extra.append(path)
            changes.append((path, EXTRA))
        elif current is None:
            changes.append((path, MISSING))
        elif current != files[path]:
            changes.append((path, STALE))
    return Plan(dict(sorted(files.items())), extra, changes), problems


def plan(tree: Tree, fleet: Fleet) -> Plan:
    """Every generated file and how the tree differs; GitopsGenError for input generate must refuse."""
    result, problems = _plan(tree, fleet)
    if problems:
        first = problems[0]
        raise GitopsGenError(first.message, first.path, first.line, first.col)
    return result


def check_generated(tree: Tree, fleet: Fleet) -> list[Problem]:
    """For validate: refusals of generate plus one ``generated-stale`` problem per out-of-date file."""
    result, problems = _plan(tree, fleet)
    for path, status in result.changes:
        problems.append(
            Problem(
                tree.display(path),
                1,
                1,
                "error",
                GENERATED_STALE.id,
                f"generated file is {status}: run `gitops-gen generate`",
            )
        )
    return sorted(problems)


# ---------------------------------------------------------------- the command


def apply_plan(
    repo: Path,
    result: Plan,
    also: Iterable[tuple[Path, bytes]] = (),
    sweep_all: bool = True,
) -> list[tuple[str, str]]:
    """Write the changed files (and ALSO, in the same all-or-nothing write) and remove the extra ones;
    returns (path, written|removed). Temp files dead runs left next to generated files go first: in
    every directory generate writes to, or with SWEEP_ALL false (the caller swept where they lie) only
    in those written now."""
    root = repo.resolve()
    targets = {path: inside(root, path) for path, _ in result.changes}  # refuse escapes before any write
    swept = [*result.files, *result.extra] if sweep_all else targets
    remove_dead_temp_files({root / os.path.dirname(path) for path in swept})
    writes = [
        *also,
        *((targets[path], result.files[path]) for path, status in result.changes if status != EXTRA),
    ]
    write_atomic_many(writes)
    done = []
    for path, status in result.changes:
        if status == EXTRA:
            remove_file(targets[path], root)
        done.append((path, "removed" if status == EXTRA else "written"))
    return done
