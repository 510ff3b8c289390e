"""One error type for everything the user can fix, and problems as values.

A ``GitopsGenError`` carries the file (repo-relative where we know the repo) and
the 1-based line/column responsible. The CLI's single handler turns it into one
line on stderr and exit 1; anything else escaping a command is a bug (exit 3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass


class GitopsGenError(Exception):
    """A problem in the user's input: reported as one line, exit 1."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def __reduce__(self) -> tuple[type[GitopsGenError], tuple[str, str | None, int | None, int | None]]:
        # Keep the location when an error crosses a process boundary (parallel render).
        return GitopsGenError, (self.message, self.path, self.line, self.col)

    def location(self) -> str:
        return format_location(self.path, self.line, self.col)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


def format_location(path: str | None, line: int | None, col: int | None) -> str:
    if not path:
        return ""
    if line is None:
        return path
    return f"{path}:{line}:{col or 1}"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of ``validate``: ``path:line:col: severity: [rule] message``."""

    path: str
    line: int
    col: int
    severity: str  # "error" | "warning"
    rule: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: [{self.rule}] {self.message}"


def problems_as_text(problems: Iterable[Problem]) -> str:
    return "".join(p.format() + "\n" for p in problems)


def problems_as_json(problems: Iterable[Problem]) -> str:
    return json.dumps([asdict(p) for p in problems], indent=2) + "\n"
