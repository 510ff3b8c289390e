"""Reading one kustomization file: find it, parse it, check its fields.

kustomize decodes kustomization.yaml strictly (unknown fields are errors). We do the same
and, in addition, refuse the fields this engine does not implement, by name, rather than
print output that differs from kustomize's.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.types import (
    COMPONENT_VERSION,
    FIELDS,
    FILE_NAMES,
    KUSTOMIZATION_VERSION,
    SUPPORTED,
    UNSUPPORTED,
    Shape,
)
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree

DEPRECATIONS = {
    f.name: f"# Warning: '{f.name}' is deprecated. Please use '{f.use_instead}' instead."
    for f in sorted(FIELDS, key=lambda f: f.name)
    if f.use_instead
}
# kustomize words this one differently from the others.
DEPRECATIONS["vars"] = "# Warning: 'vars' is deprecated. Please use 'replacements' instead. [EXPERIMENTAL]"
EDIT_FIX = " Run 'kustomize edit fix' to update your Kustomization automatically."


@dataclass
class Kustomization:
    """One parsed kustomization. ``path`` is the repo-relative file; ``dir`` its directory."""

    path: str
    dir: str
    data: dict[str, Any]
    raw: bytes
    is_component: bool
    _lines: dict[tuple[str | int, ...], tuple[int, int]] | None = field(default=None, repr=False)
    # Read by parse_simple: only ../ paths in resources/components, nothing of its own directory.
    simple: bool = False
    file_name: str = "kustomization.yaml"  # which of FILE_NAMES it is (origin annotations name it)

    def get_list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        return value if isinstance(value, list) else []

    def line_of(self, *node_path: str | int) -> tuple[int | None, int | None]:
        """1-based (line, col) of a node, parsed lazily: only errors and provenance need it."""
        if self._lines is None:
            try:
                _, maps = yamlio.load_with_lines(self.raw, self.path)
                self._lines = maps[0] if maps else {}
            except GitopsGenError:
                self._lines = {}
        probe: tuple[str | int, ...] = tuple(node_path)
        while probe:
            if probe in self._lines:
                return self._lines[probe]
            probe = probe[:-1]
        return None, None

    def error(self, message: str, *node_path: str | int) -> GitopsGenError:
        line, col = self.line_of(*node_path) if node_path else (None, None)
        return GitopsGenError(message, self.path, line, col)


def find(tree: Tree, directory: str) -> str | None:
    """The kustomization file in DIRECTORY, or None; several is an error (as in kustomize).

    kustomize reads it through the load restrictor: one that is a symlink leading out of
    DIRECTORY counts as absent.
    """
    found = [
        name
        for name in FILE_NAMES
        if tree.kind(posixpath.join(directory, name)) == "file"
        and in_root(canonical(tree, posixpath.join(directory, name)), directory)
    ]
    if len(found) > 1:
        raise GitopsGenError(
            f"found multiple kustomization files: {', '.join(found)}", tree.display(directory)
        )
    return posixpath.join(directory, found[0]) if found else None


def canonical(tree: Tree, path: str) -> str:
    """PATH with its symlinks resolved, where the tree can say (missing paths stay as they are)."""
    resolve = getattr(tree, "canonical", None)
    found = resolve(path) if resolve is not None else None
    return path if found is None else found


def in_root(path: str, root: str) -> bool:
    """kustomize's RestrictionRootOnly: PATH (resolved) is a file in or below ROOT (resolved)."""
    parent = posixpath.dirname(path)
    return not root or parent == root or parent.startswith(root + "/")


_SIMPLE_PATH = re.compile(r"(?:\.\./)+[A-Za-z0-9][A-Za-z0-9._/-]*|[A-Za-z][A-Za-z0-9_-]*\.yaml")
_SIMPLE_HEAD = {
    "apiVersion: " + KUSTOMIZATION_VERSION: ("apiVersion", KUSTOMIZATION_VERSION),
    "kind: Kustomization": ("kind", "Kustomization"),
}
# A namespace YAML can only read as a plain string: starts with a letter, no YAML 1.1/1.2 keyword.
SIMPLE_NAMESPACE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


def plain_namespace(value: str) -> bool:
    return SIMPLE_NAMESPACE.fullmatch(value) is not None and value not in YAML_WORDS


