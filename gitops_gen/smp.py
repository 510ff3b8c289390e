"""Strategic-merge patching exactly as ``kubectl kustomize`` (kustomize v5.5) does it.

kustomize does not use the apimachinery strategic merge; its ``patches`` and
``patchesStrategicMerge`` run kyaml's ``merge2`` walker with patch elements
prepended. That walker has its own rules and quirks, which users see in the
rendered output, so this module reproduces its algorithm step by step on plain
Python data (dicts, lists, scalars; ``None`` is YAML null):

* Maps merge recursively; a ``null`` value in the patch deletes the key.
  ``$patch: delete`` / ``replace`` / ``merge`` act on the map holding them.
* Lists merge element-wise only when the schema gives a ``merge`` strategy
  (see ``gitops_gen.openapi``); all other lists, and every list of a kind
  without schema, are replaced wholesale and copied verbatim.
* Keyed lists: the patch's elements come first (in patch order), then the
  base elements the patch did not mention. Elements are matched on the text
  of their key fields; multi-key lists (ports: containerPort + protocol) use
  kyaml's partial-key matching, including its surprising cases.
* ``$retainKeys``, ``$setElementOrder/...`` and ``$deleteFromPrimitiveList/...``
  are not directives to kyaml: they are ordinary fields and land in the output.

The functions mirror kyaml's (``walk``, ``visit_map``, ``element_setter``,
...) so that each quirk can be traced back to the step producing it. Both
inputs are deep-copied first; node identity inside the copies matters exactly
as pointer identity does in kyaml.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gitops_gen.errors import GitopsGenError
from gitops_gen.openapi import Node, patch_meta


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


# An absent node (a nil RNode in kyaml), distinct from YAML null (None).
MISSING: Final = _Sentinel("MISSING")
# A null kept in the output because the base wrote it explicitly.
_KEEP_NULL: Final = _Sentinel("KEEP_NULL")

_DIRECTIVE = "$patch"
_DELETE, _REPLACE, _MERGE = "delete", "replace", "merge"

ALLOW_NAME_CHANGE = "config.kubernetes.io/allowNameChange"
ALLOW_KIND_CHANGE = "config.kubernetes.io/allowKindChange"


class SmpError(GitopsGenError):
    """A patch kustomize itself rejects (wrong node kind, unknown ``$patch``)."""


# --- scalar text, as kyaml compares values ------------------------------------


def raw_text(value: Any) -> str:
    """The YAML source text of a scalar node (kyaml's ``YNode().Value``)."""
    if value is None or value is _KEEP_NULL:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return ""
    return str(value)


def _get_value(value: Any) -> str:
    # kyaml's GetValue: null reads as the empty string.
    return "" if _is_missing_or_null(value) else raw_text(value)


def _is_missing_or_null(value: Any) -> bool:
    return value is MISSING or value is None or value is _KEEP_NULL


def _is_empty_map(value: Any) -> bool:
    return _is_missing_or_null(value) or (isinstance(value, dict) and not value)


def _is_nil_or_empty(value: Any) -> bool:
    return _is_missing_or_null(value) or (isinstance(value, dict | list) and not value)


_PLAIN_NON_STRINGS: Final = frozenset(
    ["", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"]
    + [sign + word for sign in ("", "+", "-") for word in (".inf", ".Inf", ".INF")]
    + [".nan", ".NaN", ".NAN"]
)
_PLAIN_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)\Z")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")


class QuotedStr(str):
    """A string a loader knows was quoted (or a block scalar) in its source.

    Plain data loses scalar styles, and kyaml gives a patch scalar the style
    of the base scalar it replaces. A loader that returns quoted scalars as
    ``QuotedStr`` lets ``merge`` get every such case right, not only the ones
    ``_was_quoted`` can infer.
    """

    __slots__ = ()


def _was_quoted(value: Any) -> bool:
    """A string that was quoted in its source: known (QuotedStr), or inferred
    because YAML would read it as something else unless it was quoted.

    This is the one place style changes data: a quoted number is a string once
    kustomize prints it (``cpu: "2"`` patched with ``cpu: 4`` prints ``"4"``).
    """
    if not isinstance(value, str):
        return False
    if isinstance(value, QuotedStr):
        return True
    text = value.replace("_", "")
    return value in _PLAIN_NON_STRINGS or bool(_PLAIN_INT.match(text) or _PLAIN_FLOAT.match(text))


