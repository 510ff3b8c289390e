"""One error type for everything the user can fix, and problems as values.

A ``GitopsGenError`` carries the file (repo-relative where we know the repo) and
the 1-based line/column responsible. The CLI's single handler turns it into one
line on stderr and exit 1; anything else escaping a command is a bug (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass


class GitopsGenError(Exception):
    """A problem in the user's input: reported as one line, exit 1."""

    exit_code = 1

    def __init__(
        self, message: str, path: str | None = None, line: int | None = None, col: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def __reduce__(self) -> tuple[type[GitopsGenError], tuple[str, str | None, int | None, int | None]]:
        # Keep the location (and the class) when an error crosses a process boundary (parallel render).
        return type(self), (self.message, self.path, self.line, self.col)

    def location(self) -> str:
        return format_location(self.path, self.line, self.col)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class UsageError(GitopsGenError):
    """The command line is wrong: a malformed argument, or one naming a cluster, app, layer or git
    revision that does not exist. Reported as one line, exit 2."""

    exit_code = 2


def format_location(path: str | None, line: int | None, col: int | None) -> str:
    if not path:
        return ""
    if line is None:
        return path
    return f"{path}:{line}:{col or 1}"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of ``validate``: ``path:line:col: severity: [rule] message [clusters]``.

    CLUSTERS are the clusters it was found on (validate prints a problem once for all of them);
    the text names them unless the path is that one cluster's own file.
    """

    path: str
    line: int
    col: int
    severity: str  # "error" | "warning"
    rule: str
    message: str
    clusters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "clusters", tuple(self.clusters))  # also when read back from JSON

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: [{self.rule}] {self.text()}"

    def text(self) -> str:
        """The message with the clusters it was found on."""
        return f"{self.message} [{self.cluster_label()}]" if self.cluster_label() else self.message

    def cluster_label(self) -> str:
        names = self.clusters
        if not names or (len(names) == 1 and self.path.startswith(f"clusters/{names[0]}/")):
            return ""
        shown = names if len(names) <= MAX_NAMED_CLUSTERS + 1 else (*names[:MAX_NAMED_CLUSTERS], "...")
        return f"cluster {names[0]}" if len(names) == 1 else f"{len(names)} clusters: {', '.join(shown)}"


# Beyond this many clusters a problem names the first ones only (one more is named rather than "...").
MAX_NAMED_CLUSTERS = 3
