"""Field paths and source lines, for provenance: the paths users write (``containers[name=pd].image``),
reading them in objects, and finding a path's line in a source file (``Locator``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitops_gen.errors import GitopsGenError
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
    key: str = ""  # for a Helm values source: the values key (several keys may feed one field)


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