def _is_typed_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float)


def _kind_name(value: Any) -> str:
    if isinstance(value, dict):
        return "MappingNode"
    if isinstance(value, list):
        return "SequenceNode"
    return "ScalarNode"


def _path_text(path: tuple[str, ...]) -> str:
    return ".".join(path) or "<root>"


# --- list primitives (kyaml's FieldMatcher, ElementSetter, ...) ---------------


def _field_matches(elem: Any, name: str, string_value: str, path: tuple[str, ...]) -> bool:
    """Does ``FieldMatcher{Name, StringValue}`` find something in ELEM?"""
    if _is_missing_or_null(elem):
        return False
    if name == "":
        if isinstance(elem, dict | list):
            raise SmpError(
                f"wrong node kind at {_path_text(path)}: expected ScalarNode but got {_kind_name(elem)}"
            )
        return _get_value(elem) == string_value
    if not isinstance(elem, dict):
        raise SmpError(
            f"wrong node kind at {_path_text(path)}: expected MappingNode but got {_kind_name(elem)}"
        )
    if name not in elem:
        return False
    # An empty StringValue matches any value, null included.
    return string_value == "" or raw_text(elem[name]) == string_value


def element_setter(
    seq: list[Any], element: Any, keys: list[str], values: list[str], path: tuple[str, ...] = ()
) -> None:
    """kyaml's ElementSetter, in place: replace (or delete when ELEMENT is
    MISSING) every element matching KEYS=VALUES, else append ELEMENT.

    Like kyaml it also drops null and empty-map elements on the way, and keeps
    no unmatched element at all when VALUES is empty.
    """
    if not keys:
        keys = [""]
    mapping_setter = keys[0] != "" and bool(values) and values[0] != ""
    kept: list[Any] = []
    matched_any = False
    for elem in seq:
        if _is_empty_map(elem):
            continue
        if not isinstance(elem, dict) and mapping_setter:
            kept.append(elem)
            continue
        found = False
        for j, key in enumerate(keys):
            # Past the end of VALUES the previous key's outcome carries over.
            if j < len(values):
                found = _field_matches(elem, key, values[j], path)
            if not found:
                break
        if not found:
            if values:
                kept.append(elem)
            continue
        matched_any = True
        if element is MISSING:
            continue
        kept.append(element)
    seq[:] = kept
    if _is_missing_or_null(element):
        return
    if not matched_any:
        seq.append(element)


def _element_list(source: Any, keys: list[str], values: list[str]) -> Any:
    """kyaml's ElementMatcher: the first element of SOURCE with KEYS=VALUES exactly."""
    if not isinstance(source, list):
        return MISSING
    keys = keys or [""]
    values = values or [""]
    if keys[0] == "":
        for elem in source:
            if raw_text(elem) == values[0]:
                return elem
        return MISSING
    for elem in source:
        if not isinstance(elem, dict):
            continue
        if all(key in elem and raw_text(elem[key]) == value for key, value in zip(keys, values, strict=True)):
            return elem
    return MISSING


def _validate_keys(
    values_list: list[list[str]], values: list[str], keys: list[str]
) -> tuple[list[str], list[str]]:
    """Drop keys no element sets (e.g. ``protocol`` when no port names one)."""
    valid = {keys[i] for vals in values_list for i, v in enumerate(vals) if v != ""}
    if not valid:
        return keys, values
    valid_keys = [k for k in keys if k in valid]
    valid_values = [v for i, v in enumerate(values) if v != "" or keys[i] in valid]
    return valid_keys, valid_values


def _match(values1: list[str], values2: list[str]) -> tuple[bool, list[str]]:
    # Two key tuples match if they share one value and differ only where one is empty.
    if len(values1) != len(values2):
        return False, []
    common = False
    res: list[str] = []
    for a, b in zip(values1, values2, strict=True):
        if a == b:
            common = True
            res.append(a)
            continue
        if a != "" and b != "":
            return False, []
        res.append(a if a != "" else b)
    return common, res


