"""Strategic-merge patching exactly as ``kubectl kustomize`` (kustomize v5.5) does it.

kustomize does not use the apimachinery strategic merge; its ``patches`` and
``patchesStrategicMerge`` run kyaml's ``merge2`` walker with patch elements
prepended. That walker has its own rules and quirks, which users see in the
rendered output, so this module reproduces its algorithm step by step on plain
Python data (dicts, lists, scalars; ``None`` is YAML null):

* Maps merge recursively; a ``null`` value in the patch deletes the key.
  ``$patch: delete`` / ``replace`` / ``merge`` act on the map holding them.
* Lists merge element-wise only when the schema gives a ``merge`` strategy
  (see ``gitops_gen.kustomize.openapi``); all other lists, and every list of a kind
  without schema, are replaced wholesale and copied verbatim.
* Keyed lists: the patch's elements come first (in patch order), then the
  base elements the patch did not mention. Elements are matched on the text
  of their key fields; multi-key lists (ports: containerPort + protocol) use
  kyaml's partial-key matching, including its surprising cases.
* ``$retainKeys``, ``$setElementOrder/...`` and ``$deleteFromPrimitiveList/...``
  are not directives to kyaml: they are ordinary fields and land in the output.

The functions mirror kyaml's (``walk``, ``visit_map``, ``element_setter``,
...) so that each quirk can be traced back to the step producing it. Node
identity matters exactly as pointer identity does in kyaml (an element merged
in place is the one its list keeps).

Two ways to run the same walk (see ``_Walk``):

* the reference walk (``merge``'s default) deep-copies both inputs and visits
  every node of the base, as kyaml does;
* the fast walk (``merge(..., consume_base=True)``, what the engine uses) copies
  only the base nodes it changes and skips base subtrees the patch does not
  reach once ``_stable`` proves kyaml would leave them as they are. Even
  untouched subtrees are not always left alone by kyaml (duplicate keys in a
  merge list collapse, keyless elements vanish: see ``tests/data/smp/untouched-*``),
  so anything not proven stable is walked for real. Well-formed one-key lists
  (containers, env, volumes) merge by a shortcut, ``_merge_keyed_list``.
  ``tests/test_smp.py`` checks both walks give the same results.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.openapi import Node, patch_meta


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


def _element_index(source: Any, keys: list[str], values: list[str]) -> int:
    """kyaml's ElementMatcher: the index of the first element of SOURCE with
    KEYS=VALUES exactly; -1 when none."""
    if not isinstance(source, list):
        return -1
    keys = keys or [""]
    values = values or [""]
    if keys[0] == "":
        for i, elem in enumerate(source):
            if raw_text(elem) == values[0]:
                return i
        return -1
    for i, elem in enumerate(source):
        if not isinstance(elem, dict):
            continue
        if all(key in elem and raw_text(elem[key]) == value for key, value in zip(keys, values, strict=True)):
            return i
    return -1


def _element_list(source: Any, keys: list[str], values: list[str]) -> Any:
    index = _element_index(source, keys, values)
    return MISSING if index < 0 else source[index]


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


class _Walk:
    """State of one merge.

    The reference walk (``fast=False``) runs on private deep copies of both
    inputs and may mutate any node, as kyaml mutates its parsed trees.

    The fast walk (``fast=True``, ``merge(..., consume_base=True)``) never
    copies the base up front. It copies a base map or list (shallowly) just
    before its first write, so the base is never written to and subtrees the
    patch does not reach stay shared with it; ``owned`` holds the ids of the
    nodes it may write to (the patch's private copy, those copies, its own new
    lists). Base subtrees without the patch are only read when ``_stable``
    proves kyaml would leave them as they are; otherwise they are walked like
    the rest. ``lists`` collects the lists built from list merges, where kyaml
    may put one node twice; ``_unshare`` copies such repeats at the end.
    """

    __slots__ = ("fast", "lists", "owned")

    def __init__(self, fast: bool):
        self.fast = fast
        self.owned: set[int] = set()
        self.lists: list[list[Any]] = []

    def writable(self, node: Any) -> Any:
        """NODE, or a shallow copy the walk owns when NODE belongs to the base."""
        if not self.fast or id(node) in self.owned:
            return node
        copy: dict[Any, Any] | list[Any] = dict(node) if isinstance(node, dict) else list(node)
        self.owned.add(id(copy))
        return copy

    def new_list(self) -> list[Any]:
        new: list[Any] = []
        if self.fast:
            self.owned.add(id(new))
            self.lists.append(new)
        return new


def _schema_for(dest: Any, origin: Any) -> Node | None:
    """Walker.GetSchema without an inherited schema: one found by apiVersion/kind."""
    for source in (dest, origin):
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


# Scalar types a loader produces; anything else takes the general path.
_SCALARS: Final = frozenset({str, QuotedStr, int, float, bool})


def _stable(node: Any, schema: Node | None) -> bool:
    """True when walking NODE against an absent patch provably returns NODE unchanged.

    That holds for scalars, maps of stable values and lists kyaml does not
    merge; merge lists pass only in the well-formed shapes ``_stable_merge_list``
    checks. False means "not proven": the caller walks NODE for real.
    """
    t = type(node)
    if t is dict:
        return _stable_map(node, schema)
    if t is list:
        return schema is None or not schema.is_merge_list or _stable_merge_list(node, schema)
    return node is None or t in _SCALARS


def _stable_map(node: dict[Any, Any], schema: Node | None) -> bool:
    if schema is None:
        schema = _schema_for(node, MISSING)
    for name, value in node.items():
        t = type(value)
        if t is dict:
            if not _stable_map(value, None if schema is None else schema.field(name)):
                return False
        elif t is list:
            sub = None if schema is None else schema.field(name)
            if sub is not None and sub.is_merge_list and not _stable_merge_list(value, sub):
                return False
        elif value is not None and t not in _SCALARS:
            return False
    return True


def _key_text(elem: dict[Any, Any], key: str) -> str | None:
    """The text an element's key field contributes; "" when unset; None when odd."""
    value = elem.get(key, MISSING)
    if type(value) in _SCALARS:
        return raw_text(value)
    return "" if _is_nil_or_empty(value) else None


