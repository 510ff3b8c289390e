"""Flux's post-build parameter expansion (`${var}`, `${var:=default}`, `$${var}`, string functions).

Flux runs a fork of drone/envsubst over each object's YAML text. Its grammar is a small hand-written
scanner with modes; the odd corners (`${var-x}` is an error, `${var:+x}` behaves like `:-`, `${a#*}`
drops one character) come from that scanner, so this module mirrors its modes rather than bash.

Only `${...}` is expanded; `$var` is text. `$$` outside an expansion is one literal `$` and the
character after it is never the start of an expansion (so `$${x}` prints `${x}`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

# Scanner modes: which token kinds the next scan may return.
IDENT, LBRACK, RBRACK, ESCAPE = 1, 2, 4, 8
# Which characters the ESCAPE mode treats as escapes.
DOLLAR, BACKSLASH = 1, 2

EOF, TEXT, OPEN, CLOSE, ILLEGAL = "eof", "text", "open", "close", "illegal"

Accept = Callable[[str, int], bool]
Lookup = Callable[[str], "str | None"]


class EnvsubstError(Exception):
    """A template Flux refuses: the messages are Flux's own."""


BAD_SUBSTITUTION = "bad substitution"
MISSING_CLOSE = "missing closing brace"
BAD_NAME = "unable to parse variable name"
BAD_FUNC_ARG = "unable to parse substitution within function"
BAD_DEFAULT = "unable to parse default function"


@dataclass
class Text:
    value: str


@dataclass
class Func:
    param: str = ""
    op: str = ""
    args: list[Node] = field(default_factory=list)


Node = Text | Func


def is_ident_char(ch: str) -> bool:
    # Go's unicode.IsLetter / IsDigit: letter categories and decimal digits only.
    cat = unicodedata.category(ch)
    return cat[0] == "L" or cat == "Nd" or ch == "_"


def any_char(ch: str, i: int) -> bool:
    return True


def not_close(ch: str, i: int) -> bool:
    return ch != "}"


def not_colon_close(ch: str, i: int) -> bool:
    return ch not in ":}"


def not_slash(ch: str, i: int) -> bool:
    return ch != "/"


def ident(ch: str, i: int) -> bool:
    return is_ident_char(ch)


def colons(ch: str, i: int) -> bool:
    return ch == ":"


def slashes(ch: str, i: int) -> bool:
    return ch == "/"


def first_hash(ch: str, i: int) -> bool:
    return ch == "#" and i == 1


def first_colon(ch: str, i: int) -> bool:
    return ch == ":" and i == 1


def first_equal(ch: str, i: int) -> bool:
    return ch == "=" and i == 1


def up_to_two(op: str) -> Accept:
    return lambda ch, i: ch == op and i < 3


def casing(ch: str, i: int) -> bool:
    return ch in ",^" and i < 3


def default_op(ch: str, i: int) -> bool:
    return (i == 1 and ch == ":") or (i == 2 and ch in "=-?+")


def replace_op(ch: str, i: int) -> bool:
    return (i == 1 and ch == "/") or (i == 2 and ch in "/#%")