def _merge_values(values_list: list[list[str]]) -> list[list[str]]:
    for i in range(len(values_list)):
        values1 = values_list[i]
        for j in range(len(values_list)):
            matched, res = _match(values1, values_list[j])
            if matched:
                values_list[i] = res
                values_list[j] = res
    return values_list


def _append_list_node(dst: list[Any], src: list[Any], keys: list[str], path: tuple[str, ...]) -> list[Any]:
    """Add SRC's elements to DST, replacing same-key elements (kyaml's appendListNode)."""
    for elem in list(src):
        if keys[0] == "":
            element_setter(dst, elem, [""], [raw_text(elem)], path)
            continue
        found_values: list[str] = []
        for key in keys:
            if not _is_missing_or_null(elem) and not isinstance(elem, dict):
                raise SmpError(
                    f"wrong node kind at {_path_text(path)}: expected MappingNode but got {_kind_name(elem)}"
                )
            if _is_missing_or_null(elem) or key not in elem:
                # An element without its key is appended as is (once per missing key).
                dst.append(elem)
                continue
            found_values.append(raw_text(elem[key]))
        if len(keys) > 1:
            element_setter(dst, MISSING, keys, found_values, path)
        element_setter(dst, elem, keys, found_values, path)
    return dst


# --- directives -----------------------------------------------------------------


def _map_directive(patch: Any) -> str:
    """The ``$patch`` of a patch map, removed from it (kyaml elides it)."""
    if patch is MISSING or not isinstance(patch, dict):
        if patch is MISSING:
            return _MERGE
        raise SmpError(f"no implemented strategic merge patch strategy for {raw_text(patch)!r}")
    if _DIRECTIVE not in patch:
        return _MERGE
    value = raw_text(patch[_DIRECTIVE])
    if value not in (_DELETE, _REPLACE, _MERGE):
        raise SmpError(f"unknown patch strategy '{value}'")
    del patch[_DIRECTIVE]
    return value


def _list_directive(patch: Any, path: tuple[str, ...]) -> str:
    """A ``- $patch: X`` element addressed to the whole list, removed from it."""
    if patch is MISSING:
        return _MERGE
    if not isinstance(patch, list):
        raise SmpError(f"no implemented strategic merge patch strategy for {raw_text(patch)!r}")
    holder = next((e for e in patch if isinstance(e, dict) and _DIRECTIVE in e), None)
    # A $patch inside a real element (more fields) is that element's business.
    if holder is None or len(holder) > 1:
        return _MERGE
    value = raw_text(holder[_DIRECTIVE])
    if value not in (_DELETE, _REPLACE, _MERGE):
        raise SmpError(f"unknown patch strategy '{value}'")
    element_setter(patch, MISSING, [_DIRECTIVE], [value], path)
    return value


# --- the walker ----------------------------------------------------------------


def _schema_for(sources: list[Any], schema: Node | None) -> Node | None:
    """Walker.GetSchema: the inherited schema, else one found by apiVersion/kind."""
    if schema is not None:
        return schema
    for source in sources:
        if not isinstance(source, dict):
            continue
        api_version = source.get("apiVersion", MISSING)
        kind = source.get("kind", MISSING)
        if _is_nil_or_empty(api_version) or _is_nil_or_empty(kind):
            continue
        found = patch_meta(_get_value(api_version), _get_value(kind))
        if found is not None:
            return found
    return None


def walk(sources: list[Any], schema: Node | None, path: tuple[str, ...] = ()) -> Any:
    """Merge ``sources = [dest, origin]``; returns the merged node or MISSING to clear it."""
    schema = _schema_for(sources, schema)
    first = next((s for s in sources if not _is_missing_or_null(s)), MISSING)
    if first is MISSING:
        return _walk_map(sources, schema, path)
    kind = _kind_name(first)
    for source in sources:
        if not _is_missing_or_null(source) and _kind_name(source) != kind:
            raise SmpError(
                f"wrong node kind at {_path_text(path)}: expected {kind} but got {_kind_name(source)}"
            )
    if kind == "MappingNode":
        return _walk_map(sources, schema, path)
    if kind == "SequenceNode":
        if schema is not None and schema.is_merge_list:
            return _walk_associative_list(sources, schema, path)
        return _visit_list(sources, associative=False, path=path)
    return _visit_scalar(sources)


