"""Reading YAML the way kustomize (kyaml, go-yaml v3) reads it.

Parsing is libyaml (``yaml.CSafeLoader``); only scalar resolution is replaced so
that plain scalars mean what they mean to go-yaml v3 and, after kustomize's
JSON round trip, print what kustomize prints:

- booleans are only ``true``/``True``/``TRUE`` and the ``false`` spellings
  (``yes``, ``on``, ``y`` stay strings); null is ``~``/``null``/``Null``/``NULL``/empty;
- integers follow Go's ``ParseInt(s, 0, 64)`` after dropping ``_``: ``0x10``,
  ``0o17``, legacy ``010`` (octal), ``0b101``, ``+1``; beyond int64 they are
  uint64, beyond that a float (``09`` is a float too: bad octal, good float);
- floats: ``1.5``, ``1e3``, ``.5``, ``.inf``/``.nan`` (kustomize then refuses
  to print inf/nan); a float overflowing float64 stays a string;
- a plain timestamp (``2024-01-01``, ``2024-01-01 10:20:30``, RFC 3339) becomes
  the string Go's ``time.Time`` marshals to JSON: ``"2024-01-01T00:00:00Z"``.
  Quoted timestamps stay as written.

Duplicate keys are an error (as in go-yaml v3: same raw key text), anchors,
aliases and ``<<`` merge keys are expanded into independent values. Every
problem is a one-line ``GitopsGenError`` with the 1-based line and column.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gitops_gen.errors import GitopsGenError

# Node path (dict keys and list indices) -> 1-based (line, col).
# A path of keys and list indexes into a YAML document: ("spec", "nodePools", 0, "gpu").
NodePath = tuple[str | int, ...]
LineMap = dict[tuple[Any, ...], tuple[int, int]]

MAX_INPUT_BYTES = 16 * 1024 * 1024
# The one nesting limit for user data (mappings and sequences inside each other), the one libyaml
# enforces while parsing: every recursive walk after the loader (emitter, merge, JSON patch,
# provenance, diff) handles this depth, and anything deeper is refused here with its line.
MAX_DEPTH = 1000
# Alias expansion bound: a document may expand to this many nodes, or to
# ALIAS_RATIO times its own size if that is larger; beyond that it is a bomb.
MAX_EXPANDED_NODES = 1_000_000
ALIAS_RATIO = 20

_NUM_TAG = "tag:gitops-gen,2024:v3-number"
_STR_TAG = "tag:yaml.org,2002:str"
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# go-yaml v3's map of special plain scalars (its resolve table).
_V3_SPECIAL: dict[str, Any] = {
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
}  # fmt: skip

# Go strconv.ParseInt(s, 0, 64) syntax (underscores already removed).
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
# go-yaml's yamlStyleFloat.
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
# Go strconv.ParseFloat for text starting with "." (underscores only between digits).
_GO_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?\Z")
_TS_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\Z")
_TS_ZONED = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})"
    r"(?:[.,]([0-9]+))?(Z|[-+][0-9]{2}:[0-9]{2})\Z"
)
_TS_SPACED = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?\Z"
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(month: int, year: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month - 1]


def go_timestamp(text: str) -> str | None:
    """The JSON text of the Go time go-yaml parses TEXT to, or None if it is no timestamp.

    Mirrors go-yaml's four ``time.Parse`` layouts with Go's range checks; the
    result is Go's RFC 3339 with nanoseconds (trailing zeros dropped, ``Z`` for UTC).
    """
    if len(text) < 8 or not text[:4].isdigit() or text[4] != "-":
        return None
    m = _TS_DATE.match(text) or _TS_ZONED.match(text) or _TS_SPACED.match(text)
    if m is None:
        return None
    groups = m.groups()
    year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
    hour = minute = second = offset = 0
    frac = ""
    if len(groups) > 3:
        hour, minute, second = int(groups[3]), int(groups[4]), int(groups[5])
        frac = (groups[6] or "")[:9].rstrip("0")
        if hour >= 24 or minute >= 60 or second >= 60:
            return None
        zone = groups[7] if len(groups) > 7 else "Z"
        if zone != "Z":
            zh, zm = int(zone[1:3]), int(zone[4:6])
            if zh > 24 or zm > 60:
                return None
            offset = (zh * 60 + zm) * (-1 if zone[0] == "-" else 1)
    if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, year):
        return None
    out = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if frac:
        out += "." + frac
    if offset == 0:
        return out + "Z"
    sign = "-" if offset < 0 else "+"
    return f"{out}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def go_parse_int(text: str) -> int | None:
    """Go's ParseInt(text, 0, 64), then ParseUint(text, 0, 64); None if both fail."""
    m = _GO_INT.match(text)
    if m is None:
        return None
    sign, digits = m.groups()
    if len(digits) > 1 and digits[0] == "0" and digits[1] in "0123456789":
        value = int(digits, 8)
    else:
        value = int(digits, 0)
    if sign == "-":
        value = -value
    if _INT64_MIN <= value <= _INT64_MAX or (not sign and value <= _UINT64_MAX):
        return value
    return None