class Scanner:
    """A cursor over a buffer that escapes shorten in place (an escape char is cut out)."""

    def __init__(self, text: str) -> None:
        self.buf = text
        self.pos = 0
        self.start = 0
        self.width = 0
        self.mode = 0
        self.escapes = DOLLAR
        self.accept: Accept = any_char

    def read(self) -> str:
        if self.pos >= len(self.buf):
            self.width = 0
            return ""
        self.width = 1
        self.pos += 1
        return self.buf[self.pos - 1]

    def unread(self) -> None:
        self.pos -= self.width

    def peek(self) -> str:
        ch = self.read()
        self.unread()
        return ch

    def cut_previous(self) -> None:
        self.buf = self.buf[: self.pos - 1] + self.buf[self.pos :]

    def token(self) -> str:
        return self.buf[self.start : self.pos]

    def scan(self) -> str:
        self.start = self.pos
        ch = self.read()
        if ch == "":
            return EOF
        if self._open(ch):
            return OPEN
        if self.mode & RBRACK and ch == "}":
            return CLOSE
        if self._text(ch):
            return TEXT
        return ILLEGAL

    def _open(self, ch: str) -> bool:
        if not self.mode & LBRACK or ch != "$":
            return False
        if self.read() == "{":
            return True
        self.unread()
        return False

    def _escaped(self, ch: str) -> bool:
        if not self.mode & ESCAPE:
            return False
        if ch == "$" and self.escapes & DOLLAR and self.peek() == "$":
            return True
        return ch == "\\" and bool(self.escapes & BACKSLASH) and self.peek() in ("/", "\\")

    def _text(self, ch: str) -> bool:
        if not self.mode & IDENT:
            return False
        if self._escaped(ch):
            self.cut_previous()
        elif not self.accept(ch, self.pos - self.start):
            return False
        while True:
            ch = self.read()
            if ch == "":
                self.unread()
                return True
            if self._open(ch):
                self.unread()
                self.unread()
                return True
            if self._escaped(ch):
                self.cut_previous()
                continue
            if not self.accept(ch, self.pos - self.start):
                self.unread()
                return True


class Parser:
    def __init__(self, text: str) -> None:
        self.s = Scanner(text)

    def parse(self) -> list[Node]:
        nodes: list[Node] = []
        s = self.s
        while True:
            s.accept = any_char
            s.mode = IDENT | LBRACK | ESCAPE
            s.escapes = DOLLAR
            tok = s.scan()
            if tok == EOF:
                return nodes
            if tok == TEXT:
                nodes.append(Text(s.token()))
            elif tok == OPEN:
                nodes.append(self.func())
            else:
                raise EnvsubstError(BAD_SUBSTITUTION)

    def scan_op(self, accept: Accept, error: str = BAD_SUBSTITUTION) -> str:
        self.s.accept = accept
        self.s.mode = IDENT
        if self.s.scan() != TEXT:
            raise EnvsubstError(error)
        return self.s.token()

    def func(self) -> Func:
        s = self.s
        s.escapes = DOLLAR | BACKSLASH
        if s.peek() == "#":
            node = Func(op=self.scan_op(first_hash))
            node.param = self.scan_op(ident)
            return self.close(node)
        name = self.scan_op(ident, BAD_NAME)
        nxt = s.peek()
        if nxt == ":":
            s.read()
            after = s.peek()
            s.unread()
            return self.default(name) if after in ("=", "-", "?", "+") else self.substring(name)
        if nxt == "=":
            return self.default(name)
        if nxt in (",", "^"):
            return self.close(Func(name, self.scan_op(casing)))
        if nxt == "/":
            return self.replace(name)
        if nxt in ("#", "%"):
            node = Func(name, self.scan_op(up_to_two(nxt)))
            node.args.append(self.param(not_close, IDENT))
            return self.close(node)
        s.accept = ident
        s.mode = RBRACK
        if s.scan() != CLOSE:
            raise EnvsubstError(MISSING_CLOSE)
        return Func(name)

    def param(self, accept: Accept, mode: int) -> Node:
        s = self.s
        s.accept = accept
        s.mode = mode | LBRACK
        tok = s.scan()
        if tok == OPEN:
            return self.func()
        if tok in (TEXT, CLOSE):
            return Text(s.token())
        raise EnvsubstError(BAD_FUNC_ARG)

    def close(self, node: Func) -> Func:
        self.s.mode = RBRACK
        if self.s.scan() != CLOSE:
            raise EnvsubstError(BAD_SUBSTITUTION)
        return node

    def substring(self, name: str) -> Func:
        node = Func(name, self.scan_op(first_colon))
        node.args.append(self.param(not_colon_close, IDENT))
        s = self.s
        s.accept = colons
        s.mode = IDENT | RBRACK
        tok = s.scan()
        if tok == CLOSE:
            return node
        if tok != TEXT:
            raise EnvsubstError(BAD_SUBSTITUTION)
        node.args.append(self.param(not_close, IDENT))
        return self.close(node)

    def replace(self, name: str) -> Func:
        node = Func(name, self.scan_op(replace_op))
        node.args.append(self.param(not_slash, IDENT | ESCAPE))
        self.scan_op(slashes)
        if self.s.peek() == "}":
            return self.close(node)
        node.args.append(self.param(not_close, IDENT | ESCAPE))
        return self.close(node)

    def default(self, name: str) -> Func:
        accept = first_equal if self.s.peek() == "=" else default_op
        node = Func(name, self.scan_op(accept, BAD_DEFAULT))
        while self.s.peek() != "}":
            node.args.append(self.param(not_close, IDENT))
        return self.close(node)


