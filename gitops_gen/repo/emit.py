"""Printing objects exactly as ``kustomize build`` prints them.

kustomize marshals each resource to JSON and converts that with
``sigs.k8s.io/yaml`` (a go-yaml v2 emitter, libyaml's algorithm, width 80,
indent 2, unicode on). The JSON step decides the scalar values (floats,
large integers, string-only keys), the v2 emitter decides the layout:

- map keys sorted by go-yaml v2's "natural" order (digit runs compared as
  numbers, letters after other characters); block style everywhere; a list
  under a key is not indented (``key:\\n- item``); ``{}`` and ``[]`` when empty;
- a string is plain unless go-yaml v2 would read it back as something else
  (YAML 1.1: ``yes``/``on``/``y``, numbers, ``12:30``, dates, ``null``, ``""``)
  -> double-quoted, or it starts with an indicator, has ``: ``/`` #``, or
  leading/trailing space -> single-quoted; non-printable characters (tabs,
  controls, anything outside the BMP such as emoji) -> double-quoted escapes;
- strings with a newline use a literal block (``|``, ``|-``, ``|+``, with an
  indentation hint ``|2`` when the text starts with a space or newline),
  double-quoted if a line has trailing spaces or the text has special chars;
- plain, single- and double-quoted values fold at a space once past column 80;
- keys longer than 128 bytes or with line breaks use the ``? key`` form;
- numbers: integral floats print as integers when Go's JSON text of them
  (shortest digits padded with zeros) fits int64/uint64 (``1.0`` -> ``1``,
  ``1e10`` -> ``10000000000``); other floats print like Go's ``%g`` with
  shortest digits (``1.2345675e+06``, ``1e-05``, ``0.0001``, ``1e+21``);
  integers beyond int64/uint64 print as such floats; inf/NaN, non-string map
  keys and characters Go's JSON leaves raw but go-yaml rejects (DEL, C1
  controls) are errors in kustomize and raise ``GitopsGenError`` here;
- U+0085 (NEL) inside a string is folded by that JSON step (see ``json_roundtrip``).

Not reproducible: keys whose digit runs make go-yaml v2's order non-transitive
(``a1b``, ``a10``, ``a2`` together); kustomize then prints them in an order
that varies between runs (Go map iteration is random), we print one fixed order.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Iterable
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.repo.yamlio import go_timestamp, resolve_number

_WIDTH = 80
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
_BREAKS = frozenset("\n\r\x85\u2028\u2029")
# go-yaml v2 (YAML 1.1) special plain scalars: printing these plain would change their type.
# ("<<" is in go-yaml's table too, but its lookup is skipped for a leading "<".)
_V2_SPECIAL = frozenset((
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
    "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL",
    ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
))  # fmt: skip
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
# Characters Go's JSON encoder leaves raw that go-yaml v2's reader then rejects:
# kustomize fails on them, so do we.
_UNREADABLE = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")

_PLAIN, _SINGLE, _DOUBLE, _LITERAL = 0, 1, 2, 3


def _printable(ch: str) -> bool:
    c = ord(ch)
    return c == 0x0A or 0x20 <= c <= 0x7E or 0xA0 <= c <= 0xD7FF or (0xE000 <= c <= 0xFFFD and c != 0xFEFF)


def _v2_needs_quotes(s: str) -> bool:
    """Whether go-yaml v2 would read S, written plain, as something other than a string."""
    if s == "" or s in _V2_SPECIAL:
        return True
    first = s[0]
    if first in "+-.0123456789":
        if first in "0123456789" and go_timestamp(s) is not None:
            return True
        if not isinstance(resolve_number(s, timestamps=False), str):
            return True
        return first != "." and ":" in s and _BASE60.match(s) is not None
    return False


_NON_PRINTABLE = re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")
_ANY_BREAK = re.compile("[\n\r\x85\u2028\u2029]")
_BREAK_SPACE = re.compile("[\n\r\x85\u2028\u2029] ")
_SPACE_BREAK = re.compile(" [\n\r\x85\u2028\u2029]")
# Indicators inside the text that forbid the plain style in block context.
_INNER_INDICATOR = re.compile("(?<=.):(?:[ \t]|\\Z)|(?<=[ \t\x00\n\r\x85\u2028\u2029])#", re.DOTALL)


@functools.lru_cache(maxsize=1 << 16)
def _style(s: str) -> tuple[int, bool]:
    """(style, multiline) go-yaml v2 picks for string S in block context.

    Same decisions as libyaml's scalar analysis, computed with regexes.
    """
    if _UNREADABLE.search(s):
        raise GitopsGenError(f"cannot print string {s!r}: kustomize's YAML conversion rejects its characters")
    if s == "":
        return _DOUBLE, False  # go-yaml v2 reads an empty plain scalar as null
    first, last = s[0], s[-1]
    line_breaks = _ANY_BREAK.search(s) is not None
    special = _NON_PRINTABLE.search(s) is not None
    space_break = line_breaks and _SPACE_BREAK.search(s) is not None
    break_space = line_breaks and _BREAK_SPACE.search(s) is not None
    trailing_space = last == " "
    after_first = s[1] if len(s) > 1 else ""
    block_indicator = (
        first in "#,[]{}&*!|>'\"%@`"
        or (first in "?:-" and (after_first == "" or after_first in " \t"))
        or s.startswith(("---", "..."))
        or _INNER_INDICATOR.search(s) is not None
    )
    plain_ok = not (
        first == " "
        or trailing_space
        or first in _BREAKS
        or last in _BREAKS
        or break_space
        or space_break
        or special
        or line_breaks
        or block_indicator
    )
    single_ok = not (break_space or space_break or special)
    block_ok = not (trailing_space or space_break or special)
    if "\n" in s:
        style = _LITERAL if block_ok else _DOUBLE
    elif _v2_needs_quotes(s):
        style = _DOUBLE
    elif plain_ok:
        style = _PLAIN
    elif single_ok:
        style = _SINGLE
    else:
        style = _DOUBLE
    return style, line_breaks


def _escape(ch: str) -> str:
    c = ord(ch)
    short = _SHORT_ESCAPES.get(c)
    if short is not None:
        return short
    if c <= 0xFF:
        return f"\\x{c:02X}"
    if c <= 0xFFFF:
        return f"\\u{c:04X}"
    return f"\\U{c:08X}"


_SHORT_ESCAPES = {
    0x00: "\\0", 0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f",
    0x0D: "\\r", 0x1B: "\\e", 0x22: '\\"', 0x5C: "\\\\", 0x85: "\\N", 0xA0: "\\_",
    0x2028: "\\L", 0x2029: "\\P",
}  # fmt: skip


def _needs_escape(s: str) -> list[bool]:
    bom = s.startswith("\ufeff")  # libyaml tests the BOM at the start of the value, for every character
    return [bom or not _printable(ch) or ch in _BREAKS or ch == '"' or ch == "\\" for ch in s]


@functools.lru_cache(maxsize=1 << 16)
def _flat(s: str, style: int) -> str:
    """Plain/quoted text on one line (what is printed when nothing folds)."""
    if style == _PLAIN:
        return s
    if style == _SINGLE:
        return "'" + s.replace("'", "''") + "'"
    esc = _needs_escape(s)
    return '"' + "".join(_escape(ch) if e else ch for ch, e in zip(s, esc, strict=True)) + '"'


@functools.lru_cache(maxsize=1 << 14)
def _folded(s: str, style: int, col: int, indent: int) -> tuple[str, int]:
    """Plain or quoted S starting at column COL, folded past the width like libyaml."""
    out: list[str] = []
    column = col
    n = len(s)
    spaces = breaks = False
    pad = " " * indent

    def newline_indent() -> None:
        nonlocal column
        if column > indent or column == indent:
            out.append("\n")
        out.append(pad)
        column = indent

    if style == _DOUBLE:
        esc = _needs_escape(s)
        out.append('"')
        column += 1
        for i, ch in enumerate(s):
            if esc[i]:
                e = _escape(ch)
                out.append(e)
                column += len(e)
                spaces = False
            elif ch == " ":
                if not spaces and column > _WIDTH and 0 < i < n - 1:
                    out.append("\n" + pad)
                    column = indent
                    if s[i + 1] == " ":
                        out.append("\\")
                        column += 1
                else:
                    out.append(ch)
                    column += 1
                spaces = True
            else:
                out.append(ch)
                column += 1
                spaces = False
        out.append('"')
        return "".join(out), column + 1

    quote = style == _SINGLE
    if quote:
        out.append("'")
        column += 1
    for i, ch in enumerate(s):
        if ch == " ":
            nxt_space = i + 1 < n and s[i + 1] == " "
            if not spaces and column > _WIDTH and not nxt_space and (not quote or 0 < i < n - 1):
                out.append("\n" + pad)
                column = indent
            else:
                out.append(ch)
                column += 1
            spaces = True
        elif ch in _BREAKS:
            if not breaks and ch == "\n":
                out.append("\n")
            out.append(ch)
            column = 0
            breaks = True
        else:
            if breaks:
                newline_indent()
            if quote and ch == "'":
                out.append("'")
                column += 1
            out.append(ch)
            column += 1
            spaces = breaks = False
    if quote:
        out.append("'")
        column += 1
    return "".join(out), column


@functools.lru_cache(maxsize=1 << 14)
def _literal(s: str, indent: int) -> str:
    """A literal block scalar: header with hints, then the lines at INDENT."""
    head = "|"
    if s[0] == " " or s[0] in _BREAKS:
        head += "2"
    last = s[-1]
    if last not in _BREAKS:
        head += "-"
    elif len(s) == 1 or s[-2] in _BREAKS:
        head += "+"
    out = [head, "\n"]
    pad = " " * indent
    breaks = True
    column = 0
    for ch in s:
        if ch in _BREAKS:
            out.append(ch)
            column = 0
            breaks = True
        else:
            if breaks:
                if column > indent:
                    out.append("\n")
                out.append(pad)
                column = indent
            out.append(ch)
            column += 1
            breaks = False
    return "".join(out)


_NEL_RUN = re.compile(" *\x85[ \x85]*")


def _nel_fold(run: re.Match[str]) -> str:
    count = run.group().count("\x85")
    return " " if count == 1 else "\n" * (count - 1)


def json_roundtrip(s: str) -> str:
    """S after kustomize's JSON -> YAML step.

    Go's JSON encoder leaves U+0085 (NEL) raw and go-yaml v2 reads it as a line
    break inside the double-quoted JSON string, so it folds: one NEL (with the
    spaces around it) becomes a space, N of them N-1 newlines.
    """
    return _NEL_RUN.sub(_nel_fold, s) if "\x85" in s else s


def _string(s: str, col: int, indent: int) -> str:
    """S as a block value whose first character lands on column COL."""
    if "\x85" in s:
        s = json_roundtrip(s)
    style, multiline = _style(s)
    if style == _LITERAL:
        return _literal(s, indent)
    text = _flat(s, style)
    if not multiline and (col + len(text) <= _WIDTH + 1 or " " not in s):
        return text
    return _folded(s, style, col, indent)[0]


def go_float(f: float) -> str:
    """Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form below 1e-4 and from 1e6."""
    if f == 0:
        return "0"
    mantissa, _, exp_text = repr(abs(f)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    point = len(int_part) + int(exp_text or "0")  # decimal point position within DIGITS
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    exp = point - 1
    sign = "-" if f < 0 else ""
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def go_float_fixed(f: float) -> str:
    """Go's strconv.FormatFloat(f, 'f', -1, 64) for an integral F: shortest digits, then zeros."""
    mantissa, _, exp_text = repr(abs(f)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).rstrip("0") or "0"
    point = len(int_part) + int(exp_text or "0")
    return ("-" if f < 0 else "") + digits + "0" * (point - len(digits))