def _finite_float(text: str) -> float | None:
    value = float(text.replace("_", ""))
    return None if math.isinf(value) else value  # Go: out of range is an error


def resolve_number(text: str, timestamps: bool) -> Any:
    """What go-yaml makes of a plain scalar starting with a digit, sign or dot.

    Shared by the loader (v3, TIMESTAMPS converted) and the emitter's quoting
    decision (v2 quotes whatever is not a string); the two agree on numbers.
    """
    if text[0] == ".":
        return _finite_float(text) if _GO_DOT_FLOAT.match(text) else text
    if timestamps and text[0] in "0123456789":
        ts = go_timestamp(text)
        if ts is not None:
            return ts
    plain = text.replace("_", "") if "_" in text else text
    value = go_parse_int(plain)
    if value is not None:
        return value
    if _YAML_FLOAT.match(plain):
        f = _finite_float(plain)
        if f is not None:
            return f
    return text


def _v3_resolve_tagged(tag: str, text: str) -> Any:
    """An explicitly tagged scalar (``!!int "5"``), or raise ValueError as go-yaml does."""
    if tag == _STR_TAG:
        return text
    if text in _V3_SPECIAL:
        value: Any = _V3_SPECIAL[text]
    elif text and text[0] in "+-.0123456789":
        value = resolve_number(text, timestamps=tag == "tag:yaml.org,2002:timestamp")
    else:
        value = text
    short = "!!" + tag.rsplit(":", 1)[-1]
    if short == "!!null" and value is None:
        return None
    if short == "!!bool" and isinstance(value, bool):
        return value
    if short == "!!int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if short == "!!float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if short == "!!timestamp" and isinstance(value, str) and value != text:
        return value
    raise ValueError(f"cannot decode `{text}` as a {short}")