def _stable_merge_list(seq: list[Any], schema: Node) -> bool:
    """A merge list kyaml rebuilds as it was: elements of the right kind whose
    keys are all set (or all unset, for one key of several) and unique."""
    if not seq:
        return True
    keys = schema.merge_keys
    if len(keys) == 1:
        return _by_key(seq, keys[0]) is not None and all(_stable_map(e, schema.items()) for e in seq)
    seen: set[Any] = set()
    if not keys:
        for elem in seq:
            if type(elem) not in _SCALARS:
                return False
            text = raw_text(elem)
            if not text or text in seen:
                return False
            seen.add(text)
        return True
    rows: list[tuple[str, ...]] = []
    for elem in seq:
        if type(elem) is not dict:
            return False
        texts: list[str] = []
        for key in keys:
            key_text = _key_text(elem, key)
            if key_text is None:
                return False
            texts.append(key_text)
        rows.append(tuple(texts))
    # Keys no element sets drop out (kyaml's validation of the keys); every
    # other key must be set in every element.
    used = [any(row[i] for row in rows) for i in range(len(keys))]
    if not any(used):
        return False
    for row in rows:
        used_values = tuple(text for text, on in zip(row, used, strict=True) if on)
        if not all(used_values) or used_values in seen:
            return False
        seen.add(used_values)
    items = schema.items()
    return all(_stable_map(elem, items) for elem in seq)


def walk(dest: Any, origin: Any, schema: Node | None, path: tuple[str, ...], state: _Walk) -> Any:
    """Merge ORIGIN (the patch) into DEST; returns the merged node or MISSING to clear it."""
    if origin is MISSING and state.fast:
        if dest is None:
            return _KEEP_NULL
        if dest is MISSING:
            return MISSING
        if _stable(dest, schema):
            return dest
    if schema is None:
        schema = _schema_for(dest, origin)
    first = dest if not _is_missing_or_null(dest) else origin
    if _is_missing_or_null(first):
        return _walk_map(dest, origin, schema, path, state)
    if first is dest and not _is_missing_or_null(origin) and type(origin) is not type(dest):
        kind, other = _kind_name(first), _kind_name(origin)
        if other != kind:
            raise SmpError(f"wrong node kind at {_path_text(path)}: expected {kind} but got {other}")
    if isinstance(first, dict):
        return _walk_map(dest, origin, schema, path, state)
    if isinstance(first, list):
        if schema is not None and schema.is_merge_list:
            return _walk_associative_list(dest, origin, schema, path, state)
        return _visit_list(dest, origin, associative=False, path=path)
    return _visit_scalar(dest, origin)


def _visit_map(dest: Any, origin: Any) -> Any:
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