def parse(text: str) -> list[Node]:
    return Parser(text).parse()


# Operators that supply their own value for an unset variable (never a strict-mode error).
DEFAULT_OPS = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})


class UnsetVariable(EnvsubstError):
    def __init__(self, name: str) -> None:
        super().__init__(f'variable not set (strict mode): "{name}"')
        self.name = name


def expand(text: str, lookup: Lookup, strict: bool = False, unset: set[str] | None = None) -> str:
    """TEXT with every `${...}` expanded. LOOKUP returns None for an unset variable. In STRICT
    mode that is an error unless the expression has a default operator; otherwise it reads as
    "" and its name is added to UNSET (where given)."""
    if "$" not in text:
        return text
    return "".join(evaluate(n, lookup, strict, unset) for n in parse(text))


def evaluate(node: Node, lookup: Lookup, strict: bool, unset: set[str] | None) -> str:
    if isinstance(node, Text):
        return node.value
    args = [evaluate(a, lookup, strict, unset) for a in node.args]
    value = lookup(node.param)
    if value is None:
        if node.op not in DEFAULT_OPS:
            if strict:
                raise UnsetVariable(node.param)
            if unset is not None:
                unset.add(node.param)
        value = ""
    return apply(node.op, value, args)


def apply(op: str, s: str, args: list[str]) -> str:
    if op == "#" and not args:
        return str(len(s.encode()))  # bytes, as Go's len
    fn = FUNCS.get(op)
    return fn(s, args) if fn else default(s, args)


def default(s: str, args: list[str]) -> str:
    # Every default operator, and any unknown one, means "the value, or the args if empty".
    return s if s or not args else "".join(args)


def lower_first(s: str, args: list[str]) -> str:
    return s[:1].lower() + s[1:]


def upper_first(s: str, args: list[str]) -> str:
    return s[:1].upper() + s[1:]


def go_atoi(text: str) -> int | None:
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text)


def substring(s: str, args: list[str]) -> str:
    data = s.encode()
    pos = go_atoi(args[0])
    if pos is None:
        return s
    if pos < 0:
        pos = max(0, len(data) + pos)
    if len(args) == 1:
        return data[pos:].decode(errors="replace")
    length = go_atoi(args[1])
    if length is None:
        return s
    if pos + length >= len(data):
        return data[pos:].decode(errors="replace")
    # A negative length slices backwards in Go and panics; Flux would crash, we give "".
    return data[pos : pos + length].decode(errors="replace") if length >= 0 else ""


def replace_first(s: str, args: list[str]) -> str:
    return s.replace(args[0], args[1] if len(args) > 1 else "", 1)


def replace_all(s: str, args: list[str]) -> str:
    return s.replace(args[0], args[1] if len(args) > 1 else "")


def replace_prefix(s: str, args: list[str]) -> str:
    if len(args) != 2 or not s.startswith(args[0]):
        return s
    return args[1] + s[len(args[0]) :]


def replace_suffix(s: str, args: list[str]) -> str:
    if len(args) != 2 or not s.endswith(args[0]):
        return s
    return s[: len(s) - len(args[0])] + args[1]


