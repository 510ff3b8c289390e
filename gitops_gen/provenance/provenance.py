"""Field provenance: which file and line set a value of a rendered object.

A traced build (``Engine(trace=True)``) keeps, per resource, the object after every
step that touched it (``Resource.history``). Here we walk that history for one field:
a step *sets* the field when the value changed, or when it was a patch that names the
field. Each setter is then located in its own source: a line in a base file, a line in
a patch file, or the kustomization line of a transformer entry.

Paths are tuples of dict keys, list indices and ``Sel(key, value)`` selectors; list
positions move between steps (strategic merge puts patch elements first), so lists of
objects are followed by their merge key rather than by index.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import Origin, Resource
from gitops_gen.kustomize.resource import Step as BuildStep
from gitops_gen.provenance.paths import (  # re-exported: provenance's public names
    IDENTITY as IDENTITY,
)
from gitops_gen.provenance.paths import (
    LIST_KEYS as LIST_KEYS,
)
from gitops_gen.provenance.paths import (
    MISSING as MISSING,
)
from gitops_gen.provenance.paths import (
    FieldPath as FieldPath,
)
from gitops_gen.provenance.paths import (
    Locator as Locator,
)
from gitops_gen.provenance.paths import (
    Sel as Sel,
)
from gitops_gen.provenance.paths import (
    Setter as Setter,
)
from gitops_gen.provenance.paths import (
    Step as Step,
)
from gitops_gen.provenance.paths import (
    concrete_path as concrete_path,
)
from gitops_gen.provenance.paths import (
    format_field as format_field,
)
from gitops_gen.provenance.paths import (
    get as get,
)
from gitops_gen.provenance.paths import (
    parse_field as parse_field,
)
from gitops_gen.provenance.paths import (
    rejoin_keys as rejoin_keys,
)
from gitops_gen.provenance.paths import (
    stable_path as stable_path,
)
from gitops_gen.repo import yamlio


def _json_pointer(path: FieldPath, obj: Any) -> str | None:
    concrete = concrete_path(obj, path)
    if concrete is None:
        return None
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in concrete)


def _patch_mentions(origin: Origin, path: FieldPath, before: Any, after: Any) -> tuple[bool, int | None]:
    """Does the patch of this step name PATH? Returns (mentions, op index for JSON patches)."""
    if path in IDENTITY:
        return False, None  # a patch names its target there; kustomize keeps the target's values
    if origin.kind == "smp" and isinstance(origin.patch, dict):
        return get(origin.patch, path) is not MISSING, None
    if origin.kind == "json6902" and isinstance(origin.patch, list):
        pointers = {p for p in (_json_pointer(path, before), _json_pointer(path, after)) if p}
        for i, op in enumerate(origin.patch):
            target = op.get("path") if isinstance(op, dict) else None
            if isinstance(target, str) and any(p == target or p.startswith(target + "/") for p in pointers):
                return True, i
        return False, None
    return False, None


def chain(res: Resource, path: FieldPath, locator: Locator) -> list[Setter]:
    """Every step that set PATH of RES, oldest first. A step where a Helm chart rendered the object
    gives the values keys behind the field (``charttrace``), each at the lines that set it."""
    history = res.history
    if not history and res.origin.chart is not None:
        history = [BuildStep(res.origin, res.obj)]  # expanded after the build (a Flux HelmRelease)
    if not history:
        raise GitopsGenError("the build was not traced (Engine(trace=True))")
    final = history[-1].obj if history[-1].obj == res.obj else res.obj
    path = stable_path(final, path)
    setters: list[Setter] = []
    previous: Any = MISSING
    previous_obj: Any = None
    for step in history:
        value = get(step.obj, path)
        mentioned, op_index = _patch_mentions(step.origin, path, previous_obj, step.obj)
        changed = value is not MISSING and (previous is MISSING or value != previous)
        if value is not MISSING and (changed or mentioned):
            if step.origin.chart is not None and step.origin.kind == "resource":
                from gitops_gen.provenance import charttrace

                setters.extend(
                    charttrace.setters(
                        step.origin.chart, step.obj, path, locator, lambda r, p: chain(r, p, locator)
                    )
                )
            elif step.origin.field == "postBuild":
                setters.append(_post_build_setter(step.origin, previous, value, locator))
            else:
                setters.append(_setter(step.origin, path, value, locator, op_index))
        previous, previous_obj = value, step.obj
    return setters


def _setter(origin: Origin, path: FieldPath, value: Any, locator: Locator, op_index: int | None) -> Setter:
    line: int | None = origin.line
    col: int | None = None
    if origin.kind == "resource":
        line, col = locator.locate(origin.path, origin.doc, path)
    elif origin.kind == "smp":
        if origin.line is None:  # a patch file
            line, col = locator.locate(origin.path, origin.doc, path)
        else:  # inline: the block starts on the line after `patch: |`
            inner = _inline_offset(origin.patch, path)
            line = origin.line + inner if inner is not None else origin.line
    elif origin.kind == "json6902" and op_index is not None:
        if origin.line is None:
            line, col = locator.locate(origin.path, 0, (op_index, "value"))
            if line is None:
                line, col = locator.locate(origin.path, 0, (op_index,))
        else:
            line = origin.line + 1 + op_index
    return Setter(
        origin.path, line, col, value, origin.kind, origin.field, locator.source_line(origin.path, line)
    )


_VARIABLE = re.compile(r"\$\{#?([_a-zA-Z][_a-zA-Z0-9]*)")


def _post_build_setter(origin: Origin, before: Any, value: Any, locator: Locator) -> Setter:
    """Flux post-build substitution: at the sync object's line that sets the first variable BEFORE used."""
    names = _VARIABLE.findall(json.dumps(before) if not isinstance(before, str) else before)
    line, col = (
        locator.locate(origin.path, 0, ("spec", "postBuild", "substitute", names[0]))
        if names
        else (None, None)
    )
    text = locator.source_line(origin.path, line)
    return Setter(origin.path, line, col, value, "transformer", "postBuild", text)


def _inline_offset(patch: Any, path: FieldPath) -> int | None:
    """Line of PATH inside an inline patch, counted from 1 (re-emitted text approximates the original)."""
    if not isinstance(patch, dict):
        return None
    import yaml

    text = yaml.safe_dump(patch, sort_keys=False)
    try:
        _, maps = yamlio.load_with_lines(text, "<inline patch>")
    except GitopsGenError:
        return None
    concrete = concrete_path(patch, path)
    while concrete:
        if concrete in maps[0]:
            return maps[0][concrete][0]
        concrete = concrete[:-1]
    return None


def leaves(value: Any, prefix: FieldPath = ()) -> list[FieldPath]:
    """Paths of every scalar under VALUE (a map's or list's entries each get their own chain)."""
    if isinstance(value, dict):
        if not value:
            return [prefix]
        return [p for k, v in value.items() for p in leaves(v, (*prefix, k))]
    if isinstance(value, list):
        if not value:
            return [prefix]
        return [p for i, v in enumerate(value) for p in leaves(v, (*prefix, i))]
    return [prefix]


def winner(res: Resource, path: FieldPath, locator: Locator) -> Setter | None:
    """The step whose value survived: what a validation message should point at."""
    found = chain(res, path, locator)
    while not found and path:
        path = path[:-1]
        found = chain(res, path, locator)
    return found[-1] if found else None
