"""kustomize's ``replacements``: copy a field of one resource into fields of others.

Field paths use kustomize's syntax: dots between fields, ``[key]`` for a map key that
contains dots, ``[name=value]`` for a list element, ``[N]`` for an index and ``*`` for
every element or field. A scalar target keeps its own type (kustomize only replaces
the text of the YAML scalar); a map or list target is replaced whole.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import ResId, Resource
from gitops_gen.kustomize.selector import SELECTOR_KEYS, parse_selector, string_map

SOURCE_KEYS = {"group", "version", "kind", "name", "namespace", "fieldPath", "options"}
OPTION_KEYS = {"delimiter", "index", "create"}


def split_path(path: str) -> list[str]:
    """kustomize's SmarterPathSplitter: split on dots outside brackets."""
    parts: list[str] = []
    current = ""
    depth = 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p != ""]


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _selected_by(res_id: ResId, sel: dict[str, Any]) -> bool:
    """kustomize's ResId.IsSelectedBy: every field the selector sets matches exactly."""
    if sel.get("name") and sel["name"] != res_id.name:
        return False
    if sel.get("namespace"):
        probe = ResId(res_id.group, res_id.version, res_id.kind, res_id.name, str(sel["namespace"]))
        if probe.effective_namespace() != res_id.effective_namespace():
            return False
    return not any(sel.get(k) and sel[k] != getattr(res_id, k) for k in ("group", "version", "kind"))


def _ids(res: Resource) -> list[ResId]:
    return res.all_ids()