def _number(v: int | float) -> str:
    """A number as kustomize prints it after its JSON round trip."""
    if type(v) is int:
        if _INT64_MIN <= v <= _UINT64_MAX:
            return str(v)
        try:
            v = float(v)
        except OverflowError:
            raise GitopsGenError(f"cannot print integer {v}: out of range for kustomize") from None
    f = float(v)
    if math.isinf(f) or math.isnan(f):
        raise GitopsGenError(f"cannot print {f}: kustomize's JSON conversion rejects infinity and NaN")
    if f.is_integer() and abs(f) < 1e21:
        # Go's JSON writes shortest digits padded with zeros ("-9223372036854776000"),
        # which go-yaml v2 reads back as an integer only if it fits int64/uint64.
        text = go_float_fixed(f)
        if _INT64_MIN <= int(text) <= _UINT64_MAX:
            return str(int(text))
    return go_float(f)


def _scalar(v: Any, col: int, indent: int) -> str:
    t = type(v)
    if t is str:
        return _string(v, col, indent)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is int or t is float:
        return _number(v)
    raise TypeError(f"cannot print a {t.__name__}")


def _go_key_less(a: str, b: str) -> bool:
    """go-yaml v2's map key order for two strings (its keyList.Less)."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        la, lb = ca.isalpha(), cb.isalpha()
        if la and lb:
            return ca < cb
        if la or lb:
            return lb
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = _wrap64(an * 10 + ord(a[ai]) - 48)
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = _wrap64(bn * 10 + ord(b[bi]) - 48)
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


def _wrap64(n: int) -> int:
    n &= 0xFFFFFFFFFFFFFFFF
    return n - (1 << 64) if n >= 1 << 63 else n


def _go_key_cmp(a: str, b: str) -> int:
    if _go_key_less(a, b):
        return -1
    return 1 if _go_key_less(b, a) else 0


_KEY_ORDER = functools.cmp_to_key(_go_key_cmp)
_SIMPLE_KEY = re.compile(r"[A-Za-z]*\Z")


@functools.lru_cache(maxsize=1 << 14)
def _sorted_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    for k in keys:
        if type(k) is not str:
            raise GitopsGenError(
                f"cannot print map key {k!r}: kustomize's JSON conversion only accepts string keys"
            )
        if "\x85" in k:
            raise GitopsGenError(f"cannot print map key {k!r}: U+0085 in a key is not supported")
    # For keys made only of ASCII letters Go's order is plain string order.
    if all(_SIMPLE_KEY.match(k) for k in keys):
        return tuple(sorted(keys))
    return tuple(sorted(keys, key=_KEY_ORDER))


@functools.lru_cache(maxsize=1 << 14)
def _key(k: str) -> str | None:
    """A simple key's text (``key:``), or None when it needs the ``? key`` form."""
    style, multiline = _style(k)
    if multiline or len(k.encode("utf-8")) > 128:
        return None
    return _flat(k, style) + ":"