def _visit_map(sources: list[Any]) -> Any:
    dest, origin = sources
    if _is_missing_or_null(dest):
        try:
            directive = _map_directive(origin)
        except SmpError:
            # kyaml ignores a bad directive here; it fails on the next visit.
            directive = ""
        if directive == _DELETE:
            return MISSING
        if origin is MISSING and dest is not MISSING:
            # An explicit null in the base survives when the patch is silent.
            return _KEEP_NULL
        return origin
    if origin is None:
        return MISSING
    directive = _map_directive(origin)
    if directive == _DELETE:
        return MISSING
    if directive == _REPLACE:
        return origin
    return dest


def _walk_map(sources: list[Any], schema: Node | None, path: tuple[str, ...]) -> Any:
    dest = _visit_map(sources)
    if dest is MISSING:
        return MISSING
    sources = [dest, sources[1]]
    names: set[str] = set()
    for source in sources:
        if isinstance(source, dict):
            names.update(source)
    if not isinstance(dest, dict):
        return dest
    # Fields are visited in sorted order; new ones are appended in that order.
    for name in sorted(names, key=str):
        sub_schema = schema.field(name) if schema is not None else None
        values = [s.get(name, MISSING) if isinstance(s, dict) else MISSING for s in sources]
        merged = walk(values, sub_schema, (*path, name))
        if name in dest and _was_quoted(dest[name]) and _is_typed_scalar(merged):
            # kyaml gives the new scalar the old one's quoting style, and a quoted
            # number is a string once kustomize prints it.
            merged = raw_text(merged)
        if merged is MISSING or merged is None:
            dest.pop(name, None)
        elif merged is _KEEP_NULL:
            dest[name] = None
        else:
            dest[name] = merged
    return dest


def _visit_scalar(sources: list[Any]) -> Any:
    dest, origin = sources
    return origin if origin is not MISSING else dest


def _visit_list(sources: list[Any], associative: bool, path: tuple[str, ...]) -> Any:
    dest, origin = sources
    if not associative:
        return origin if origin is not MISSING else dest
    if _is_missing_or_null(dest):
        return origin
    if origin is None:
        return MISSING
    directive = _list_directive(origin, path)
    if directive == _DELETE:
        return MISSING
    if directive == _REPLACE:
        return origin
    return dest


def _walk_associative_list(sources: list[Any], schema: Node, path: tuple[str, ...]) -> Any:
    dest = _visit_list(sources, associative=True, path=path)
    if dest is MISSING:
        return MISSING
    sources = [dest, sources[1]]
    keys = list(schema.merge_keys)
    values = _element_values(sources, keys)
    if values or keys:
        return _set_associative_elements(values, keys, sources, schema, path)
    return _set_associative_elements(_element_primitive_values(sources), [""], sources, schema, path)


def _patch_first(sources: list[Any]) -> list[Any]:
    # kustomize prepends patch elements: the origin is read before the dest.
    return [sources[1], sources[0]]


def _element_values(sources: list[Any], keys: list[str]) -> list[list[str]]:
    result: list[list[str]] = []
    for source in _patch_first(sources):
        if not isinstance(source, list):
            continue
        for elem in source:
            entry = [
                ""
                if not isinstance(elem, dict) or _is_nil_or_empty(elem.get(key, MISSING))
                else raw_text(elem[key])
                for key in keys
            ]
            if entry and entry not in result:
                result.append(entry)
    return result


def _element_primitive_values(sources: list[Any]) -> list[list[str]]:
    result: list[list[str]] = []
    seen: set[str] = set()
    for source in _patch_first(sources):
        if not isinstance(source, list):
            continue
        for elem in source:
            text = raw_text(elem)
            if text not in seen:
                seen.add(text)
                result.append([text])
    return result


