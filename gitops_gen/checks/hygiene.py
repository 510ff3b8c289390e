"""Overlay hygiene: things kustomize accepts silently but that are almost always mistakes.

Rules (ids stable):
  app-missing          [error]   a cluster lists an app with no ``apps/<app>/base/`` (generate's own check)
  layer-unused         [warning] ``apps/<app>/<layer>/<value>/`` that no cluster uses
  image-untagged       [warning] a container image without a tag or digest
  image-latest         [warning] a container image tagged ``latest``
  patch-target-unmatched [warning] a ``patches[]`` / ``patchesJson6902[]`` entry whose ``target``
                                   selects nothing (kustomize applies it to nothing, silently)

Image findings are located in the rendered object (validate maps them to the line that set
the image via provenance). A patch target is checked against the rendered objects of every
cluster whose mapping reaches the kustomization: a superset of what the patch could apply
to, so a warning means it matched nothing in any of them (never a false alarm from
objects added after the patch ran; a patch that deletes its own target is the exception).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gitops_gen import kube
from gitops_gen.checks.gpu.feasibility import Finding
from gitops_gen.checks.model import Rule
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.fleet.generate import check_app_sources
from gitops_gen.fleet.inventory import Fleet
from gitops_gen.kustomize.resource import Resource
from gitops_gen.kustomize.selector import SELECTOR_KEYS, select
from gitops_gen.kustomize.types import FILE_NAMES, PATCH_FIELDS
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree

LAYER_UNUSED = Rule(
    "layer-unused",
    "warning",
    "kustomization",
    "apps/<app>/<layer>/<value>/ that no cluster uses",
    "checks.hygiene.unused_layers",
)
PATCH_TARGET_UNMATCHED = Rule(
    "patch-target-unmatched",
    "warning",
    "kustomization",
    "a patches[] / patchesJson6902[] target that selects nothing (kustomize is silent)",
    "checks.hygiene.unmatched_targets",
)
IMAGE_UNTAGGED = Rule(
    "image-untagged",
    "warning",
    "rendered object",
    "a container image without a tag or digest",
    "checks.hygiene.image_findings",
)
IMAGE_LATEST = Rule(
    "image-latest",
    "warning",
    "rendered object",
    "a container image tagged latest",
    "checks.hygiene.image_findings",
)
IMAGE_RULES = (IMAGE_UNTAGGED, IMAGE_LATEST)
RULES = (LAYER_UNUSED, PATCH_TARGET_UNMATCHED, *IMAGE_RULES)


def missing_bases(tree: Tree, fleet: Fleet) -> list[Problem]:
    """Apps listed on a cluster without a base (or without the named hand-written overlay)."""
    return check_app_sources(tree, fleet)


# ---------------------------------------------------------------- layer directories


def layer_dirs(tree: Tree, layers: Iterable[str]) -> list[tuple[str, str, str]]:
    """(app, layer, value) of every ``apps/<app>/<layer>/<value>/`` directory."""
    found = []
    for app in tree.listdir("apps"):
        for layer in layers:
            base = f"apps/{app}/{layer}"
            for value in tree.listdir(base):
                if tree.kind(f"{base}/{value}") == "dir":
                    found.append((app, layer, value))
    return found


def kustomization_file(tree: Tree, directory: str) -> str | None:
    for name in FILE_NAMES:
        if tree.kind(f"{directory}/{name}") == "file":
            return f"{directory}/{name}"
    return None


def used_by_inventory(fleet: Fleet, app: str, layer: str, value: str) -> bool:
    """Does some cluster's generated variant of APP include this layer value?"""
    for cluster in fleet.clusters.values():
        if dict(cluster.layer_chain).get(layer) != value:
            continue
        if any(ref.name == app and ref.overlay is None for ref in cluster.apps):
            return True
    return False


def unused_layers(tree: Tree, fleet: Fleet, reached: set[str], only: set[str] | None = None) -> list[Problem]:
    """Layer directories no cluster uses: neither a generated variant nor any mapping reaches them.

    REACHED holds the kustomization directories reachable from the clusters' mappings (hand-written
    chain overlays may use a component too); ONLY restricts the check to those directories.
    """
    problems = []
    for app, layer, value in layer_dirs(tree, fleet.config.all_layers):
        directory = f"apps/{app}/{layer}/{value}"
        if only is not None and directory not in only:
            continue
        if directory in reached or used_by_inventory(fleet, app, layer, value):
            continue
        where = kustomization_file(tree, directory) or directory
        problems.append(
            Problem(
                tree.display(where),
                1,
                1,
                "warning",
                LAYER_UNUSED.id,
                f"{directory}/ is not used by any cluster (no cluster has {layer}: {value} and runs {app})",
            )
        )
    return problems


