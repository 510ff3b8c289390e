"""Mistakes kustomize accepts without a word: a layer value no app has, a patch creating a container.

- ``layer-value-unknown``: a cluster's layer value for which no app has a component directory
  (``env: prdo``) silently drops every patch of that layer; at the cluster.yaml line, naming the
  values that exist.
- ``container-without-image``: a rendered container (or init container) without ``image``: a
  strategic-merge patch named a container the target does not have, and the merge created it;
  at the patch line that wrote the name, naming the containers that have an image.
- ``scaffold-placeholder``: what `gitops-gen new app` left to fill in reaches a cluster: its
  placeholder image, or a value its template marks ``# TODO`` (port, readiness probe, requests)
  still as scaffolded on a line that still carries that TODO (``authoring.scaffold_placeholders``
  reads both from the templates). A value kept on purpose is fine once its TODO comment is gone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from gitops_gen import kube
from gitops_gen.authoring.scaffold_placeholders import is_placeholder_image, placeholders
from gitops_gen.checks.gpu.feasibility import Finding
from gitops_gen.checks.model import Rule
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.fleet.inventory import Fleet, field_name
from gitops_gen.kustomize.resource import Resource
from gitops_gen.repo.tree import Tree

LAYER_VALUE_UNKNOWN = Rule(
    "layer-value-unknown",
    "error",
    "inventory",
    "a cluster's layer value no app has a component for, so every patch of that layer is silently dropped "
    "(warning when no known value is close, as for a value with no patches yet)",
    "checks.silent.unknown_layer_values",
)
CONTAINER_WITHOUT_IMAGE = Rule(
    "container-without-image",
    "error",
    "rendered object",
    "a patch names a container (or init container) the target does not have, creating one without an image",
    "checks.silent.image_less_containers",
)
SCAFFOLD_PLACEHOLDER = Rule(
    "scaffold-placeholder",
    "warning",
    "rendered object",
    "a placeholder `gitops-gen new app` writes reaches a cluster: its image without --image, or a value its "
    "template marks TODO (port, probe, requests) unchanged on a line still marked TODO",
    "checks.silent.image_less_containers",
)
RULES = (LAYER_VALUE_UNKNOWN, CONTAINER_WITHOUT_IMAGE, SCAFFOLD_PLACEHOLDER)
# How a TODO placeholder's message names its template comment (the located line must still carry it).
_TODO_IN_MESSAGE = re.compile(r"\(# (TODO: [^)]*)\)")


def layer_values(tree: Tree, layers: tuple[str, ...]) -> dict[str, set[str]]:
    """layer -> every value some app has a component directory for."""
    found: dict[str, set[str]] = {layer: set() for layer in layers}
    for app in tree.listdir("apps"):
        for layer in layers:
            for value in tree.listdir(f"apps/{app}/{layer}"):
                if tree.kind(f"apps/{app}/{layer}/{value}") == "dir":
                    found[layer].add(value)
    return found


def unknown_layer_values(tree: Tree, fleet: Fleet) -> list[Problem]:
    """A problem per cluster layer value no app has (layers no app uses at all are not judged)."""
    known = layer_values(tree, fleet.config.layers)
    out = []
    for cluster in fleet.clusters.values():
        for layer, value in cluster.layers.items():
            if not known[layer] or value in known[layer]:
                continue
            line, col = cluster.position("spec", "layers", layer)
            close = difflib.get_close_matches(value, sorted(known[layer]), n=1, cutoff=0.6)
            # Close to a known value: a typo (error). Otherwise maybe a value with no patches yet (warning).
            severity = "error" if close else "warning"
            hint = f"; did you mean {close[0]}?" if close else ""
            out.append(
                Problem(
                    tree.display(cluster.path),
                    line,
                    col,
                    severity,
                    LAYER_VALUE_UNKNOWN.id,
                    f"spec.layers.{layer}: no app has a component for {layer}={value}, so no patch of "
                    f"that layer applies (known {layer} values: {', '.join(sorted(known[layer]))}){hint}",
                )
            )
    return out


def _ref(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def image_less_containers(obj: Mapping[str, Any]) -> list[Finding]:
    """A finding per container of OBJ without an image (located at its name: the patch that made it),
    and per container still running the scaffold's placeholder image."""
    found = list(kube.all_containers(obj))
    out = []
    for container in found:
        image = container.container.get("image")
        if isinstance(image, str) and is_placeholder_image(image):
            out.append(
                Finding(
                    SCAFFOLD_PLACEHOLDER.id,
                    "warning",
                    f"{container.name}: {image} is the placeholder `gitops-gen new app` wrote; set the "
                    "real image (`gitops-gen set image`)",
                    _ref(obj),
                    (*container.path, "image"),
                )
            )
        out.extend(_todo_findings(obj, container))
        if container.section not in ("containers", "initContainers") or image:
            continue
        siblings = [c.name for c in found if c.section == container.section and c.container.get("image")]
        ref = _ref(obj)
        out.append(
            Finding(
                CONTAINER_WITHOUT_IMAGE.id,
                "error",
                f"{ref[0]}/{ref[2]}: {container.section[:-1]} {container.name!r} has no image: a patch names a "
                f"container the target does not have ({container.section}: {', '.join(siblings) or 'none'})",
                ref,
                (*container.path, "name"),
            )
        )
    return out