def _set_associative_elements(
    values_list: list[list[str]], keys: list[str], sources: list[Any], schema: Node, path: tuple[str, ...]
) -> Any:
    dest = sources[0]
    added: list[Any] = []
    elem_schema = schema.items()
    if len(keys) > 1:
        values_list = _merge_values(values_list)
    valid_keys: list[str] = keys
    for values in values_list:
        if not values:
            continue
        valid_keys, valid_values = _validate_keys(values_list, values, keys)
        one_keys, one_values = _validate_keys([valid_values], valid_values, valid_keys)
        elem_sources = [MISSING if s is MISSING else _element_list(s, one_keys, one_values) for s in sources]
        merged = walk(elem_sources, elem_schema, path)
        if _is_empty_map(merged):
            # A deleted (or emptied) element leaves the base list too.
            element_setter(dest, MISSING, valid_keys, valid_values, path)
            continue
        for i, key in enumerate(valid_keys):
            if valid_values[i] == "":
                continue
            if isinstance(merged, dict):
                if key not in merged:
                    merged[key] = valid_values[i]
            elif key != "":
                raise SmpError(
                    f"wrong node kind at {_path_text(path)}: expected MappingNode but got {_kind_name(merged)}"
                )
        element_setter(added, merged, valid_keys, valid_values, path)
    if values_list:
        dest = _append_list_node(added, dest, valid_keys, path)
    return dest


# --- public API -----------------------------------------------------------------


def _clone(value: Any) -> Any:
    """A deep copy that never shares: equal subtrees of the input become
    separate nodes, as they are in parsed YAML (unlike ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def merge(base: dict[str, Any], patch: dict[str, Any], meta: Node | None = None) -> dict[str, Any] | None:
    """Strategic-merge PATCH into BASE as kustomize's merge2 does; None when deleted.

    META is the schema of the whole object; when None it is looked up from the
    base's (then the patch's) apiVersion/kind, as kustomize does at every map
    without a schema. Neither input is modified. Raises ``SmpError`` (a
    ``GitopsGenError`` without location; callers add file and line) where
    kustomize fails.
    """
    dest = _clone(base)
    origin = _clone(patch)
    merged = walk([dest, origin], meta)
    if _is_missing_or_null(merged):
        return None
    if not isinstance(merged, dict):
        raise SmpError(f"strategic merge patch result is a {_kind_name(merged)}, not a map")
    # kyaml may leave one node in several places; printed, they are copies.
    result: dict[str, Any] = _clone(merged)
    return result


def _meta_text(obj: dict[str, Any], field: str) -> str:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return ""
    return _get_value(metadata.get(field, MISSING))


def _annotation_enabled(patch: dict[str, Any], key: str) -> bool:
    metadata = patch.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and annotations.get(key) == "enabled"


def _set_meta(obj: dict[str, Any], field: str, value: str) -> None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    metadata[field] = value


def apply_patch(
    target: dict[str, Any],
    patch: dict[str, Any],
    *,
    allow_name_change: bool = False,
    allow_kind_change: bool = False,
) -> dict[str, Any] | None:
    """kustomize's Resource.ApplySmPatch: merge, then restore kind, name and namespace.

    The patch's metadata.name/namespace only select the target: the result keeps
    the target's name (unless name change is allowed) and always its namespace
    (dropped when the target has none); kind is restored unless allowed to
    change. apiVersion is NOT restored. Returns None when the resource is to be
    removed (``$patch: delete``, or nothing left).
    """
    allow_name_change = allow_name_change or _annotation_enabled(patch, ALLOW_NAME_CHANGE)
    allow_kind_change = allow_kind_change or _annotation_enabled(patch, ALLOW_KIND_CHANGE)
    name, namespace = _meta_text(target, "name"), _meta_text(target, "namespace")
    kind = _get_value(target.get("kind", MISSING))
    merged = merge(target, patch)
    if not merged:
        return None
    if not allow_kind_change:
        merged["kind"] = kind
    if not allow_name_change:
        _set_meta(merged, "name", name)
    if namespace:
        _set_meta(merged, "namespace", namespace)
    elif isinstance(merged.get("metadata"), dict):
        merged["metadata"].pop("namespace", None)
    return merged
