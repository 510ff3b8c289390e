"""Read-only views of a repository's files: the working tree, or a git revision.

The engine, the inventory and the generator read through a ``Tree`` so that ``diff``
can render any revision straight from git objects without a checkout. Paths are
repo-relative POSIX strings ("" is the root); nothing may escape the root, whether
by ``..`` or by a symlink.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from gitops_gen.errors import GitopsGenError, UsageError

Kind = Literal["file", "dir"]
Stamp = tuple[int, int, int, int]  # st_mtime_ns, st_ctime_ns, st_size, st_ino

# A file last written this long before it was read cannot be written again without its stamp changing
# (git's "racily clean" rule: file system clocks tick coarsely, so a write in the same tick may keep it).
SETTLED_NS = 2_000_000_000


def settled(stamp: Stamp, read_at_ns: int) -> bool:
    """Whether a file with STAMP, read at READ_AT_NS (``time.time_ns``), can be trusted by its stamp later."""
    return max(stamp[0], stamp[1]) < read_at_ns - SETTLED_NS


def normalize(path: str, base: str = "") -> str | None:
    """Join PATH onto BASE (both repo-relative) and normalise; None if it climbs above the root."""
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


def file_stamp(path: str) -> Stamp | None:
    """``DiskTree.stamp`` of the file system path PATH (symlinks followed; None if not a regular file)."""
    return _stamp(path, stat.S_ISREG)


def dir_stamp(path: str) -> Stamp | None:
    """The stamp of the directory PATH (None if it is not one): it moves when an entry is added,
    removed or renamed in it, not when a file in it is rewritten."""
    return _stamp(path, stat.S_ISDIR)


def _stamp(path: str, is_kind: Callable[[int], bool]) -> Stamp | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not is_kind(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


class Tree(Protocol):
    """What the engine needs from a file system."""

    def read(self, path: str) -> bytes: ...

    def kind(self, path: str) -> Kind | None: ...

    def listdir(self, path: str) -> list[str]: ...

    def display(self, path: str) -> str:
        """How to name PATH in a message to the user."""
        ...


class DiskTree:
    """The working tree under ROOT. Symlinks are followed only while they stay inside ROOT.

    Lookups of existing paths are memoised (a fleet render asks for the same paths
    thousands of times); missing paths are asked again, so files written during a run
    (``generate``) are seen.
    """

    def __init__(self, root: Path, display_from: Path | None = None):
        self.root = root.resolve()
        self._root_s = str(self.root)
        self._prefix = self._root_s.rstrip("/") + "/"
        # Messages name files relative to DISPLAY_FROM (the cwd for `build`), else repo-relative.
        self.display_from = display_from
        self._reals: dict[str, str | None] = {}
        self._kinds: dict[str, Kind | None] = {}

    def _real(self, path: str) -> str | None:
        try:
            return self._reals[path]
        except KeyError:
            pass
        if not path:
            return self._root_s
        if "\0" in path:  # no file system has such a name (and os calls refuse it)
            return None
        parent, _, name = path.rpartition("/")
        # Resolve the parent once per directory; only a symlink can lead out, so a plain entry
        # inside a resolved directory needs no realpath of its own.
        real_parent = self._real(parent)
        if real_parent is None:
            return None
        full = os.path.join(real_parent, name)
        try:
            st = os.lstat(full)
        except OSError:
            return None
        real = full
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(full)
            if real != self._root_s and not real.startswith(self._prefix):
                raise GitopsGenError("path escapes the repository through a symlink", self.display(path))
            if not os.path.exists(real):
                return None
        self._reals[path] = real
        return real

    def read(self, path: str) -> bytes:
        real = self._real(path)
        if real is None or self.kind(path) != "file":
            raise GitopsGenError("no such file", self.display(path))
        try:
            with open(real, "rb") as fh:
                return fh.read()
        except OSError as err:
            raise GitopsGenError(f"cannot read: {err.strerror}", self.display(path)) from None

    def kind(self, path: str) -> Kind | None:
        try:
            return self._kinds[path]
        except KeyError:
            pass
        real = self._real(path)
        kind: Kind | None = None
        if real is not None:
            try:
                mode = os.stat(real).st_mode
            except OSError:
                mode = 0
            if stat.S_ISDIR(mode):
                kind = "dir"
            elif stat.S_ISREG(mode):
                kind = "file"
        if kind is not None:
            self._kinds[path] = kind
        return kind

    def listdir(self, path: str) -> list[str]:
        real = self._real(path)
        if real is None or self.kind(path) != "dir":
            return []
        try:
            return sorted(os.listdir(real))
        except OSError as err:
            raise GitopsGenError(f"cannot read the directory: {err.strerror}", self.display(path)) from None

    def stamp(self, path: str) -> Stamp | None:
        """What the file system says of the file PATH without reading it: (modified, changed, size, inode);
        None if it is not a regular file. Equal stamps mean equal contents only for a file that had settled
        before it was read (``settled``): within one tick of its last write another write may keep them."""
        real = self._real(path)
        return None if real is None else file_stamp(real)

    def real_path(self, path: str) -> str:
        """PATH with symlinks resolved (as the repository-relative path when it cannot be)."""
        return self._real(path) or path

    def canonical(self, path: str) -> str | None:
        """PATH with every symlink in it resolved, repository-relative; None if it does not exist."""
        real = self._real(path)
        if real is None:
            return None
        return "" if real == self._root_s else real[len(self._prefix) :]

    def display(self, path: str) -> str:
        if self.display_from is not None:
            return os.path.relpath(self.root / path, self.display_from)
        return path or "."


class GitTree:
    """A git revision's tree, read from objects (no checkout, index or HEAD change)."""

    def __init__(self, repo: Any, rev: str):
        # repo is a git.Repo; typed loosely so importing this module does not import gitpython.
        try:
            self.commit = repo.commit(rev)
        except Exception:  # gitpython raises several unrelated types for a bad rev; its wording helps nobody
            raise UsageError(f"unknown git revision {rev!r}") from None
        try:
            self.commit.tree  # noqa: B018 (a shallow clone's missing parent fails here, not above)
        except Exception:
            raise GitopsGenError(
                f"git revision {rev!r}: its objects are missing (a shallow clone?)"
            ) from None
        self.rev = rev
        self._root = self.commit.tree
        self._canonical: dict[str, str | None] = {}

    def _entry(self, path: str, depth: int = 0) -> Any | None:
        if depth > 40:
            raise GitopsGenError("too many levels of symlinks", self.display(path))
        try:
            return self._walk(path, depth)
        except (ValueError, OSError):  # gitpython's way of saying an object is not in the repository
            raise self._missing(path) from None

    def _walk(self, path: str, depth: int) -> Any | None:
        if path == "":
            return self._root
        node = self._root
        parts = path.split("/")
        for i, part in enumerate(parts):
            if node.type != "tree":
                return None
            try:
                node = node[part]
            except KeyError:
                return None
            if node.mode & 0o170000 == 0o120000:  # a symlink stored in git
                target = node.data_stream.read().decode("utf-8", "surrogateescape")
                parent = "/".join(parts[:i])
                resolved = normalize(target, parent) if not target.startswith("/") else None
                if resolved is None:
                    raise GitopsGenError("path escapes the repository through a symlink", self.display(path))
                rest = "/".join([resolved, *parts[i + 1 :]]) if i + 1 < len(parts) else resolved
                return self._entry(rest, depth + 1)
        return node

    def canonical(self, path: str, depth: int = 0) -> str | None:
        """PATH with every symlink in it resolved, repository-relative; None if it does not exist."""
        if path in self._canonical:
            return self._canonical[path]
        if depth > 40:
            raise GitopsGenError("too many levels of symlinks", self.display(path))
        node = self._root
        parts = path.split("/") if path else []
        found: str | None = path
        for i, part in enumerate(parts):
            try:
                node = node[part] if node.type == "tree" else None
            except KeyError:
                node = None
            except (ValueError, OSError):
                raise self._missing(path) from None
            if node is None:
                found = None
                break
            if node.mode & 0o170000 == 0o120000:
                target = node.data_stream.read().decode("utf-8", "surrogateescape")
                parent = "/".join(parts[:i])
                resolved = normalize(target, parent) if not target.startswith("/") else None
                if resolved is None:
                    raise GitopsGenError("path escapes the repository through a symlink", self.display(path))
                rest = normalize("/".join(parts[i + 1 :]), resolved) if i + 1 < len(parts) else resolved
                found = None if rest is None else self.canonical(rest, depth + 1)
                break
        self._canonical[path] = found
        return found

    def read(self, path: str) -> bytes:
        entry = self._entry(path)
        if entry is None or entry.type != "blob":
            raise GitopsGenError("no such file", self.display(path))
        try:
            data: bytes = entry.data_stream.read()
        except (ValueError, OSError):
            raise self._missing(path) from None
        return data

    def _missing(self, path: str) -> GitopsGenError:
        return GitopsGenError(
            f"git objects of {self.rev!r} are missing (a shallow or partial clone? fetch more history)",
            self.display(path),
        )

    def kind(self, path: str) -> Kind | None:
        entry = self._entry(path)
        if entry is None:
            return None
        if entry.type == "tree":
            return "dir"
        if entry.type == "blob":
            return "file"
        return None

    def listdir(self, path: str) -> list[str]:
        entry = self._entry(path)
        if entry is None or entry.type != "tree":
            return []
        return sorted(item.name for item in entry)

    def blob_id(self, path: str) -> str | None:
        """The git object id of PATH: a content key for caches shared between revisions."""
        entry = self._entry(path)
        return None if entry is None else str(entry.hexsha)

    def display(self, path: str) -> str:
        return f"{self.rev}:{path}"
