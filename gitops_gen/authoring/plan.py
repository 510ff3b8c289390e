"""Planning a change: each planner reads a ``Tree`` and returns a ``Change`` (the new bytes of
every file it creates or edits, the clusters affected, notes); ``apply_change`` checks the
repository as it will be (inventory, generate plan) and only then writes. Bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops_gen.authoring.edits import (
    _K8S_VERSION,
    ImageRef,
    _load_all,
    base_workload,
    check_layer_value,
    check_name,
    has_base,
    kustomization_file,
    match_image,
    pinned_image,
    renames,
    require_base,
    select_clusters,
    set_app_enabled,
    set_image_entry,
    users_of,
)
from gitops_gen.authoring.roundtrip import detect_indent
from gitops_gen.authoring.scaffold import app_files, cluster_from, cluster_text, component_text, layer_files
from gitops_gen.authoring.scaffold_placeholders import PLACEHOLDER_REGISTRY, PLACEHOLDER_TAG
from gitops_gen.errors import GitopsGenError, UsageError
from gitops_gen.fleet.generate import apply_plan, plan
from gitops_gen.fleet.inventory import CLUSTER_LAYER, Fleet, load_fleet
from gitops_gen.fleet.layout import APPS_DIR, BASE_DIR, CLUSTER_FILE, CLUSTERS_DIR
from gitops_gen.repo.files import edit_target, remove_dead_temp_files
from gitops_gen.repo.tree import DiskTree, Kind, Tree


@dataclass(frozen=True)
class Change:
    """What a command will write: new bytes per repo-relative path, and what to tell the user."""

    files: dict[str, bytes]
    clusters: tuple[str, ...] = ()  # clusters whose rendered manifests may change
    notes: tuple[str, ...] = ()


def _encode(files: Mapping[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def _check_layers(fleet: Fleet, layers: Mapping[str, str]) -> dict[str, str]:
    """LAYERS in config order: exactly one value for every configured layer."""
    configured = fleet.config.layers
    unknown = [k for k in layers if k not in configured]
    if unknown:
        known = ", ".join(configured) or "none"
        raise UsageError(f"--layer {unknown[0]}: unknown layer (gitops-gen.yaml layers: {known})")
    missing = [k for k in configured if k not in layers]
    if missing:
        raise UsageError(
            f"missing --layer for {', '.join(missing)} (every cluster needs a value for each "
            f"layer of gitops-gen.yaml: {', '.join(configured)})"
        )
    for key in configured:
        check_layer_value(key, layers[key], fleet)
    return {key: layers[key] for key in configured}


def _cluster_offset(tree: Tree, fleet: Fleet) -> int:
    """The dash offset the repo's cluster files use (the first one's), so a new one looks like its siblings."""
    for cluster in fleet.clusters.values():
        text = tree.read(cluster.path).decode("utf-8", "replace")
        return detect_indent(text, 2)[2]
    return 2


def plan_new_cluster(
    tree: Tree,
    fleet: Fleet,
    name: str,
    layers: Mapping[str, str],
    engine: str | None = None,
    from_cluster: str | None = None,
    kubernetes_version: str | None = None,
) -> Change:
    check_name(name, "cluster")
    if kubernetes_version is not None and not _K8S_VERSION.match(kubernetes_version):
        raise UsageError(f"--kubernetes-version {kubernetes_version!r}: expected a minor version like 1.30")
    path = f"{CLUSTERS_DIR}/{name}/{CLUSTER_FILE}"
    if name in fleet.clusters or tree.kind(f"{CLUSTERS_DIR}/{name}") is not None:
        raise GitopsGenError(f"cluster {name!r} already exists", tree.display(path))
    ordered = _check_layers(fleet, layers)
    if from_cluster is not None:
        source = fleet.cluster(from_cluster)
        text = cluster_from(
            tree.read(source.path).decode("utf-8"),
            tree.display(source.path),
            name,
            ordered,
            engine,
            kubernetes_version,
        )
    else:
        text = cluster_text(name, ordered, engine, kubernetes_version, _cluster_offset(tree, fleet))
    return Change({path: text.encode()}, (name,))


def plan_new_app(tree: Tree, name: str, image: str | None = None) -> Change:
    check_name(name, "app")
    ref = pinned_image(image) if image else ImageRef(f"{PLACEHOLDER_REGISTRY}/{name}", PLACEHOLDER_TAG)
    if tree.kind(f"{APPS_DIR}/{name}/{BASE_DIR}") is not None:
        raise GitopsGenError(f"app {name!r} already exists", tree.display(f"{APPS_DIR}/{name}/{BASE_DIR}"))
    notes: tuple[str, ...] = (f"{name} runs nowhere yet: `gitops-gen enable {name} --cluster C`",)
    if not image:
        notes = (
            f"no --image: wrote the placeholder {ref} (validate warns while it reaches a cluster)",
            *notes,
        )
    return Change(_encode(app_files(name, ref)), (), notes)


def _layer_notes(fleet: Fleet, app: str, key: str, value: str) -> tuple[str, ...]:
    if key != CLUSTER_LAYER and not any(c.layers.get(key) == value for c in fleet.clusters.values()):
        return (f"no cluster has {key}={value} yet",)
    return ()


def plan_new_layer(tree: Tree, fleet: Fleet, app: str, key: str, value: str) -> Change:
    require_base(tree, app)
    check_layer_value(key, value, fleet, "layer")
    directory = f"{APPS_DIR}/{app}/{key}/{value}"
    if tree.kind(directory) is not None:
        raise GitopsGenError(f"layer component {directory}/ already exists", tree.display(directory))
    files = layer_files(app, key, value, base_workload(tree, app))
    return Change(
        _encode(files),
        users_of(fleet, app, (key, value), generated_only=True),
        _layer_notes(fleet, app, key, value),
    )


def plan_enable(
    tree: Tree,
    fleet: Fleet,
    app: str,
    enabled: bool,
    clusters: Iterable[str] = (),
    where: Mapping[str, str] | None = None,
) -> Change:
    chosen = select_clusters(fleet, clusters, where or {})
    refs = [next((r for r in c.apps if r.name == app), None) for c in chosen]
    # An app needs a base, unless the clusters run it from a hand-written (chain) overlay.
    needs_base = any((ref is None and enabled) or (ref is not None and ref.overlay is None) for ref in refs)
    if not has_base(tree, app) and (needs_base or all(ref is None for ref in refs)):
        require_base(tree, app)
    files: dict[str, bytes] = {}
    affected: list[str] = []
    notes: list[str] = []
    for cluster in chosen:
        text = tree.read(cluster.path).decode("utf-8")
        new, outcome = set_app_enabled(text, tree.display(cluster.path), app, enabled)
        if new != text:
            files[cluster.path] = new.encode()
            affected.append(cluster.name)
        else:
            notes.append(f"{cluster.name}: {app} {outcome}")
    return Change(files, tuple(affected), tuple(notes))


def _renames(tree: Tree, directory: str, every: bool = False) -> dict[str, str]:
    """name -> newName of the ``images:`` entries of the kustomization in DIRECTORY (EVERY: also
    the entries that keep the name, mapped to themselves)."""
    path = kustomization_file(tree, directory)
    docs = _load_all(tree, path) if path is not None else []
    images = docs[0].get("images") if docs and isinstance(docs[0], dict) else None
    out: dict[str, str] = {}
    for entry in images if isinstance(images, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            new_name = entry.get("newName")
            if isinstance(new_name, str):
                out[entry["name"]] = new_name
            elif every:
                out[entry["name"]] = entry["name"]
    return out


def names_at_layer(tree: Tree, fleet: Fleet, app: str, base_name: str, key: str, value: str) -> list[str]:
    """The names image BASE_NAME has when layer KEY=VALUE of APP applies, over the clusters that use it.

    kustomize matches an ``images:`` entry against the image as the earlier layers left it,
    so a rename (``newName``) in the base or an earlier layer changes the name to match.
    """
    start = _renames(tree, f"{APPS_DIR}/{app}/{BASE_DIR}").get(base_name, base_name)
    names: list[str] = []
    for cluster in fleet.clusters.values():
        if cluster.name not in users_of(fleet, app, (key, value), generated_only=True):
            continue
        name = start
        for layer in cluster.layer_chain:
            if layer == (key, value):
                break
            name = _renames(tree, f"{APPS_DIR}/{app}/{layer[0]}/{layer[1]}").get(name, name)
        names.append(name)
    return list(dict.fromkeys(names)) or [start]


def plan_set_image(
    tree: Tree, fleet: Fleet, app: str, image: str, layer: tuple[str, str] | None = None
) -> Change:
    require_base(tree, app)
    ref = pinned_image(image)
    base_name = match_image(tree, app, ref)
    notes: tuple[str, ...] = ()
    if layer is None:
        directory = f"{APPS_DIR}/{app}/{BASE_DIR}"
        path = kustomization_file(tree, directory)
        if path is None:
            raise GitopsGenError(f"no kustomization.yaml in {directory}/", tree.display(directory))
        text = tree.read(path).decode("utf-8")
        affected = users_of(fleet, app)
        names = [base_name]
    else:
        key, value = layer
        check_layer_value(key, value, fleet)
        directory = f"{APPS_DIR}/{app}/{key}/{value}"
        found = kustomization_file(tree, directory)
        path = found or f"{directory}/kustomization.yaml"
        text = tree.read(path).decode("utf-8") if found else component_text(app, key, value)
        affected = users_of(fleet, app, layer, generated_only=True)
        notes = _layer_notes(fleet, app, key, value)
        names = names_at_layer(tree, fleet, app, base_name, key, value)
    new = text
    for name in names:
        new = set_image_entry(new, tree.display(path), name, ref)
    if new == text:
        return Change({}, (), (f"{path}: already sets {base_name} to {ref}",))
    if any(renames(ref, name) for name in names):
        notes += stranded_entries(tree, fleet, app, set(names) - {ref.name}, layer)
    return Change({path: new.encode()}, affected, notes)


def stranded_entries(
    tree: Tree, fleet: Fleet, app: str, names: set[str], layer: tuple[str, str] | None
) -> tuple[str, ...]:
    """Notes for the ``images:`` entries of later layers keyed on a name a rename makes stale:
    kustomize matches an entry against the image as the earlier layers left it."""
    layers = list(fleet.config.all_layers)
    later = layers if layer is None else layers[layers.index(layer[0]) + 1 :]
    notes = []
    for key in later:
        for value in tree.listdir(f"{APPS_DIR}/{app}/{key}"):
            directory = f"{APPS_DIR}/{app}/{key}/{value}"
            for name in sorted(names & set(_renames(tree, directory, every=True))):
                shown = kustomization_file(tree, directory) or directory
                notes.append(
                    f"{shown} sets images for {name!r}, which the rename makes it miss: use the new name"
                )
    return tuple(notes)


@dataclass
class OverlayTree:
    """BASE with FILES written over it: what the repository will look like, before anything is written."""

    base: Tree
    files: Mapping[str, bytes] = field(default_factory=dict)

    def read(self, path: str) -> bytes:
        found = self.files.get(path)
        return found if found is not None else self.base.read(path)

    def kind(self, path: str) -> Kind | None:
        if path in self.files:
            return "file"
        prefix = f"{path}/" if path else ""
        if any(p.startswith(prefix) for p in self.files):
            return "dir"
        return self.base.kind(path)

    def canonical(self, path: str) -> str | None:
        """PATH with its symlinks resolved (the engine's load restrictor asks); new files are no links."""
        resolve = getattr(self.base, "canonical", None)
        if path in self.files or resolve is None:
            return path
        return resolve(path)

    def listdir(self, path: str) -> list[str]:
        names = set(self.base.listdir(path))
        prefix = f"{path}/" if path else ""
        names.update(p[len(prefix) :].split("/", 1)[0] for p in self.files if p.startswith(prefix))
        return sorted(names)

    def display(self, path: str) -> str:
        return self.base.display(path)


def apply_change(repo: Path, change: Change) -> list[tuple[str, str]]:
    """Write CHANGE and regenerate; (path, created|edited|written|removed) for everything touched.

    The repository as it will be is checked first (inventory, generate plan), so
    a change that would leave it broken fails before any file is written.
    """
    disk = DiskTree(repo)
    after = OverlayTree(disk, change.files)
    generated = plan(after, load_fleet(after))
    root = repo.resolve()
    targets = {path: edit_target(root, path) for path in change.files}
    done = [(path, "edited" if disk.kind(path) == "file" else "created") for path in sorted(change.files)]
    remove_dead_temp_files({path.parent for path in targets.values()})
    # The edits and the regenerated files in one all-or-nothing write.
    edits = [(targets[path], change.files[path]) for path in sorted(change.files)]
    return done + apply_plan(repo, generated, also=edits)