def _walk_map(dest: Any, origin: Any, schema: Node | None, path: tuple[str, ...], state: _Walk) -> Any:
    dest = _visit_map(dest, origin)
    if dest is MISSING or not isinstance(dest, dict):
        return dest
    patch = origin if isinstance(origin, dict) else None
    if state.fast:
        # Base-only fields kyaml would leave alone need no visit (stable
        # subtrees are shared, not copied); the rest are visited in the same
        # order as all of them would be, so effects and errors stay in order.
        names: list[Any] = [] if patch is None else list(patch)
        for name, value in dest.items():
            if value is None or type(value) in _SCALARS or (patch is not None and name in patch):
                continue
            if not _stable(value, None if schema is None else schema.field(name)):
                names.append(name)
        if not names:
            return dest
        dest = state.writable(dest)
    else:
        names = list({*dest, *patch} if patch is not None else dest)
    # Fields are visited in sorted order; new ones are appended in that order.
    for name in sorted(names, key=str):
        base_value = dest.get(name, MISSING)
        patch_value = MISSING if patch is None else patch.get(name, MISSING)
        if state.fast and (
            patch_value is None
            or (
                type(patch_value) in _SCALARS
                and (base_value is MISSING or base_value is None or type(base_value) in _SCALARS)
            )
        ):
            # What walk() comes to for a null or a scalar over a scalar.
            merged = patch_value
        else:
            merged = walk(
                base_value, patch_value, None if schema is None else schema.field(name), (*path, name), state
            )
        if merged is MISSING or merged is None:
            dest.pop(name, None)
        elif merged is _KEEP_NULL:
            dest[name] = None
        else:
            if _is_typed_scalar(merged) and name in dest and _was_quoted(dest[name]):
                # kyaml gives the new scalar the old one's quoting style, and a quoted
                # number is a string once kustomize prints it.
                merged = raw_text(merged)
            dest[name] = merged
    return dest


def _visit_scalar(dest: Any, origin: Any) -> Any:
    return origin if origin is not MISSING else dest


def _visit_list(dest: Any, origin: Any, associative: bool, path: tuple[str, ...]) -> Any:
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


def _walk_associative_list(dest: Any, origin: Any, schema: Node, path: tuple[str, ...], state: _Walk) -> Any:
    dest = _visit_list(dest, origin, associative=True, path=path)
    if dest is MISSING:
        return MISSING
    keys = list(schema.merge_keys)
    if state.fast and len(keys) == 1:
        by_dest = _by_key(dest, keys[0])
        by_origin = {} if origin is MISSING else _by_key(origin, keys[0])
        if by_dest is not None and by_origin is not None and (by_dest or by_origin):
            return _merge_keyed_list(by_dest, by_origin, keys[0], schema.items(), path, state)
    dest = state.writable(dest)
    values = _element_values(dest, origin, keys)
    if values or keys:
        return _set_associative_elements(values, keys, dest, origin, schema, path, state)
    return _set_associative_elements(
        _element_primitive_values(dest, origin), [""], dest, origin, schema, path, state
    )


def _by_key(seq: Any, key: str) -> dict[str, Any] | None:
    """SEQ's elements by the text of their KEY field, when all are maps with
    KEY set to a scalar and no two share it; else None."""
    if type(seq) is not list:
        return None
    found: dict[str, Any] = {}
    for elem in seq:
        if type(elem) is not dict:
            return None
        value = elem.get(key, MISSING)
        if type(value) not in _SCALARS:
            return None
        text = raw_text(value)
        if not text or text in found:
            return None
        found[text] = elem
    return found


def _merge_keyed_list(
    by_dest: dict[str, Any],
    by_origin: dict[str, Any],
    key: str,
    elem_schema: Node | None,
    path: tuple[str, ...],
    state: _Walk,
) -> list[Any]:
    """What ``_set_associative_elements`` + ``_append_list_node`` come to for a
    one-key list whose elements (base and patch) all have distinct keys.

    kyaml's element-by-element rebuild then reduces to: patch keys first,
    then the base's other keys; each slot holds the base element (merged in
    place) when there is one, else the merged patch element; elements that
    merge to nothing are dropped.
    """
    merged_list = state.new_list()
    for text in (*by_origin, *(t for t in by_dest if t not in by_origin)):
        base_elem = by_dest.get(text, MISSING)
        patch_elem = by_origin.get(text, MISSING)
        if base_elem is not MISSING and id(base_elem) not in state.owned:
            if patch_elem is MISSING and _stable_map(base_elem, elem_schema):
                merged_list.append(base_elem)
                continue
            base_elem = state.writable(base_elem)
        merged = walk(base_elem, patch_elem, elem_schema, path, state)
        if _is_empty_map(merged):
            continue
        if not isinstance(merged, dict):
            raise SmpError(
                f"wrong node kind at {_path_text(path)}: expected MappingNode but got {_kind_name(merged)}"
            )
        if key not in merged:
            merged[key] = text
        merged_list.append(merged if base_elem is MISSING else base_elem)
    return merged_list