def _todo_findings(obj: Mapping[str, Any], container: kube.Container) -> list[Finding]:
    """A candidate per TODO value of the scaffold still as scaffolded in CONTAINER (``unfilled``
    keeps those whose line still carries the TODO)."""
    if container.section != "containers":
        return []
    out = []
    for placeholder in placeholders():
        if kube.value_at(container.container, placeholder.path) != placeholder.value:
            continue
        field = field_name(placeholder.path)
        out.append(
            Finding(
                SCAFFOLD_PLACEHOLDER.id,
                "warning",
                f"{container.name}: {field} is still the placeholder `gitops-gen new app` wrote "
                f"(# {placeholder.todo}); set it and drop the TODO comment",
                _ref(obj),
                (*container.path, *placeholder.path),
            )
        )
    return out


def marked_in_source(tree: Tree, resources: list[Resource], findings: list[Finding]) -> list[Finding]:
    """FINDINGS without the TODO placeholder candidates whose object's file lacks that TODO comment: a
    value like port 8080 is no placeholder in a hand-written manifest, and must not cost a traced build."""
    origin = {(r.kind, r.namespace, r.name): r.origin.path for r in resources}
    texts: dict[str, str] = {}
    out = []
    for finding in findings:
        todo = _TODO_IN_MESSAGE.search(finding.message) if finding.rule == SCAFFOLD_PLACEHOLDER.id else None
        if todo is not None:
            path = origin.get(finding.obj, "")
            if path not in texts:
                try:
                    texts[path] = tree.read(path).decode("utf-8", "replace") if path else ""
                except GitopsGenError:
                    texts[path] = ""
            if f"# {todo.group(1)}" not in texts[path]:
                continue
        out.append(finding)
    return out


def unfilled(tree: Tree, found: list[tuple[Problem, str]]) -> list[tuple[Problem, str]]:
    """FOUND without the TODO placeholders whose source line no longer carries their TODO comment:
    the user kept the scaffold's value on purpose."""
    lines: dict[str, list[str]] = {}
    out = []
    for problem, cluster in found:
        todo = _TODO_IN_MESSAGE.search(problem.message) if problem.rule == SCAFFOLD_PLACEHOLDER.id else None
        if todo is not None:
            if problem.path not in lines:
                try:
                    lines[problem.path] = tree.read(problem.path).decode("utf-8", "replace").splitlines()
                except GitopsGenError:
                    lines[problem.path] = []
            text = lines[problem.path]
            if not (0 < problem.line <= len(text) and todo.group(1) in text[problem.line - 1]):
                continue
        out.append((problem, cluster))
    return out
