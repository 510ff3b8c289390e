"""Comment-keeping YAML editing, whatever the edit: ruamel.yaml's round trip, then only the lines
the edit changed are replayed onto the original text (``carry_over``), and the result is re-read
and must mean what ruamel meant. Comments, key order, quoting, flow style and the file's sequence
indentation stay as people wrote them.
"""

from __future__ import annotations

import difflib
import io
import itertools
import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from gitops_gen.errors import GitopsGenError

_KEY_LINE = re.compile(r"^(\s*)((?:-\s+)*)([^\s#-][^#]*?):\s*(?:#.*)?$")


def detect_indent(text: str, default_offset: int = 0) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel.yaml wants them, from the file's own block nesting.

    The most common step wins, so one odd line does not restyle the file; a file
    without block sequences gets DEFAULT_OFFSET for the dash (0 is kustomize's style).
    """
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping: Counter[int] = Counter()
    offset: Counter[int] = Counter()
    for prev, line in itertools.pairwise(lines):
        found = _KEY_LINE.match(prev)
        if not found:
            continue
        key_col = len(found.group(1)) + len(found.group(2))
        col = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("- ") or line.strip() == "-":
            if col >= key_col:
                offset[col - key_col] += 1
        elif col > key_col:
            mapping[col - key_col] += 1
    map_indent = mapping.most_common(1)[0][0] if mapping else 2
    dash = offset.most_common(1)[0][0] if offset else default_offset
    return map_indent, dash + 2, dash


def _yaml(indent: tuple[int, int, int]) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never fold a long line someone wrote on one line
    rt.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return rt


def load_rt(text: str, path: str) -> Any:
    """The round-trip document of TEXT; a one-line error naming PATH and the line if it is not YAML."""
    try:
        docs = list(_yaml((2, 2, 0)).load_all(text))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise GitopsGenError(f"invalid YAML: {err.problem or err.context}", path, line, col) from None
    except YAMLError as err:
        raise GitopsGenError(f"invalid YAML: {err}", path) from None
    if len(docs) != 1 or not isinstance(docs[0], CommentedMap):
        raise GitopsGenError("expected one YAML document holding a mapping", path)
    return docs[0]


def dump_rt(doc: Any, indent: tuple[int, int, int]) -> str:
    out = io.StringIO()
    _yaml(indent).dump(doc, out)
    return out.getvalue()


def carry_over(original: str, before: str, after: str) -> str:
    """AFTER's changes to BEFORE, replayed on ORIGINAL (BEFORE is ruamel's unedited dump of ORIGINAL).

    ruamel may restyle lines nobody edits (a second indentation style in one
    file, odd spacing); those keep their original bytes. A changed line must map
    onto an original line unambiguously, else ruamel's whole dump is used. An
    edited line keeps its end-of-line comment where it was (see ``realign``).
    """
    orig, old, new = (s.splitlines(keepends=True) for s in (original, before, after))
    bound: dict[int, int] = {}  # line boundary in OLD -> the same boundary in ORIG
    same: set[int] = set()  # OLD lines identical in ORIG
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, orig, autojunk=False).get_opcodes():
        bound.setdefault(i1, j1)
        bound[i2] = j2
        if tag == "equal":
            for k in range(i2 - i1):
                bound[i1 + k] = j1 + k
                same.add(i1 + k)
    starts = Counter(_comment_start(line) for line in orig)
    aligned = {col for col, count in starts.items() if col is not None and count > 1}
    out: list[str] = orig[: bound.get(0, 0)]  # e.g. a `---` ruamel does not write back
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if i1 not in bound or i2 not in bound:
            return after
        if tag == "equal":
            out.extend(orig[bound[i1] : bound[i2]])
        elif all(k in same for k in range(i1, i2)):
            out.extend(_realign_hunk(old[i1:i2], new[j1:j2], aligned))
        else:
            return after
    merged = "".join(out)
    if merged == after:
        return after
    try:
        return merged if _reread(merged, "") == _reread(after, "") else after
    except GitopsGenError:
        return after


def _comment_start(line: str) -> int | None:
    """Index of the '#' starting LINE's end-of-line comment, outside quotes; None without one."""
    quote = None
    for i, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"" and (i == 0 or line[i - 1] in " :[{,-"):
            quote = char
        elif char == "#" and i > 0 and line[i - 1] in " \t":
            return i if line[:i].strip() else None
    return None


def _realign_hunk(old: list[str], new: list[str], aligned: AbstractSet[int]) -> list[str]:
    """NEW lines (an edit of the OLD ones) with each end-of-line comment placed as on its OLD line."""
    unused = list(old)
    out = []
    for line in new:
        start = _comment_start(line)
        origin = next(
            (
                o
                for o in unused
                if start is not None and (c := _comment_start(o)) is not None and o[c:] == line[start:]
            ),
            None,
        )
        if origin is None:
            out.append(line)
            continue
        unused.remove(origin)
        out.append(realign(origin, line, aligned))
    return out


