"""Where gitops-gen remembers answers between runs: marshal files under ``.git/gitops-gen/``.

Each memo is checked against the tree before it is trusted, so a lost, stale or corrupt one only costs
time. Nothing is kept outside a git work tree (the directory must not land in a commit) or when
GITOPS_GEN_NO_CACHE is set.
"""

from __future__ import annotations

import marshal
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from gitops_gen import __version__
from gitops_gen.repo.tree import Stamp, file_stamp, settled

T = TypeVar("T")

DIRECTORY = "gitops-gen"


def memo_path(root: Path, name: str) -> Path | None:
    """The memo NAME of the repository at ROOT; None when memos are off or there is no .git directory."""
    git = root / ".git"
    if os.environ.get("GITOPS_GEN_NO_CACHE") or not git.is_dir():
        return None
    return git / DIRECTORY / name


def load(path: Path, fmt: int) -> dict[str, Any] | None:
    """The memo at PATH if it was written in format FMT by this version; None otherwise."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != (fmt, __version__):
        return None
    return data


def store(path: Path, fmt: int, data: dict[str, Any]) -> None:
    """Write DATA as the memo at PATH in format FMT, all at once (a reader sees the old or the new one)."""
    blob = marshal.dumps({**data, "format": (fmt, __version__)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass  # a memo we cannot write only costs time next run


def by_stamp(
    known: Mapping[str, Any], key: str, path: str, started: int, compute: Callable[[str], T]
) -> tuple[T, tuple[Stamp, T] | None]:
    """What COMPUTE(PATH) says of the file at PATH, or KNOWN[KEY]'s (stamp, value) when the file still has that
    stamp; with the (stamp, value) to remember, None when the file is not a regular file or had not
    settled (``tree.settled``) at STARTED, when this run began reading."""
    stamp = file_stamp(path)
    hit = known.get(key)
    if stamp is not None and isinstance(hit, tuple) and len(hit) == 2 and hit[0] == stamp:
        return hit[1], hit
    value = compute(path)
    return value, ((stamp, value) if stamp is not None and settled(stamp, started) else None)
