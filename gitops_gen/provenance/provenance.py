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

import re
from dataclasses import dataclass
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import Origin, Resource
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree

MISSING: Any = object()
IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}

# Keys that identify an element in a list of objects, in the order we try them.
LIST_KEYS = ("name", "containerPort", "mountPath", "devicePath", "key", "type", "ip", "topologyKey", "port")


@dataclass(frozen=True)
class Sel:
    """A list element chosen by ``key == value`` (``containers[name=pd]``)."""

    key: str
    value: Any

    def __str__(self) -> str:
        return f"[{self.key}={self.value}]"


Step = str | int | Sel
FieldPath = tuple[Step, ...]

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


def parse_field(text: str) -> FieldPath:
    """``spec.template.spec.containers[name=pd].image`` -> path; keys may be quoted for dots."""
    out: list[Step] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos] == "." and pos + 1 < len(text) and text[pos + 1] in "\"'":
            pos += 1
        if text[pos] in "\"'":
            end = text.find(text[pos], pos + 1)
            if end < 0:
                raise GitopsGenError(f"unterminated quote in field {text!r}")
            out.append(text[pos + 1 : end])
            pos = end + 1
            continue
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise GitopsGenError(f"cannot parse field {text!r} at {text[pos:]!r}")
        pos = m.end()
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            inner = m.group(2).strip()
            if inner.lstrip("-").isdigit():
                out.append(int(inner))
            elif "=" in inner:
                key, _, value = inner.partition("=")
                out.append(Sel(key.strip(), value.strip().strip("\"'")))
            else:
                raise GitopsGenError(f"list step [{inner}] must be an index or key=value")
    if not out:
        raise GitopsGenError("empty field path")
    return tuple(out)


def format_field(path: FieldPath) -> str:
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif isinstance(step, Sel):
            text += str(step)
        else:
            text += ("." if text else "") + (step if "." not in step else f'"{step}"')
    return text


def _match(item: Any, sel: Sel) -> bool:
    return isinstance(item, dict) and str(item.get(sel.key)) == str(sel.value)


def get(obj: Any, path: FieldPath) -> Any:
    """The value at PATH, or MISSING."""
    node = obj
    for step in path:
        if isinstance(step, Sel):
            if not isinstance(node, list):
                return MISSING
            node = next((item for item in node if _match(item, step)), MISSING)
        elif isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return MISSING
            node = node[step]
        if node is MISSING:
            return MISSING
    return node


def rejoin_keys(obj: Any, path: FieldPath) -> FieldPath:
    """Let users write label keys unquoted: ``nodeSelector.nvidia.com/gpu.product``.

    Where a dotted run of keys does not exist but their join with dots does, use the join.
    """
    out: list[Step] = []
    node = obj
    i = 0
    while i < len(path):
        step = path[i]
        if isinstance(step, str) and isinstance(node, dict) and step not in node:
            for j in range(len(path), i + 1, -1):
                run = path[i:j]
                if all(isinstance(s, str) for s in run) and ".".join(map(str, run)) in node:
                    step = ".".join(map(str, run))
                    i = j - 1
                    break
        out.append(step)
        node = get(node, (step,)) if node is not MISSING else MISSING
        i += 1
    return tuple(out)


def stable_path(obj: Any, path: FieldPath) -> FieldPath:
    """Replace list indices by key selectors where the element has an identifying key."""
    out: list[Step] = []
    node = obj
    for step in path:
        if isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            item = node[step]
            key = next((k for k in LIST_KEYS if isinstance(item, dict) and k in item), None)
            out.append(Sel(key, item[key]) if key else step)
            node = item
        else:
            out.append(step)
            node = get(node, (step,)) if node is not MISSING else MISSING
    return tuple(out)


def concrete_path(obj: Any, path: FieldPath) -> tuple[str | int, ...] | None:
    """Selectors resolved to indices against OBJ (line maps are keyed by indices)."""
    out: list[str | int] = []
    node = obj
    for step in path:
        if isinstance(step, Sel):
            if not isinstance(node, list):
                return None
            idx = next((i for i, item in enumerate(node) if _match(item, step)), None)
            if idx is None:
                return None
            out.append(idx)
            node = node[idx]
        elif isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
            out.append(step % len(node))
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return None
            out.append(step)
            node = node[step]
    return tuple(out)


@dataclass(frozen=True)
class Setter:
    path: str  # file, repo-relative
    line: int | None
    col: int | None
    value: Any
    origin_kind: str  # resource | smp | json6902 | transformer | generator
    field: str  # kustomization field for transformers and patches
    text: str  # the source line, stripped, when known


class Locator:
    """Finds the line of a path inside a source file; caches line maps per file."""

    def __init__(self, tree: Tree):
        self.tree = tree
        self._maps: dict[str, tuple[list[Any], list[dict[tuple[str | int, ...], tuple[int, int]]]]] = {}
        self._lines: dict[str, list[str]] = {}

    def _load(
        self, display: str
    ) -> tuple[list[Any], list[dict[tuple[str | int, ...], tuple[int, int]]]] | None:
        if display not in self._maps:
            try:
                raw = self.tree.read(display)
                self._lines[display] = raw.decode("utf-8", "replace").splitlines()
                self._maps[display] = yamlio.load_with_lines(raw, display)
            except GitopsGenError:
                return None
        return self._maps[display]

    def source_line(self, display: str, line: int | None) -> str:
        if line is None:
            return ""
        self._load(display)
        lines = self._lines.get(display, [])
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def locate(self, display: str, doc: int, path: FieldPath) -> tuple[int | None, int | None]:
        """Line/col of PATH in document DOC of file DISPLAY; the nearest existing ancestor otherwise."""
        loaded = self._load(display)
        if loaded is None:
            return None, None
        docs, maps = loaded
        if doc >= len(docs):
            return None, None
        probe = path
        while probe:
            concrete = concrete_path(docs[doc], probe)
            if concrete is not None and concrete in maps[doc]:
                return maps[doc][concrete]
            probe = probe[:-1]
        return maps[doc].get((), (None, None))


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
    """Every step that set PATH of RES, oldest first."""
    if not res.history:
        raise GitopsGenError("the build was not traced (Engine(trace=True))")
    final = res.history[-1].obj if res.history[-1].obj == res.obj else res.obj
    path = stable_path(final, path)
    setters: list[Setter] = []
    previous: Any = MISSING
    previous_obj: Any = None
    for step in res.history:
        value = get(step.obj, path)
        mentioned, op_index = _patch_mentions(step.origin, path, previous_obj, step.obj)
        changed = value is not MISSING and (previous is MISSING or value != previous)
        if value is not MISSING and (changed or mentioned):
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