def _emit_map(d: dict[Any, Any], indent: int, out: list[str], inline: bool) -> None:
    """A non-empty block mapping at INDENT; INLINE: its first key continues the current line."""
    pad = "\n" + " " * indent
    keys = _sorted_keys(tuple(d))
    first = True
    for k in keys:
        if first and inline:
            first = False
        else:
            _newline(out, pad)
            first = False
        v = d[k]
        text = _key(k)
        if text is None:
            _emit_complex_entry(k, v, indent, out)
            continue
        out.append(text)
        t = type(v)
        if t is dict:
            if v:
                _emit_map(v, indent + 2, out, False)
            else:
                out.append(" {}")
        elif t is list:
            if v:
                _emit_seq(v, indent, out, False)
            else:
                out.append(" []")
        elif t is str:
            out.append(" ")
            out.append(_string(v, indent + len(text) + 1, indent + 2))
        else:
            out.append(" ")
            out.append(_scalar(v, indent + len(text) + 1, indent + 2))


def _emit_complex_entry(k: str, v: Any, indent: int, out: list[str]) -> None:
    out.append("? ")
    out.append(_string(k, indent + 2, indent + 2))
    _newline(out, "\n" + " " * indent)
    out.append(":")
    _emit_value_inline(v, indent + 2, out)