def trim_prefix(s: str, pattern: str, longest: bool) -> str:
    """Remove the longest (or shortest) non-empty prefix matching PATTERN; the empty prefix is
    never tried, so `*` removes one character."""
    found = None
    for end in range(len(s), 0, -1):
        try:
            matched = glob_match(pattern, s[:end])
        except BadPattern:
            return s
        if matched:
            if longest:
                return s[end:]
            found = end
    return s[found:] if found else s


def trim_shortest_prefix(s: str, args: list[str]) -> str:
    return trim_prefix(s, args[0], longest=False) if args else s


def trim_longest_prefix(s: str, args: list[str]) -> str:
    return trim_prefix(s, args[0], longest=True) if args else s


def trim_shortest_suffix(s: str, args: list[str]) -> str:
    return trim_prefix(s[::-1], args[0][::-1], longest=False)[::-1] if args else s


def trim_longest_suffix(s: str, args: list[str]) -> str:
    return trim_prefix(s[::-1], args[0][::-1], longest=True)[::-1] if args else s


FUNCS: dict[str, Callable[[str, list[str]], str]] = {
    ",": lower_first,
    ",,": lambda s, a: s.lower(),
    "^": upper_first,
    "^^": lambda s, a: s.upper(),
    "#": trim_shortest_prefix,
    "##": trim_longest_prefix,
    "%": trim_shortest_suffix,
    "%%": trim_longest_suffix,
    ":": substring,
    "/#": replace_prefix,
    "/%": replace_suffix,
    "/": replace_first,
    "//": replace_all,
}


class BadPattern(Exception):
    pass


def glob_match(pattern: str, name: str) -> bool:
    """Shell pattern match of all of NAME: `*`, `?`, `[a-z]`, `[^x]`, `\\c`. Unlike a path glob,
    `/` is an ordinary character. A malformed pattern raises BadPattern only when the match
    reaches the broken part."""
    while pattern:
        star, chunk, pattern = next_chunk(pattern)
        if star and not chunk:
            return True
        rest = match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            for i in range(len(name)):
                rest = match_chunk(chunk, name[i + 1 :])
                if rest is not None:
                    if not pattern and rest:
                        continue
                    name = rest
                    break
            else:
                return False
            continue
        return False
    return not name


def next_chunk(pattern: str) -> tuple[bool, str, str]:
    stripped = pattern.lstrip("*")
    star = len(stripped) != len(pattern)
    in_class = False
    i = 0
    while i < len(stripped):
        ch = stripped[i]
        if ch == "\\" and i + 1 < len(stripped):
            i += 1
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "*" and not in_class:
            break
        i += 1
    return star, stripped[:i], stripped[i:]


def match_chunk(chunk: str, s: str) -> str | None:
    """The rest of S after CHUNK (no stars) matched its beginning, or None."""
    while chunk:
        if not s:
            return None
        head = chunk[0]
        if head == "[":
            ch, s = s[0], s[1:]
            chunk, ok = match_class(chunk[1:], ch)
            if not ok:
                return None
        elif head == "?":
            s, chunk = s[1:], chunk[1:]
        else:
            if head == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern
            if chunk[0] != s[0]:
                return None
            s, chunk = s[1:], chunk[1:]
    return s


def match_class(chunk: str, ch: str) -> tuple[str, bool]:
    negated = chunk[:1] == "^"
    if negated:
        chunk = chunk[1:]
    matched = False
    ranges = 0
    while True:
        if chunk[:1] == "]" and ranges:
            chunk = chunk[1:]
            break
        lo, chunk = class_char(chunk)
        hi = lo
        if chunk[0] == "-":
            hi, chunk = class_char(chunk[1:])
        if lo <= ch <= hi:
            matched = True
        ranges += 1
    return chunk, matched != negated


def class_char(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPattern
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern
    rest = chunk[1:]
    if not rest:
        raise BadPattern
    return chunk[0], rest
