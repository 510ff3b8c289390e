"""The applied view: what a cluster's GitOps engine applies, not only what `kustomize build` prints.

Flux's kustomize-controller edits the kustomization at `spec.path` before building it
(`targetNamespace` becomes `namespace`, `namePrefix`/`nameSuffix` replace the file's own,
`patches` and `components` are appended, `images` merged by name), then substitutes post-build
variables into each object, then sets `commonMetadata` labels and annotations at apply time.
Argo CD puts namespaced objects without a namespace into `destination.namespace`.
We do the same edit in memory (the repository is never written) and build it with our engine.

A cluster whose sync object asks for none of this gets exactly the plain build, at the cost of
reading its sync.yaml once.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from typing import Any

import yaml

from gitops_gen.applied import postbuild
from gitops_gen.applied.model import Applied, Expander, Sync, find_object
from gitops_gen.applied.rules import POSTBUILD_UNSET
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.fleet.layout import CONFIG_PATH
from gitops_gen.kustomize import kustfile
from gitops_gen.kustomize.build import Engine, clone
from gitops_gen.kustomize.resource import Origin, Resource, Step
from gitops_gen.repo.tree import Kind, Tree

FLUX_KUSTOMIZATION = "Kustomization"
FLUX_GROUP = "kustomize.toolkit.fluxcd.io/"
ARGO_APPLICATION = "Application"
ARGO_GROUP = "argoproj.io/"
# The spec fields of a Flux Kustomization that change what kustomize builds.
FLUX_BUILD_FIELDS = ("targetNamespace", "namePrefix", "nameSuffix", "patches", "images", "components")


def mapping_dir(cluster: str) -> str:
    return f"mapping/{cluster}"


def find_sync(tree: Tree, cluster: str) -> Sync | None:
    """The Flux Kustomization or Argo CD Application in clusters/<c>/sync.yaml aimed at mapping/<c>."""
    path = f"clusters/{cluster}/sync.yaml"
    if tree.kind(path) != "file":
        return None
    try:
        docs = list(yaml.load_all(tree.read(path), Loader=yaml.CSafeLoader))
    except yaml.YAMLError as err:
        raise GitopsGenError(
            f"cannot read the sync object: {' '.join(str(err).split())}", tree.display(path)
        ) from None
    want = mapping_dir(cluster)
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
            continue
        api, kind, spec = str(doc.get("apiVersion", "")), doc.get("kind"), doc["spec"]
        if kind == FLUX_KUSTOMIZATION and api.startswith(FLUX_GROUP) and _norm(spec.get("path")) == want:
            return Sync("flux", doc, path)
        source = spec.get("source") if isinstance(spec.get("source"), dict) else {}
        if kind == ARGO_APPLICATION and api.startswith(ARGO_GROUP) and _norm(source.get("path")) == want:
            return Sync("argocd", doc, path)
    return None


def _norm(path: Any) -> str | None:
    return posixpath.normpath(path.lstrip("/")) if isinstance(path, str) and path.strip("./") else None


def needs_edit(sync: Sync | None) -> bool:
    return (
        sync is not None and sync.engine == "flux" and any(k in sync.obj["spec"] for k in FLUX_BUILD_FIELDS)
    )


def applied(
    tree: Tree,
    engine: Engine,
    cluster: str,
    built: list[Resource] | None = None,
    expand: Expander | None = None,
) -> Applied:
    """CLUSTER's objects as its GitOps engine applies them. BUILT, when given, is the plain build
    of mapping/<cluster> (reused unless the sync object changes the build). EXPAND turns
    HelmReleases into what helm-controller applies (step after post-build, as in Flux)."""
    sync = find_sync(tree, cluster)
    if needs_edit(sync):
        assert sync is not None
        resources = build_edited(tree, engine, cluster, sync)
    else:
        resources = built if built is not None else engine.build(mapping_dir(cluster))
    result = Applied(resources, rebuilt=needs_edit(sync))
    if sync is not None and sync.engine == "flux":
        result = flux_post_build(tree, sync, cluster, result)
        meta = sync.obj["spec"].get("commonMetadata")
        if isinstance(meta, dict):
            where = tree.display(sync.path)
            result.resources = [set_common_metadata(r, meta, where) for r in result.resources]
    elif sync is not None:
        namespace = (sync.obj["spec"].get("destination") or {}).get("namespace")
        if isinstance(namespace, str) and namespace:
            where = tree.display(sync.path)
            result.resources = [default_namespace(r, namespace, where) for r in result.resources]
    if expand is not None:
        expanded = expand(tree, sync, result.resources)
        result = Applied(expanded.resources, result.notes + expanded.notes, result.rebuilt)
    return result


# ---------------------------------------------------------------- Flux: the edited kustomization


class EditedTree:
    """TREE with one file's bytes replaced (the kustomization Flux edits before building)."""

    def __init__(self, tree: Tree, path: str, data: bytes, origin: str):
        self.tree = tree
        self.path = path
        self.data = data
        self.origin = origin

    def read(self, path: str) -> bytes:
        return self.data if path == self.path else self.tree.read(path)

    def kind(self, path: str) -> Kind | None:
        return "file" if path == self.path else self.tree.kind(path)

    def listdir(self, path: str) -> list[str]:
        return self.tree.listdir(path)

    def canonical(self, path: str) -> str | None:
        """PATH with its symlinks resolved (the engine's load restrictor asks); the edited file is its own."""
        resolve = getattr(self.tree, "canonical", None)
        return path if path == self.path or resolve is None else resolve(path)

    def display(self, path: str) -> str:
        shown = self.tree.display(path)
        return f"{shown} (as {self.tree.display(self.origin)} edits it)" if path == self.path else shown


