"""Writing files safely: never a half-written file, never outside the repository.

Every command that writes (generate, render --out, commit) goes through here.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable
from pathlib import Path

from gitops_gen.errors import GitopsGenError


def _umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, before any threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


_MADE: set[str] = set()
_COUNTER = itertools.count()


def _stage(path: Path, data: bytes, fsync: bool) -> str:
    """DATA in a new temp file next to PATH (same file system, so the rename is atomic)."""
    parent = str(path.parent)
    if parent not in _MADE:
        os.makedirs(parent, exist_ok=True)
        _MADE.add(parent)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    # A name no other writer uses (pid and a counter), created exclusively: no clobbering.
    tmp = os.path.join(parent, f".{path.name}.{os.getpid()}.{next(_COUNTER)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileNotFoundError:  # the directory went away since we made it (an emptied parent removed)
        os.makedirs(parent, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: Path, data: bytes) -> None:
    """Replace PATH with DATA in one step: temp file in the same directory, fsync, rename.

    A reader (or a crash) sees the old file or the new one, never a mix. Missing
    parent directories are created. An existing file keeps its permissions.
    """
    tmp = _stage(path, data, fsync=True)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_atomic_many(items: Iterable[tuple[Path, bytes]]) -> None:
    """``write_atomic`` for many files, with two syncs in all instead of two per file.

    Thousands of fsyncs take minutes on some disks. Every temp file is written
    first, flushed to disk by one ``sync``, then renamed into place (and synced
    again), so each file is still replaced atomically and durably. If anything
    fails before the renames, no target has changed and the temp files are removed.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in items:
            staged.append((_stage(path, data, fsync=False), path))
        if not staged:
            return
        os.sync()
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    os.sync()


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every file system allows it, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def inside(root: Path, rel: str) -> Path:
    """ROOT / REL, refusing a target that a symlink (or ``..``) would take outside ROOT."""
    base = _resolved(str(root))
    target = os.path.join(base, rel)
    # Resolve what exists of the path: a symlinked parent directory is where an escape would hide.
    parent, name = os.path.split(target)
    real = os.path.join(_resolved(parent), name)
    if os.path.islink(real):
        real = os.path.realpath(real)
    if real != base and not real.startswith(base.rstrip("/") + "/"):
        raise GitopsGenError("refusing to write outside the repository (a symlink or '..' leads out)", rel)
    return Path(target)


def _resolved(directory: str) -> str:
    """realpath of a directory, memoised for the directories one command writes into."""
    real = _REALDIRS.get(directory)
    if real is None:
        real = os.path.realpath(directory)
        if os.path.isdir(real):  # only existing directories can be trusted to stay as they are
            _REALDIRS[directory] = real
    return real


_REALDIRS: dict[str, str] = {}


def remove_file(path: Path, stop: Path) -> None:
    """Delete PATH, then every parent directory left empty, up to (not including) STOP."""
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone): stop climbing
            return
        parent = parent.parent