def _check(entry: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise GitopsGenError(f"{where} must be a mapping")
    unknown = set(entry) - allowed
    if unknown:
        raise GitopsGenError(f"unknown field {sorted(unknown)[0]!r} in {where}")
    return entry


def _label_match(res: Resource, sel: dict[str, Any]) -> bool:
    labels = parse_selector(sel.get("labelSelector"))
    annotations = parse_selector(sel.get("annotationSelector"))
    return (labels is None or labels(string_map(res.labels()))) and (
        annotations is None or annotations(string_map(res.annotations()))
    )


def _source_value(resources: list[Resource], source: dict[str, Any]) -> Any:
    source = _check(source, SOURCE_KEYS, "replacement source")
    matches = [r for r in resources if any(_selected_by(i, source) for i in _ids(r))]
    described = ", ".join(
        f"{k}={source[k]}" for k in ("group", "version", "kind", "name", "namespace") if source.get(k)
    )
    if not matches:
        raise GitopsGenError(f"nothing selected by replacement source {described}")
    if len(matches) > 1:
        raise GitopsGenError(f"multiple matches for replacement source {described}")
    field_path = source.get("fieldPath") or "metadata.name"
    found = _lookup(matches[0].obj, split_path(field_path))
    if not found or found[0] in (None, {}, []):
        raise GitopsGenError(f"fieldPath `{field_path}` is missing for replacement source {described}")
    value = found[0]
    options = _check(source.get("options") or {}, OPTION_KEYS, "replacement source options")
    if options.get("delimiter"):
        if isinstance(value, dict | list):
            raise GitopsGenError("delimiter option can only be used with scalar nodes")
        pieces = _scalar_text(value).split(options["delimiter"])
        index = int(options.get("index") or 0)
        if not 0 <= index < len(pieces):
            raise GitopsGenError(f"options.index {index} is out of bounds for value {_scalar_text(value)}")
        return pieces[index]
    return value


_ELEMENT = re.compile(r"^\[(?P<key>[^=\]]*)=(?P<value>[^\]]*)\]$")
_INDEX = re.compile(r"^\[(?P<index>-?\d+|-)\]$")
_KEY = re.compile(r"^\[(?P<key>[^=\]]+)\]$")


def _lookup(node: Any, parts: list[str]) -> list[Any]:
    """Every value PARTS reaches (several with ``*``)."""
    nodes = [node]
    for part in parts:
        nxt: list[Any] = []
        for n in nodes:
            nxt.extend(_step(n, part))
        nodes = nxt
    return nodes


def _step(node: Any, part: str) -> list[Any]:
    if part == "*":
        if isinstance(node, list):
            return list(node)
        if isinstance(node, dict):
            return list(node.values())
        return []
    m = _ELEMENT.match(part)
    if m:
        if not isinstance(node, list):
            return []
        key, value = m.group("key"), m.group("value")
        if key == "":
            return [v for v in node if _scalar_text(v) == value]
        return [v for v in node if isinstance(v, dict) and _scalar_text(v.get(key)) == value]
    if part.isdigit() and isinstance(node, list):
        part = f"[{part}]"  # kyaml reads a bare number as an index into a sequence
    m = _INDEX.match(part)
    if m:
        if not isinstance(node, list) or m.group("index") == "-":
            return []
        i = int(m.group("index"))
        return [node[i]] if -len(node) <= i < len(node) else []
    m = _KEY.match(part)
    key = m.group("key") if m else part
    if isinstance(node, dict) and key in node:
        return [node[key]]
    return []


def _convert(text: str, like: Any) -> Any:
    """The target scalar keeps its type: kustomize only swaps the scalar's text."""
    if isinstance(like, bool):
        return {"true": True, "false": False}.get(text, text)
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _set(node: Any, parts: list[str], value: Any, options: dict[str, Any], create: bool) -> int:
    """Set every field PARTS reaches under NODE; returns how many were set."""
    part, rest = parts[0], parts[1:]
    if not rest:
        return _set_leaf(node, part, value, options, create)
    count = 0
    children = _step(node, part)
    if not children and create:
        child = _create(node, part)
        children = [] if child is None else [child]
    for child in children:
        if isinstance(child, dict | list):
            count += _set(child, rest, value, options, create)
    return count


def _create(node: Any, part: str) -> Any:
    m = _ELEMENT.match(part)
    if m and isinstance(node, list):
        element = {m.group("key"): m.group("value")} if m.group("key") else m.group("value")
        node.append(element)
        return element
    if isinstance(node, dict) and not _INDEX.match(part) and part != "*":
        key = _KEY.match(part)
        new: dict[str, Any] = {}
        node[key.group("key") if key else part] = new
        return new
    return None


def _refine(current: Any, value: Any, options: dict[str, Any]) -> Any:
    if not options.get("delimiter"):
        return value
    if isinstance(current, dict | list):
        raise GitopsGenError("delimiter option can only be used with scalar nodes")
    pieces = _scalar_text(current).split(options["delimiter"])
    index = int(options.get("index") or 0)
    text = _scalar_text(value)
    if index < 0:
        pieces.insert(0, text)
    elif index >= len(pieces):
        pieces.append(text)
    else:
        pieces[index] = text
    return options["delimiter"].join(pieces)


def _set_leaf(node: Any, part: str, value: Any, options: dict[str, Any], create: bool) -> int:
    def assign(current: Any) -> Any:
        new = _refine(current, value, options)
        if current is not None and not isinstance(current, dict | list) and not isinstance(new, dict | list):
            return _convert(_scalar_text(new), current)
        return copy.deepcopy(new)

    if part == "*":
        if isinstance(node, list):
            for i, cur in enumerate(node):
                node[i] = assign(cur)
            return len(node)
        if isinstance(node, dict):
            for k, cur in node.items():
                node[k] = assign(cur)
            return len(node)
        return 0
    m = _ELEMENT.match(part)
    if m:
        if not isinstance(node, list):
            return 0
        hits = [i for i, v in enumerate(node) if v in _step(node, part)]
        for i in hits:
            node[i] = assign(node[i])
        return len(hits)
    if part.isdigit() and isinstance(node, list):
        part = f"[{part}]"
    m = _INDEX.match(part)
    if m:
        if not isinstance(node, list) or m.group("index") == "-":
            return 0
        i = int(m.group("index"))
        if -len(node) <= i < len(node):
            node[i] = assign(node[i])
            return 1
        return 0
    key_m = _KEY.match(part)
    key = key_m.group("key") if key_m else part
    if not isinstance(node, dict):
        return 0
    if key in node:
        node[key] = assign(node[key])
        return 1
    if create:
        node[key] = copy.deepcopy(_refine("", value, options) if options.get("delimiter") else value)
        return 1
    return 0


def apply_replacements(resources: list[Resource], replacements: list[dict[str, Any]]) -> None:
    for entry in replacements:
        entry = _check(entry, {"source", "targets"}, "replacement")
        if not entry.get("source") or not entry.get("targets"):
            raise GitopsGenError("replacements must specify a source and at least one target")
        value = _source_value(resources, entry["source"])
        for target in entry["targets"]:
            target = _check(target, {"select", "reject", "fieldPaths", "options"}, "replacement target")
            select = target.get("select")
            if not select:
                raise GitopsGenError("target must specify resources to select")
            _check(select, set(SELECTOR_KEYS), "replacement target select")
            rejects = target.get("reject") or []
            options = _check(target.get("options") or {}, OPTION_KEYS, "replacement target options")
            paths = target.get("fieldPaths") or ["metadata.name"]
            for res in resources:
                if not _label_match(res, select):
                    continue
                if any(
                    (r.get("labelSelector") or r.get("annotationSelector")) and _label_match(res, r)
                    for r in rejects
                ):
                    continue
                ids = _ids(res)
                if not any(_selected_by(i, select) for i in ids):
                    continue
                id_rejects = [
                    r
                    for r in rejects
                    if any(r.get(k) for k in ("group", "version", "kind", "name", "namespace"))
                ]
                if any(_selected_by(i, r) for r in id_rejects for i in ids):
                    continue
                for fp in paths:
                    if _set(res.obj, split_path(fp), value, options, bool(options.get("create"))) == 0:
                        what = "find or create" if options.get("create") else "find"
                        raise GitopsGenError(
                            f"unable to {what} field {fp!r} in replacement target {res.kind}/{res.name}"
                        )
