"""Writing files safely: never a half-written file, never outside the repository.

Every command that writes (generate, render --out, commit) goes through here.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from collections.abc import Iterable, Iterator
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


# ".<name>.<pid>.<n>.tmp": the writer's pid says whether a leftover belongs to a live process.
TEMP_NAME = re.compile(r"\.(.+)\.(\d+)\.(\d+)\.tmp\Z")


def _temp_name(path: Path) -> str:
    # A name no other writer uses (pid and a counter), created exclusively: no clobbering.
    return os.path.join(str(path.parent), f".{path.name}.{os.getpid()}.{next(_COUNTER)}.tmp")


def is_temp_file(path: str) -> bool:
    """Whether PATH is one of our temp files (never an input, whoever left it)."""
    return TEMP_NAME.match(os.path.basename(path)) is not None


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_dead_temp_files(directories: Iterable[Path]) -> list[str]:
    """Delete the temp files that dead gitops-gen processes left in DIRECTORIES; their paths.

    A kill -9 between writing a temp file and renaming it leaves the temp file behind;
    the next run removes it. A live process's temp files are never touched.
    """
    removed = []
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = TEMP_NAME.match(name)
            if match and not pid_alive(int(match.group(2))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))
                    removed.append(os.path.join(str(directory), name))
    return removed


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
    tmp = _temp_name(path)
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
    if path.is_dir():
        raise GitopsGenError("a directory is where gitops-gen writes a file; move it away", show(path))
    try:
        tmp = _stage(path, data, fsync=True)
    except OSError as err:
        raise _write_error(err) from None
    try:
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _write_error(err) from None
        raise
    _fsync_dir(path.parent)


def write_atomic_many(items: Iterable[tuple[Path, bytes]]) -> None:
    """``write_atomic`` for many files, all or nothing, with two syncs in all instead of two per file.

    Thousands of fsyncs take minutes on some disks. Every temp file is written
    first, flushed to disk by one ``sync``, then renamed into place (and synced
    again), so each file is still replaced atomically and durably. Before the first
    rename each existing target gets a hard link under a temp name: a target that
    cannot be linked (immutable, a directory) fails the write before anything changed,
    and a rename that fails later puts every replaced file back. Errors are one-line
    ``GitopsGenError``s naming the file.
    """
    # Ctrl-C, SIGTERM and SIGHUP wait until the write is complete or undone, then act: a signal
    # between creating a temp file and noting it (or during the clean-up) would leave it behind.
    with _signals_deferred():
        _write_many(items)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _write_many(items: Iterable[tuple[Path, bytes]]) -> None:
    staged: list[tuple[str, Path]] = []
    backups: list[tuple[str | None, Path]] = []
    done = 0
    try:
        try:
            for path, data in items:
                if path.is_dir():
                    raise GitopsGenError(
                        "a directory is where gitops-gen writes a file; move it away", show(path)
                    )
                staged.append((_stage(path, data, fsync=False), path))
            if not staged:
                return
            for _, path in staged:
                backups.append((_backup(path), path))
            os.sync()
            for tmp, path in staged:
                os.replace(tmp, path)
                done += 1
        except OSError as err:
            raise _write_error(err) from None
    except BaseException:
        _roll_back(backups[:done])
        raise
    finally:
        for tmp, _ in staged[done:]:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        for backup, _ in backups:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
    os.sync()


def _backup(path: Path) -> str | None:
    """A hard link to PATH's current file (None if there is none), so a failed write can restore it."""
    link = _temp_name(path)
    try:
        os.link(path, link, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return link


def _roll_back(replaced: list[tuple[str | None, Path]]) -> None:
    for backup, path in reversed(replaced):
        with contextlib.suppress(OSError):
            if backup is None:
                os.unlink(path)
            else:
                os.replace(backup, path)


def show(path: Path | str) -> str:
    """PATH as a message shows it: relative to the working directory when under it."""
    text = os.fspath(path)
    rel = os.path.relpath(text) if os.path.isabs(text) else text
    return text if rel.startswith("..") else rel


def _write_error(err: OSError) -> GitopsGenError:
    where = err.filename
    # A failed rename names the temp file first; the file the user knows is the target.
    if isinstance(err.filename2, str) and err.filename2:
        where = err.filename2
    reason = err.strerror or str(err)
    if isinstance(err, (FileExistsError, NotADirectoryError)):
        reason = "a file is where a directory must be"
    name = show(_target_of(str(where))) if where else None
    return GitopsGenError(f"cannot write: {reason}; no file was changed", name)


def _target_of(path: str) -> str:
    """The file a temp name of ours stands for (PATH itself otherwise)."""
    head, name = os.path.split(path)
    match = TEMP_NAME.match(name)
    return os.path.join(head, match.group(1)) if match else path


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


def edit_target(root: Path, rel: str) -> Path:
    """Where an edit of the hand-written file REL goes: ``inside``, and through a symlink to its
    target (inside ROOT), so the link stays a link and the real file changes."""
    path = inside(root, rel)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


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
    try:
        path.unlink(missing_ok=True)
    except OSError as err:
        raise GitopsGenError(f"cannot remove: {err.strerror or err}", show(path)) from None
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone): stop climbing
            return
        parent = parent.parent


# ---------------------------------------------------------------- one writer per repository

LOCK_NAME = "gitops-gen.lock"
# A lock file younger than this without a pid in it belongs to a process that is just starting.
_LOCK_GRACE_SECONDS = 10.0
_HELD: list[Path] = []


def git_dir(repo: Path) -> Path | None:
    """REPO's git directory (``.git``, or where a ``.git`` file of a worktree points), if any."""
    dot = repo / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        try:
            first = dot.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            return None
        if first.startswith("gitdir:"):
            found = Path(first[len("gitdir:") :].strip())
            found = found if found.is_absolute() else repo / found
            return found if found.is_dir() else None
    return None


def acquire_repo_lock(repo: Path) -> None:
    """Hold ``.git/gitops-gen.lock`` until this process exits: one writing gitops-gen per repository.

    The lock holds the owner's pid; a lock whose process is gone (a kill -9) is taken over.
    Without a git directory, or where it cannot be written (a read-only repository, whose
    writes then fail on their own), nothing is locked.
    """
    directory = git_dir(repo)
    if directory is None or any(p.parent == directory for p in _HELD):
        return
    path = directory / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _lock_owner(path)
            if owner is not None:
                raise GitopsGenError(
                    f"another gitops-gen is running (pid {owner}) on this repository; wait "
                    f"for it to finish (or remove {show(path)} if that process is gone)"
                ) from None
            with contextlib.suppress(OSError):
                os.unlink(path)
            continue
        except OSError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        _HELD.append(path)
        import atexit

        atexit.register(_release, path, os.getpid())
        return
    raise GitopsGenError(f"cannot take the repository lock {show(path)}: it keeps changing")


def _lock_owner(path: Path) -> int | None:
    """The live pid holding the lock at PATH, or None when the lock is stale."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        age = time.time() - path.stat().st_mtime
    except OSError:
        return None
    if not text.isdigit():
        return 0 if age < _LOCK_GRACE_SECONDS else None
    pid = int(text)
    return pid if pid_alive(pid) and pid != os.getpid() else None


def release_repo_locks() -> None:
    """Give up every lock this process holds (the command is over)."""
    while _HELD:
        _release(_HELD.pop(), os.getpid())


def _release(path: Path, pid: int) -> None:
    if os.getpid() != pid:  # a forked worker exiting: the parent still holds it
        return
    with contextlib.suppress(OSError):
        if path.read_text(encoding="ascii", errors="replace").strip() == str(pid):
            os.unlink(path)