def _element_values(dest: Any, origin: Any, keys: list[str]) -> list[list[str]]:
    result: list[list[str]] = []
    # kustomize prepends patch elements: the origin is read before the dest.
    for source in (origin, dest):
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


def _element_primitive_values(dest: Any, origin: Any) -> list[list[str]]:
    result: list[list[str]] = []
    seen: set[str] = set()
    for source in (origin, dest):
        if not isinstance(source, list):
            continue
        for elem in source:
            text = raw_text(elem)
            if text not in seen:
                seen.add(text)
                result.append([text])
    return result


def _set_associative_elements(
    values_list: list[list[str]],
    keys: list[str],
    dest: list[Any],
    origin: Any,
    schema: Node,
    path: tuple[str, ...],
    state: _Walk,
) -> Any:
    added = state.new_list()
    elem_schema = schema.items()
    if len(keys) > 1:
        values_list = _merge_values(values_list)
    valid_keys: list[str] = keys
    for values in values_list:
        if not values:
            continue
        valid_keys, valid_values = _validate_keys(values_list, values, keys)
        one_keys, one_values = _validate_keys([valid_values], valid_values, valid_keys)
        index = _element_index(dest, one_keys, one_values)
        base_elem = MISSING if index < 0 else dest[index]
        patch_elem = MISSING if origin is MISSING else _element_list(origin, one_keys, one_values)
        if isinstance(base_elem, dict | list) and state.fast and id(base_elem) not in state.owned:
            if patch_elem is MISSING and _stable(base_elem, elem_schema):
                merged = base_elem
            else:
                # The merge happens in the list's own element: below, the list's
                # elements replace the merged ones, as kyaml's pointers do.
                base_elem = dest[index] = state.writable(base_elem)
                merged = walk(base_elem, patch_elem, elem_schema, path, state)
        else:
            merged = walk(base_elem, patch_elem, elem_schema, path, state)
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
        return _append_list_node(added, dest, valid_keys, path)
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


def _clone_owned(value: Any, owned: set[int]) -> Any:
    """``_clone``, recording the copies' ids in OWNED."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        copy: Any = {k: _clone_owned(v, owned) for k, v in value.items()}
    elif isinstance(value, list):
        copy = [_clone_owned(v, owned) for v in value]
    else:
        return value
    owned.add(id(copy))
    return copy


def _unshare(lists: list[list[Any]]) -> None:
    """Copy every repeat of a node kyaml put in more than one list slot."""
    seen: set[int] = set()
    for seq in lists:
        for i, elem in enumerate(seq):
            if isinstance(elem, dict | list):
                if id(elem) in seen:
                    seq[i] = _clone(elem)
                else:
                    seen.add(id(elem))


def merge(
    base: dict[str, Any], patch: dict[str, Any], meta: Node | None = None, *, consume_base: bool = False
) -> dict[str, Any] | None:
    """Strategic-merge PATCH into BASE as kustomize's merge2 does; None when deleted.

    META is the schema of the whole object; when None it is looked up from the
    base's (then the patch's) apiVersion/kind, as kustomize does at every map
    without a schema. Raises ``SmpError`` (a ``GitopsGenError`` without
    location; callers add file and line) where kustomize fails.

    By default neither input is modified and the result shares nothing with
    them. With ``consume_base=True`` the caller hands BASE over: the result
    shares with BASE every subtree the patch leaves alone (copying only what
    changes; it may even be BASE itself), so after the call the caller must neither use nor modify BASE
    or anything inside it, and nothing else may still refer into it. The
    merged value is the same either way. PATCH is never modified or shared.
    """
    if consume_base:
        state = _Walk(fast=True)
        merged = walk(base, _clone_owned(patch, state.owned), meta, (), state)
    else:
        state = _Walk(fast=False)
        merged = walk(_clone(base), _clone(patch), meta, (), state)
    if _is_missing_or_null(merged):
        return None
    if not isinstance(merged, dict):
        raise SmpError(f"strategic merge patch result is a {_kind_name(merged)}, not a map")
    if consume_base:
        _unshare(state.lists)
        return merged
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