def edited_kustomization(data: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """DATA (a kustomization) as Flux's generator rewrites it from a Kustomization SPEC."""
    out = clone(data)
    for src, dst in (
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
    ):
        if isinstance(spec.get(src), str):
            out[dst] = spec[src]
    for patch in spec.get("patches") or []:
        entry = {"patch": patch.get("patch", "")}
        if patch.get("target"):
            entry["target"] = patch["target"]
        out.setdefault("patches", []).append(entry)
    for component in spec.get("components") or []:
        out.setdefault("components", []).append(component)
    images = out.setdefault("images", []) if spec.get("images") else None
    for image in spec.get("images") or []:
        merge_image(images if images is not None else [], image)
    return out


def merge_image(images: list[dict[str, Any]], image: dict[str, Any]) -> None:
    for current in images:
        if current.get("name") == image.get("name"):
            if image.get("newName"):
                current["newName"] = image["newName"]
            if image.get("newTag") or image.get("digest"):
                # Flux replaces both together: a new tag drops an old digest and the reverse.
                for key in ("newTag", "digest"):
                    current.pop(key, None)
                    if image.get(key):
                        current[key] = image[key]
            return
    images.append({k: image[k] for k in ("name", "newName", "newTag", "digest") if image.get(k)})


def build_edited(tree: Tree, engine: Engine, cluster: str, sync: Sync) -> list[Resource]:
    directory = mapping_dir(cluster)
    path = kustfile.find(tree, directory)
    if path is None:
        raise GitopsGenError(f"no kustomization.yaml in {tree.display(directory)}", tree.display(directory))
    data = yaml.load(tree.read(path), Loader=yaml.CSafeLoader) or {}
    edited = edited_kustomization(data, sync.obj["spec"])
    view = EditedTree(tree, path, json.dumps(edited).encode(), sync.path)
    return Engine(view, parse_cache=engine.parse_cache, warnings=False, trace=engine.trace).build(directory)


# ---------------------------------------------------------------- Flux: post-build, commonMetadata


def flux_post_build(tree: Tree, sync: Sync, cluster: str, result: Applied) -> Applied:
    spec = sync.obj["spec"]
    post = spec.get("postBuild")
    if not isinstance(post, dict):
        return result
    namespace = (sync.obj.get("metadata") or {}).get("namespace") or "flux-system"
    sources = [*result.objects, *cluster_dir_objects(tree, cluster)]
    where = tree.display(sync.path)
    try:
        values = postbuild.variables(post, lambda kind, name: find_object(sources, kind, name, namespace))
    except postbuild.PostBuildError as err:
        raise GitopsGenError(f"postBuild: {err}", where) from None
    objs = result.objects
    try:
        outcome = postbuild.substitute(objs, values, strict_substitutions(tree))
    except postbuild.PostBuildError as err:
        res = result.resources[err.index] if err.index is not None else None
        raise located(tree, res, str(err), err.variable) from None
    resources = []
    step = Origin(tree.display(sync.path), "transformer", field="postBuild")
    for res, obj in zip(result.resources, outcome.objects, strict=True):
        if obj is not res.obj:
            res = replaced(res, obj, step)
        resources.append(res)
    notes = list(result.notes)
    for index, names in sorted(outcome.unset.items()):
        res = result.resources[index]
        for name in sorted(names):
            path, line = source_line(tree, res, name)
            notes.append(
                Problem(
                    path,
                    line,
                    1,
                    "warning",
                    POSTBUILD_UNSET.id,
                    f"{res.kind}/{res.name}: ${{{name}}} is not set and becomes empty ({where} postBuild)",
                )
            )
    return Applied(resources, notes, result.rebuilt)


def strict_substitutions(tree: Tree) -> bool:
    """gitops-gen.yaml `gitops.strictSubstitutions`: the fleet's kustomize-controller runs with
    the StrictPostBuildSubstitutions feature gate (a controller flag, not a Kustomization field)."""
    try:
        doc = yaml.safe_load(tree.read(CONFIG_PATH))
    except (yaml.YAMLError, GitopsGenError):
        return False
    gitops = doc.get("gitops") if isinstance(doc, dict) else None
    return isinstance(gitops, dict) and gitops.get("strictSubstitutions") is True


def located(tree: Tree, res: Resource | None, message: str, variable: str | None) -> GitopsGenError:
    if res is None:
        return GitopsGenError(message)
    path, line = source_line(tree, res, variable)
    return GitopsGenError(message, path, line, 1)


def source_line(tree: Tree, res: Resource, variable: str | None) -> tuple[str, int]:
    """The file RES came from and the first line there that uses VARIABLE (or any `${`)."""
    path = res.origin.path
    needle = re.compile(r"\$\{#?" + re.escape(variable) + r"\b" if variable else r"\$\{")
    text = read_display(tree, path)
    for number, line in enumerate(text.splitlines(), 1):
        if needle.search(line):
            return path, number
    return path, 1


def read_display(tree: Tree, display: str) -> str:
    # Origins hold display paths; for the trees we render, display and repo paths agree
    # (a revision's tree prefixes them with "REV:").
    path = display.split(":", 1)[1] if ":" in display and tree.kind(display) is None else display
    try:
        return tree.read(path).decode("utf-8", "replace")
    except GitopsGenError:
        return ""


def cluster_dir_objects(tree: Tree, cluster: str) -> Iterable[dict[str, Any]]:
    """ConfigMaps and Secrets kept in clusters/<c>/ (applied by the bootstrap Kustomization)."""
    base = f"clusters/{cluster}"
    for name in tree.listdir(base):
        if not name.endswith((".yaml", ".yml")) or name in ("cluster.yaml", "sync.yaml"):
            continue
        try:
            docs = list(yaml.load_all(tree.read(f"{base}/{name}"), Loader=yaml.CSafeLoader))
        except (yaml.YAMLError, GitopsGenError):
            continue  # validate reports broken YAML elsewhere
        yield from (d for d in docs if isinstance(d, dict) and d.get("kind") in ("ConfigMap", "Secret"))


def set_common_metadata(res: Resource, meta: dict[str, Any], where: str = "") -> Resource:
    obj = clone(res.obj)
    md = obj.setdefault("metadata", {})
    for key in ("labels", "annotations"):
        if isinstance(meta.get(key), dict) and meta[key]:
            md[key] = {**(md.get(key) or {}), **meta[key]}
    return replaced(res, obj, Origin(where, "transformer", field="commonMetadata"))


def replaced(res: Resource, obj: dict[str, Any], step: Origin) -> Resource:
    """RES with OBJ as its object; a traced RES keeps its history, STEP (what changed it) added."""
    history = None if res.history is None else [*res.history, Step(step, clone(obj))]
    return Resource(obj=obj, origin=res.origin, prev_ids=res.prev_ids, history=history)


# ---------------------------------------------------------------- Argo CD


def default_namespace(res: Resource, namespace: str, where: str = "") -> Resource:
    if res.is_cluster_scoped() or res.namespace:
        return res
    obj = clone(res.obj)
    obj.setdefault("metadata", {})["namespace"] = namespace
    return replaced(res, obj, Origin(where, "transformer", field="destination.namespace"))


def applied_view(tree: Tree, engine: Engine, cluster: str, built: list[Resource] | None = None) -> Applied:
    """The applied view with every expansion this installation can do (Helm releases included)."""
    from gitops_gen.applied.helmrelease import expand_releases

    return applied(tree, engine, cluster, built, expand=expand_releases)


CACHED = Origin("", "resource")  # objects validate took from its demand cache, not from this build


def for_validate(
    tree: Tree, engine: Engine, cluster: str, resources: list[Resource], cached: list[dict[str, Any]]
) -> tuple[list[Resource], list[dict[str, Any]], list[Problem]]:
    """validate's RESOURCES (and objects from its demand cache) as the cluster applies them, and the
    warnings found on the way. GitopsGenError where Flux would fail to apply."""
    extra = [Resource(obj=obj, origin=CACHED) for obj in cached]
    result = applied_view(tree, engine, cluster, [*resources, *extra])
    if result.rebuilt:
        return result.resources, [], result.notes
    kept = [r for r in result.resources if r.origin is not CACHED]
    return kept, [r.obj for r in result.resources if r.origin is CACHED], result.notes