def realign(old: str, new: str, aligned: AbstractSet[int] = frozenset()) -> str:
    """NEW (an edit of the line OLD) with OLD's end-of-line comment: at the same column if that column
    is one ALIGNED comments share (and the text still fits), else as far after the text as before."""
    c_old, c_new = _comment_start(old), _comment_start(new)
    if c_old is None or c_new is None or old[c_old:] != new[c_new:]:
        return new
    text = new[:c_new].rstrip()
    gap = c_old - len(old[:c_old].rstrip())
    column = c_old if c_old in aligned and len(text) + 1 <= c_old else len(text) + gap
    return text + " " * (column - len(text)) + new[c_new:]


def rewrite(text: str, path: str, edit: Callable[[CommentedMap], None], default_offset: int = 0) -> str:
    """TEXT with EDIT applied to its round-trip document, everything else kept as written."""
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    indent = detect_indent(text, default_offset)
    before = dump_rt(load_rt(text, path), indent)
    doc = load_rt(text, path)
    edit(doc)
    after = dump_rt(doc, indent)
    result = carry_over(text, before, after)
    # ruamel must write what it holds; a surprise here would silently corrupt someone's file.
    if _reread(result, path) != _plain(doc):
        raise AssertionError(f"{path}: the edited YAML does not read back as written")
    return result.replace("\n", "\r\n") if crlf else result


def _reread(text: str, path: str) -> Any:
    return _plain(load_rt(text, path))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _reads_as_string(value: str) -> bool:
    """Whether VALUE written plain reads back as the same string, for YAML 1.1 and go-yaml alike."""
    if value != value.strip() or not value:
        return False
    try:
        loaded = yaml.load(f"k: {value}\n", Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return False
    if loaded != {"k": value}:
        return False
    # go-yaml v3 (kustomize) reads these as numbers where YAML 1.1 reads strings.
    return not re.match(
        r"[-+]?(0[xXoObB][0-9a-fA-F_]+|\.[0-9]|[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?\Z)", value
    )


def scalar(value: str, like: Any = None) -> Any:
    """VALUE for a YAML file: quoted like LIKE (the value it replaces) or, if it must be, double-quoted."""
    if isinstance(like, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    if isinstance(like, SingleQuotedScalarString):
        return SingleQuotedScalarString(value)
    return value if _reads_as_string(value) else DoubleQuotedScalarString(value)


def _flow_text(value: str) -> str:
    """VALUE as it appears in a flow mapping written by hand: plain if safe, else double-quoted."""
    plain = _reads_as_string(value) and not re.search(r"[,\[\]{}#&*!|>'\"%@`]", value)
    return value if plain else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_comment(token: CommentToken | None) -> tuple[str | None, str, int]:
    """(end-of-line comment, the comment lines after it, column) of a ruamel comment token."""
    if token is None:
        return None, "", 0
    value: str = token.value
    first, _, rest = value.partition("\n")
    return (first if first.strip() else None), rest, token.column


def _token(eol: str | None, rest: str, column: int) -> CommentToken | None:
    if eol is None and not rest:
        return None
    value = (eol or "") + "\n" + rest
    return CommentToken(value, CommentMark(column), None)


def _eol_column(old_column: int, old_end: int, new_end: int) -> int:
    """Keep an aligned comment where it was, unless the line grew past it: then keep its gap."""
    gap = max(old_column - old_end, 1)
    return old_column if new_end + 1 <= old_column else new_end + gap


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node) and not node.fa.flow_style()


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(container, key, slot index) of the comment after the last scalar written in NODE: where ruamel
    keeps the comment lines that follow a block (a file's closing comments among them)."""
    if isinstance(node, CommentedSeq) and node:
        last = len(node) - 1
        if _is_block(node[last]):
            return _last_slot(node[last])
        return node, last, 0
    if isinstance(node, CommentedMap) and node:
        key = list(node.keys())[-1]
        if _is_block(node[key]):
            return _last_slot(node[key])
        return node, key, 2
    return None


def take_trailing(node: Any) -> str:
    """Remove and return the comment lines after NODE's last line (its end-of-line comment stays)."""
    found = _last_slot(node)
    if found is None:
        return ""
    holder, key, index = found
    slot = holder.ca.items.get(key)
    if not slot or slot[index] is None:
        return ""
    eol, rest, column = _split_comment(slot[index])
    slot[index] = _token(eol, "", column)
    return rest


def give_trailing(node: Any, rest: str) -> None:
    """Put the comment lines REST after NODE's last line (after its end-of-line comment, if any)."""
    found = _last_slot(node) if rest else None
    if found is None:
        return
    holder, key, index = found
    slot = holder.ca.items.setdefault(key, [None, None, None, None])
    eol, old_rest, column = _split_comment(slot[index])
    slot[index] = _token(eol, old_rest + rest, column)


def append_keeping_trailing(
    container: CommentedSeq | CommentedMap, value: Any, key: str | None = None
) -> None:
    """Append VALUE (under KEY for a mapping) after CONTAINER's last item, and move the comment
    lines that followed that item (a closing comment of the file, say) to after VALUE."""
    rest = take_trailing(container)
    if isinstance(container, CommentedSeq):
        container.append(value)
    else:
        container[key] = value
    give_trailing(container, rest)