def _emit_value_inline(v: Any, indent: int, out: list[str]) -> None:
    """A value written after ``- `` or ``: `` whose nested blocks sit at INDENT."""
    t = type(v)
    if t is dict:
        if v:
            out.append(" ")
            _emit_map(v, indent, out, True)
        else:
            out.append(" {}")
    elif t is list:
        if v:
            out.append(" ")
            _emit_seq(v, indent, out, True)
        else:
            out.append(" []")
    else:
        out.append(" ")
        out.append(_scalar(v, indent, indent))


def _emit_seq(items: list[Any], indent: int, out: list[str], inline: bool) -> None:
    pad = "\n" + " " * indent
    first = True
    for item in items:
        if first and inline:
            first = False
        else:
            _newline(out, pad)
            first = False
        out.append("-")
        _emit_value_inline(item, indent + 2, out)


def _newline(out: list[str], pad: str) -> None:
    # After a literal block ending in a line break the emitter is already at
    # column 0 and only indents.
    if out and out[-1] and out[-1][-1] in _BREAKS:
        out.append(pad[1:])
    else:
        out.append(pad)


def dump(obj: Any) -> str:
    """One document exactly as kustomize prints it (ends with a newline)."""
    out: list[str] = []
    t = type(obj)
    if t is dict and obj:
        try:
            _emit_map(obj, 0, out, True)
        except RecursionError:
            raise GitopsGenError("object is nested too deeply to print") from None
    elif t is list and obj:
        try:
            _emit_seq(obj, 0, out, True)
        except RecursionError:
            raise GitopsGenError("object is nested too deeply to print") from None
    elif t is dict:
        out.append("{}")
    elif t is list:
        out.append("[]")
    else:
        out.append(_scalar(obj, 0, 2))
    if not (out[-1] and out[-1][-1] in _BREAKS):
        out.append("\n")
    return "".join(out)