def parse_simple(raw: bytes) -> dict[str, Any] | None:
    """The kustomizations `generate` writes (variants, mappings) without a YAML parser.

    Thousands of them are read per fleet render. Only the exact shape generate emits is
    accepted: comment lines, apiVersion/kind, a plain `namespace:`, and `resources:`/`components:` lists of
    relative paths whose characters YAML can only read as plain strings. Anything else
    returns None and goes through the YAML loader.
    """
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    data: dict[str, Any] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if line.startswith("- "):
            if current is None or not _SIMPLE_PATH.fullmatch(line[2:]):
                return None
            current.append(line[2:])
        elif line in _SIMPLE_HEAD:
            key, value = _SIMPLE_HEAD[line]
            if key in data:
                return None
            data[key] = value
            current = None
        elif line.startswith("namespace: "):
            value = line[len("namespace: ") :]
            if "namespace" in data or not plain_namespace(value):
                return None
            data["namespace"] = value
            current = None
        elif line in ("resources:", "components:", "resources: []", "components: []"):
            key = line.split(":")[0]
            if key in data:
                return None
            current = data[key] = []
            if line.endswith("[]"):
                current = None
        else:
            return None
    return data if "kind" in data else None


def load(tree: Tree, directory: str, raw: bytes, path: str) -> Kustomization:
    display = tree.display(path)
    simple = parse_simple(raw)
    docs = [simple] if simple is not None else yamlio.load_documents(raw, display)
    if not docs:
        raise GitopsGenError("kustomization is empty", display)
    if len(docs) > 1:
        raise GitopsGenError("a kustomization file must hold one YAML document", display)
    data = docs[0]
    if not isinstance(data, dict):
        raise GitopsGenError("a kustomization must be a mapping", display, 1, 1)
    kust = Kustomization(
        path=display, dir=directory, data=data, raw=raw, is_component=False, simple=simple is not None
    )
    check_fields(kust)
    kind = data.get("kind") or "Kustomization"
    kust.is_component = kind == "Component"
    return kust


def _string(kust: Kustomization, key: str, value: Any) -> None:
    if not isinstance(value, str):
        raise kust.error(f"{key} must be a string", key)


def _list(kust: Kustomization, key: str, value: Any, item: type | None = None, what: str = "") -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise kust.error(f"{key} must be a list", key)
    for i, entry in enumerate(value):
        if item is not None and not isinstance(entry, item):
            raise kust.error(f"{key}[{i}] must be {what}", key, i)


def _mapping(kust: Kustomization, key: str, value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise kust.error(f"{key} must be a mapping", key)


# The shape check of each kind of field (kustomize's strict decoding); "any" is left to its reader.
SHAPE_CHECKS: dict[Shape, Callable[[Kustomization, str, Any], None]] = {
    "string": _string,
    "list of strings": lambda kust, key, value: _list(kust, key, value, str, "a string"),
    "list": _list,
    "list of maps": lambda kust, key, value: _list(kust, key, value, dict, "a mapping"),
    "map of strings": _mapping,
    "any": lambda kust, key, value: None,
}


def check_fields(kust: Kustomization) -> None:
    data = kust.data
    for key in data:
        if key in UNSUPPORTED:
            raise kust.error(
                f"not supported: {key} in {kust.path} (gitops-gen's engine does not implement it; "
                "use --engine kustomize)",
                key,
            )
        if key not in SUPPORTED:
            raise kust.error(f"unknown field {key!r} in kustomization", key)
    for f in FIELDS:
        if f.name in data:
            SHAPE_CHECKS[f.shape](kust, f.name, data[f.name])
    kind = data.get("kind", "")
    if kind not in ("", "Kustomization", "Component"):
        raise kust.error("kind should be Kustomization or Component", "kind")
    required = COMPONENT_VERSION if kind == "Component" else KUSTOMIZATION_VERSION
    if data.get("apiVersion") and data["apiVersion"] != required:
        raise kust.error(f"apiVersion for {kind or 'Kustomization'} should be {required}", "apiVersion")
    if not any(k not in ("apiVersion", "kind") for k in data):
        raise kust.error("kustomization is empty")
    sort = data.get("sortOptions")
    if sort is not None:
        if not isinstance(sort, dict) or sort.get("order") not in ("legacy", "fifo"):
            raise kust.error("sortOptions.order must be one of legacy, fifo", "sortOptions")
        if set(sort) - {"order", "legacySortOptions"}:
            raise kust.error("unknown field in sortOptions", "sortOptions")


def deprecations(kust: Kustomization) -> list[str]:
    """The warnings kustomize prints to stderr when it loads this kustomization."""
    return [message + EDIT_FIX for key, message in DEPRECATIONS.items() if key in kust.data]