class _Loader(yaml.CSafeLoader):
    """libyaml parsing with go-yaml v3 scalar resolution and stricter mappings."""

    yaml_constructors: ClassVar[dict[Any, Callable[..., Any]]] = dict(yaml.CSafeLoader.yaml_constructors)

    def construct_str(self, node: ScalarNode) -> Any:
        return node.value

    def construct_number(self, node: ScalarNode) -> Any:
        value = node.value
        special = _V3_SPECIAL.get(value, _MISSING)
        if special is not _MISSING:
            return special
        return resolve_number(value, timestamps=True)

    def construct_tagged(self, node: ScalarNode) -> Any:
        try:
            return _v3_resolve_tagged(node.tag, node.value)
        except ValueError as exc:
            raise _node_error(str(exc), node) from None

    def construct_unknown_tag(self, tag_suffix: str, node: Node) -> Any:
        # go-yaml keeps values with an application tag (!foo) as plain data.
        if isinstance(node, ScalarNode):
            return node.value
        if isinstance(node, SequenceNode):
            return self.construct_sequence(node, deep=True)
        return self.construct_mapping(node, deep=True)  # type: ignore[arg-type]

    def construct_binary(self, node: ScalarNode) -> Any:
        try:
            return base64.b64decode("".join(node.value.split()), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _node_error("!!binary value is not base64 of UTF-8 text", node) from None

    def flatten_mapping(self, node: MappingNode) -> None:
        """Expand NODE's ``<<`` keys in place, with kyaml's precedence (not PyYAML's).

        The mapping's own keys win over merged ones; of the mappings merged
        through one ``<<: [a, b]`` list, the earlier wins; a later ``<<`` wins
        over an earlier one. Merged pairs go first so that building the dict
        in order lets the winner overwrite. PyYAML's own ``flatten_mapping``
        is never called: its order changed between releases.
        """
        flattened: set[int] = self.__dict__.setdefault("_flattened", set())
        if id(node) in flattened:
            return
        # A merge rewrites NODE's key list (possibly before NODE itself is
        # constructed): check its own keys first, and only once.
        _check_unique(node)
        flattened.add(id(node))
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, MappingNode):
                    raise _node_error("expected a mapping or a list of mappings to merge (<<)", source)
                self.flatten_mapping(source)
                merged.extend(source.value)
        if merged:
            node.value = merged + own

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        flattened = self.__dict__.get("_flattened")
        if not flattened or id(node) not in flattened:
            if any(key_node.tag == _MERGE_TAG for key_node, _ in node.value):
                self.flatten_mapping(node)
            else:
                _check_unique(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if type(key) in (dict, list):
                raise _node_error("a mapping key must be a scalar", key_node)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_MISSING = object()
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _check_unique(node: MappingNode) -> None:
    """go-yaml v3's duplicate check: the same raw key text twice in one mapping."""
    pairs = node.value
    if len({k.value for k, _ in pairs if k.__class__ is ScalarNode}) == len(pairs):
        return
    seen: dict[str, int] = {}
    for key_node, _ in pairs:
        if isinstance(key_node, ScalarNode):
            first = seen.get(key_node.value)
            if first is not None:
                raise _node_error(f'mapping key "{key_node.value}" already defined at line {first}', key_node)
            seen[key_node.value] = key_node.start_mark.line + 1


def _node_error(message: str, node: Node) -> yaml.MarkedYAMLError:
    return yaml.constructor.ConstructorError(None, None, message, node.start_mark)


# Our own resolver table (YAML 1.2 core-ish, as go-yaml v3), not PyYAML's YAML 1.1 one.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"<<\Z"), ["<"])
_Loader.add_implicit_resolver(_NUM_TAG, re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF"))
_Loader.add_implicit_resolver(_NUM_TAG, re.compile(r"(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_NUM_TAG, re.compile(r"."), list("+-.0123456789"))
_Loader.add_constructor(_NUM_TAG, _Loader.construct_number)
for _tag in ("null", "bool", "int", "float", "timestamp", "str"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader.construct_tagged)
_Loader.add_constructor("tag:yaml.org,2002:binary", _Loader.construct_binary)
_Loader.add_multi_constructor("", _Loader.construct_unknown_tag)
# Plain strings are the common case: skip the tagged-scalar checks for them.
_Loader.add_constructor(_STR_TAG, _Loader.construct_str)


def _as_text(data: bytes | str, path: str) -> bytes | str:
    size = len(data)
    if size > MAX_INPUT_BYTES:
        raise GitopsGenError(f"YAML file is too large ({size} bytes, the limit is {MAX_INPUT_BYTES})", path)
    return data


def _yaml_error(exc: Exception, data: bytes | str, path: str) -> GitopsGenError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line: int | None = None
    col: int | None = None
    if isinstance(exc, yaml.reader.ReaderError):
        problem = f"{exc.reason} (character {exc.character!r})"
        line, col = _line_col_at(data, exc.position)
        context = None
    else:
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return GitopsGenError(" ".join(message.split()), path, line, col)


def _line_col_at(data: bytes | str, offset: int) -> tuple[int, int]:
    """1-based line/col of a reader offset (bytes for bytes input, characters otherwise)."""
    head = data[:offset]
    newline: Any = b"\n" if isinstance(head, bytes) else "\n"
    start = head.rfind(newline) + 1
    tail = head[start:]
    width = len(tail.decode("utf-8", "replace")) if isinstance(tail, bytes) else len(tail)
    return head.count(newline) + 1, width + 1


def _check_aliases(root: Node, path: str) -> bool:
    """Reject alias bombs and self-containing anchors; True if any node is shared."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    unique = 0
    shared = False

    def size(node: Node) -> int:
        nonlocal unique, shared
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            shared = True
            return known
        if key in active:
            raise GitopsGenError(
                "invalid YAML: an anchor's value contains an alias to itself",
                path,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        unique += 1
        total = 1
        if isinstance(node, (MappingNode, SequenceNode)):
            active.add(key)
            for child in node.value:
                if isinstance(child, tuple):
                    total += size(child[0]) + size(child[1])
                else:
                    total += size(child)
                if total > MAX_EXPANDED_NODES and total > ALIAS_RATIO * unique:
                    raise GitopsGenError(
                        "invalid YAML: excessive aliasing (alias expansion too large)",
                        path,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                    )
            active.discard(key)
        sizes[key] = total
        return total

    size(root)
    return shared


def _unshare(value: Any) -> Any:
    """Independent copies where aliases made the loader share one object."""
    if type(value) is dict:
        return {k: _unshare(v) for k, v in value.items()}
    if type(value) is list:
        return [_unshare(v) for v in value]
    return value


def _check_depth(root: Node, path: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, aliases followed (a chain of anchors nests
    without the parser seeing it). Heights are memoised per node, so alias bombs stay linear."""
    height: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in height or not isinstance(node, (MappingNode, SequenceNode)):
            continue
        children = [v for _, v in node.value] if isinstance(node, MappingNode) else list(node.value)
        if done:
            tallest = max((height.get(id(c), 0) for c in children), default=0) + 1
            if tallest > MAX_DEPTH:
                mark = node.start_mark
                raise GitopsGenError(
                    f"invalid YAML: nested deeper than {MAX_DEPTH} levels",
                    path,
                    mark.line + 1,
                    mark.column + 1,
                )
            height[id(node)] = tallest
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in height)


def _load_nodes(data: bytes | str, path: str, on_node: Callable[[Node, Any], None] | None) -> list[Any]:
    text = _as_text(data, path)
    may_alias = (b"*" in text) if isinstance(text, bytes) else ("*" in text)
    loader = _Loader(text)
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            shared = _check_aliases(node, path) if may_alias else False  # refuses cycles first
            _check_depth(node, path)
            loader.__dict__["_flattened"] = set()
            value = loader.construct_document(node)
            if value is None:
                continue  # kustomize skips empty and null documents
            if shared:
                value = _unshare(value)
            if on_node is not None:
                on_node(node, value)
            docs.append(value)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, path) from None
    except RecursionError:
        raise GitopsGenError("invalid YAML: nesting too deep", path) from None
    finally:
        loader.dispose()
    return docs


def load_documents(data: bytes | str, path: str) -> list[Any]:
    """All non-empty YAML documents of a file, scalars resolved as kustomize resolves them."""
    return _load_nodes(data, path, None)


def _key_of(node: Node) -> Any:
    if not isinstance(node, ScalarNode):
        return None
    if node.tag == _NUM_TAG:
        special = _V3_SPECIAL.get(node.value, _MISSING)
        return special if special is not _MISSING else resolve_number(node.value, timestamps=True)
    if node.tag == _STR_TAG:
        return node.value
    try:
        return _v3_resolve_tagged(node.tag, node.value)
    except ValueError:
        return node.value


def _record_lines(node: Node, lines: LineMap) -> None:
    """Positions of every node, keyed like the constructed data (merges already flattened)."""
    mark = node.start_mark
    lines[()] = (mark.line + 1, mark.column + 1)
    stack: list[tuple[Node, tuple[Any, ...]]] = [(node, ())]
    while stack:
        current, prefix = stack.pop()
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                sub = (*prefix, _key_of(key_node))
                km = key_node.start_mark
                lines[sub] = (km.line + 1, km.column + 1)
                stack.append((value_node, sub))
        elif isinstance(current, SequenceNode):
            for index, item in enumerate(current.value):
                sub = (*prefix, index)
                im = item.start_mark
                lines[sub] = (im.line + 1, im.column + 1)
                stack.append((item, sub))


def load_with_lines(data: bytes | str, path: str) -> tuple[list[Any], list[LineMap]]:
    """``load_documents`` plus, per document, node path -> 1-based (line, col).

    A value under a mapping key maps to the position of its key; a list item to
    the item itself; the empty path to the document's first node.
    """
    maps: list[LineMap] = []

    def record(node: Node, _value: Any) -> None:
        lines: LineMap = {}
        _record_lines(node, lines)
        maps.append(lines)

    docs = _load_nodes(data, path, record)
    return docs, maps


_NULL_WORDS = ("", "~", "null", "Null", "NULL")


def null_scalars(data: bytes | str, path: str) -> list[list[tuple[tuple[Any, ...], str]]]:
    """Per non-empty document, (path, text) of every mapping value that is null, as written.

    The loaded documents cannot tell `key:` from `key: null` or `key: ~`, but kustomize can:
    a strategic-merge patch drops the fields written as nothing from the object it patches,
    and annotations keep the null's text as their string value.
    """
    text = _as_text(data, path)
    loader = _Loader(text)
    out: list[list[tuple[tuple[Any, ...], str]]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, ScalarNode) and loader.construct_document(node) is None):
                continue  # skipped by load_documents too
            found: list[tuple[tuple[Any, ...], str]] = []
            _collect_bare(node, (), found)
            out.append(found)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, path) from None
    finally:
        loader.dispose()
    return out


def _collect_bare(node: Node, at: tuple[Any, ...], found: list[tuple[tuple[Any, ...], str]]) -> None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                continue
            here = (*at, key.value)
            if isinstance(value, ScalarNode):
                if value.value in _NULL_WORDS and not value.style and value.tag != "tag:yaml.org,2002:str":
                    found.append((here, value.value))
            else:
                _collect_bare(value, here, found)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _collect_bare(item, (*at, i), found)