def check_printable(obj: Any) -> None:
    """Raise the ``GitopsGenError`` ``dump`` would raise for OBJ's scalars and keys, without printing it:
    what kustomize refuses to print must not pass a check that does not print (validate, commit)."""
    stack = [obj]
    while stack:
        value = stack.pop()
        t = type(value)
        if t is dict:
            _sorted_keys(tuple(value))
            stack.extend(value.values())
        elif t is list:
            stack.extend(value)
        elif t is str:
            _style(value)
        elif t is int or t is float:
            _number(value)


def join_documents(texts: Iterable[str]) -> str:
    """Documents already printed by ``dump``, joined as ``kustomize build`` joins them."""
    return "---\n".join(texts)


def dump_all(objs: Iterable[Any]) -> str:
    """The whole ``kustomize build`` output for OBJS (empty string for none)."""
    return join_documents(dump(o) for o in objs)


def encode_base64_lines(raw: bytes) -> str:
    """A generated Secret ``data`` / ConfigMap ``binaryData`` value, as kustomize writes it.

    kustomize's generators (kyaml ``encodeBase64``) base64-encode the bytes and,
    once the encoding is 70 characters or longer, cut it into 70-character
    lines each ending with a newline (printed as a ``|`` block); shorter values
    stay one line without newline. Values in input files are never re-wrapped.
    """
    encoded = base64.b64encode(raw).decode("ascii")
    if len(encoded) < 70:
        return encoded
    return "".join(encoded[i : i + 70] + "\n" for i in range(0, len(encoded), 70))