# ---------------------------------------------------------------- images


def image_tag(image: str) -> tuple[str | None, bool]:
    """(tag, has digest) of an image reference; a registry port is not a tag."""
    name, at, _ = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    return tag, bool(at)


def image_findings(obj: Mapping[str, Any]) -> list[Finding]:
    md = obj.get("metadata")
    meta: Mapping[str, Any] = md if isinstance(md, Mapping) else {}
    ref = (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))
    out = []
    for found in kube.all_containers(obj):
        path, container = found.path, found.container
        image = container.get("image")
        if not isinstance(image, str) or not image:
            continue
        tag, digest = image_tag(image)
        if digest:
            continue
        cname = container.get("name", path[-1])
        if tag is None:
            out.append(
                Finding(
                    IMAGE_UNTAGGED.id,
                    "warning",
                    f"container {cname} image {image!r} has no tag (means :latest; pin a version)",
                    ref,
                    (*path, "image"),
                )
            )
        elif tag == "latest":
            out.append(
                Finding(
                    IMAGE_LATEST.id,
                    "warning",
                    f"container {cname} image {image!r} uses the mutable tag 'latest' (pin a version)",
                    ref,
                    (*path, "image"),
                )
            )
    return out


# ---------------------------------------------------------------- patch targets


def targeted_patches(tree: Tree, directory: str) -> list[tuple[str, int, int, dict[str, Any]]]:
    """(kustomization file, line, col, target) of each targeted patch of DIRECTORY's kustomization."""
    path = kustomization_file(tree, directory)
    if path is None:
        return []
    text = tree.read(path)
    if b"target" not in text and not text.startswith((b"\xff\xfe", b"\xfe\xff")):
        return []  # most kustomizations (variants, mappings) have none: skip the parse with positions
    try:
        docs, maps = yamlio.load_with_lines(text, tree.display(path))
    except GitopsGenError:
        return []  # the render reports bad YAML
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return []
    out = []
    for key in PATCH_FIELDS:
        entries = docs[0].get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("target"), dict):
                line, col = maps[0].get((key, i, "target"), maps[0].get((key, i), (1, 1)))
                out.append((path, line, col, entry["target"]))
    return out


def _show_target(target: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={target[k]}" for k in SELECTOR_KEYS if target.get(k) not in (None, ""))


# A targeted patch and whether it selected anything: (kustomization file, line, col, target as text, hit).
PatchHit = tuple[str, int, int, str, bool]


def target_hits(
    tree: Tree, users: Mapping[str, list[list[Resource]]]
) -> dict[str, tuple[int, list[PatchHit]]]:
    """Per directory in USERS: how many clusters reach it and, per targeted patch, whether it matched
    anything in any of their rendered objects (the half of ``unmatched_targets`` that needs renders;
    shards of one validate each give theirs and the merge adds them up)."""
    out: dict[str, tuple[int, list[PatchHit]]] = {}
    for directory in sorted(users):
        renders = users[directory]
        if not renders:
            continue
        hits: list[PatchHit] = []
        for path, line, col, target in targeted_patches(tree, directory):
            try:
                hit = any(select(resources, target) for resources in renders)
            except GitopsGenError:
                continue  # a bad selector fails the build, which validate reports
            hits.append((tree.display(path), line, col, _show_target(target), hit))
        out[directory] = (len(renders), hits)
    return out


def unmatched_problems(hits: Mapping[str, tuple[int, list[PatchHit]]]) -> list[Problem]:
    """A warning per targeted patch that matched nothing in any cluster reaching its directory."""
    problems = []
    for directory in sorted(hits):
        count, patches = hits[directory]
        users_text = "the cluster that uses" if count == 1 else f"any of the {count} clusters using"
        for path, line, col, target, hit in patches:
            if not hit:
                problems.append(
                    Problem(
                        path,
                        line,
                        col,
                        "warning",
                        PATCH_TARGET_UNMATCHED.id,
                        f"patch target ({target}) matches no object in {users_text} "
                        f"{directory}/: the patch does nothing",
                    )
                )
    return problems


def unmatched_targets(tree: Tree, users: Mapping[str, list[list[Resource]]]) -> list[Problem]:
    """Targeted patches of each directory in USERS matching nothing in any of its users' rendered objects.

    USERS maps a kustomization directory to the rendered resources of each cluster reaching it.
    """
    return unmatched_problems(target_hits(tree, users))
