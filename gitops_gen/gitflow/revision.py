"""A git revision as a ``Tree`` for whole-fleet reads (diff, commit), and what changed between two.

``repo.tree.GitTree`` walks GitPython tree objects path by path: fine for a few files, tens of
seconds for a fleet render that asks for tens of thousands of paths. Here the listing comes from
one `git ls-tree -r` and file contents from one long-running `git cat-file --batch`, shared by the
two sides of a diff (equal blobs are read once). The blob ids are the content hashes that say
which paths differ between two revisions, or between a revision and the working tree.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.gitflow.git import run_git
from gitops_gen.repo.tree import GitTree, Kind, normalize

LINK = "120000"
MAX_LINKS = 40


class BlobReader:
    """One `git cat-file --batch` for a repository; contents cached by object id."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.cache: dict[str, bytes] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._proc

    def _answer(self, proc: subprocess.Popen[bytes], sha: str) -> bytes | None:
        assert proc.stdout is not None
        header = proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None  # "<sha> missing": a shallow or partial clone
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)  # the newline after each object
        self.cache[sha] = data
        return data

    def read(self, sha: str) -> bytes | None:
        data = self.cache.get(sha)
        if data is not None:
            return data
        proc = self._start()
        assert proc.stdin is not None
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        return self._answer(proc, sha)

    def prefetch(self, shas: Iterable[str]) -> None:
        """Read many objects in one pipelined exchange (one round trip each costs far more)."""
        wanted = sorted({s for s in shas if s not in self.cache})
        if not wanted:
            return
        proc = self._start()
        assert proc.stdin is not None
        stdin = proc.stdin

        def feed() -> None:  # a thread, so that neither side's pipe buffer can fill and block
            stdin.write(b"".join(s.encode() + b"\n" for s in wanted))
            stdin.flush()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        for sha in wanted:
            self._answer(proc, sha)
        writer.join()

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


def list_tree(repo: Path, rev: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, object id) of every blob and symlink of REV, relative to REPO (submodules left out)."""
    out = run_git(repo, "ls-tree", "-r", "-z", rev, what=f"cannot list the tree of {rev}")
    entries: dict[str, tuple[str, str]] = {}
    for entry in out.split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            entries[path] = (mode, sha)
    return entries


class RevisionTree:
    """REV of the repository at REPO, read from git objects (no checkout; the index and HEAD stay).

    Paths are relative to REPO. Symbolic links are followed while they stay inside REPO, as in
    ``GitTree``. Messages name files ``REV:path``.
    """

    def __init__(self, grepo: Any, repo: Path, rev: str, blobs: BlobReader):
        # GitTree resolves REV with GitPython and says "unknown revision" / "objects missing" as
        # every other command does; its commit id is then listed in one go.
        self.commit = GitTree(grepo, rev).commit.hexsha
        self.rev = rev
        self.blobs = blobs
        try:
            self.entries = list_tree(repo, self.commit)
        except GitopsGenError:
            raise GitopsGenError(
                f"git revision {rev!r}: its objects are missing (a shallow clone?)"
            ) from None
        self.children: dict[str, set[str]] = {"": set()}
        self.links = {p for p, (mode, _) in self.entries.items() if mode == LINK}
        for path in self.entries:
            parent, _, name = path.rpartition("/")
            self.children.setdefault(parent, set()).add(name)
            while parent:
                parent, _, name = parent.rpartition("/")
                if name in self.children.setdefault(parent, set()):
                    break
                self.children[parent].add(name)

    def _resolve(self, path: str, depth: int = 0) -> str | None:
        """PATH with symbolic links in it replaced by their targets (None: a dangling link)."""
        if not self.links or path in self.children or (path in self.entries and path not in self.links):
            return path
        if depth > MAX_LINKS:
            raise GitopsGenError("too many levels of symlinks", self.display(path))
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix not in self.links:
                continue
            target = (self._bytes(prefix) or b"").decode("utf-8", "surrogateescape")
            parent = "/".join(parts[: i - 1])
            resolved = normalize(target, parent) if not target.startswith("/") else None
            if resolved is None:
                raise GitopsGenError("path escapes the repository through a symlink", self.display(path))
            rest = "/".join([resolved, *parts[i:]]) if i < len(parts) else resolved
            return self._resolve(rest, depth + 1)
        return path

    def _bytes(self, path: str) -> bytes | None:
        entry = self.entries.get(path)
        if entry is None:
            return None
        data = self.blobs.read(entry[1])
        if data is None:
            raise GitopsGenError(
                f"git objects of {self.rev!r} are missing (a shallow or partial clone? fetch more history)",
                self.display(path),
            )
        return data

    def read(self, path: str) -> bytes:
        real = self._resolve(path)
        if real is None or real not in self.entries or real in self.links:
            raise GitopsGenError("no such file", self.display(path))
        data = self._bytes(real)
        assert data is not None
        return data

    def kind(self, path: str) -> Kind | None:
        real = self._resolve(path)
        if real is None:
            return None
        if real in self.children:
            return "dir"
        if real in self.entries and real not in self.links:
            return "file"
        return None

    def listdir(self, path: str) -> list[str]:
        real = self._resolve(path)
        return sorted(self.children.get(real, ())) if real is not None else []

    def prefetch_named(self, names: Iterable[str]) -> None:
        """Read every file whose base name is in NAMES in one go (the kustomizations deps reads)."""
        wanted = set(names)
        self.blobs.prefetch(
            sha for p, (mode, sha) in self.entries.items() if mode != LINK and p.rpartition("/")[2] in wanted
        )

    def blob_id(self, path: str) -> str | None:
        """The git object id of PATH: a content key for caches shared between revisions."""
        real = self._resolve(path)
        entry = self.entries.get(real) if real is not None else None
        return entry[1] if entry is not None else None

    def display(self, path: str) -> str:
        return f"{self.rev}:{path}"


def changed_between(base: RevisionTree, head: RevisionTree) -> set[str]:
    """Paths whose content, mode or presence differs between two revisions (the blob ids say)."""
    return {
        p for p in base.entries.keys() | head.entries.keys() if base.entries.get(p) != head.entries.get(p)
    }


def _nul_list(out: str) -> list[str]:
    return [p for p in out.split("\0") if p]


def changed_in_worktree(repo: Path, base: RevisionTree) -> tuple[set[str], list[str]]:
    """(paths the working tree under REPO changes against BASE, untracked directories git lists whole).

    Tracked files come from `git diff BASE` (staged and unstaged alike, deletions included),
    untracked and ignored files from `git ls-files --others`; the working tree reads them all.
    A wholly untracked or ignored directory comes back as one entry ending in "/".
    """
    what = "cannot compare the working tree with " + base.rev
    tracked = run_git(
        repo, "diff", "--name-only", "--no-renames", "-z", "--relative", "--no-ext-diff", base.commit, "--",
        what=what,
    )  # fmt: skip
    others = run_git(repo, "ls-files", "--others", "--directory", "-z", what=what)
    paths = set(_nul_list(tracked))
    dirs: list[str] = []
    for entry in _nul_list(others):
        if entry.endswith("/"):
            dirs.append(entry.rstrip("/"))
        else:
            paths.add(entry)
    return paths, dirs


def worktree_links(repo: Path) -> dict[str, str]:
    """Each tracked symbolic link of the working tree -> its target, repo-relative."""
    out = run_git(repo, "ls-files", "-s", "-z", what="cannot list the index")
    found: dict[str, str] = {}
    for entry in _nul_list(out):
        meta, path = entry.split("\t", 1)
        if not meta.startswith(LINK):
            continue
        try:
            target = os.readlink(os.path.join(repo, path))
        except OSError:
            continue
        resolved = normalize(target, posixpath.dirname(path)) if not target.startswith("/") else None
        if resolved is not None:
            found[path] = resolved
    return found


def through_links(changed: set[str], links: dict[str, str]) -> set[str]:
    """CHANGED plus, for each symbolic link (path -> resolved target), the changed paths seen through it."""
    out = set(changed)
    for _ in range(MAX_LINKS):
        more = {
            link if p == target else posixpath.join(link, p[len(target) + 1 :] if target else p)
            for link, target in links.items()
            for p in out
            if p == target or not target or p.startswith(target + "/")
        }
        if more <= out:
            break
        out |= more
    return out


def link_targets(tree: RevisionTree) -> dict[str, str]:
    """Each symbolic link of TREE -> its target, repo-relative (links that climb out are left out)."""
    out: dict[str, str] = {}
    for link in tree.links:
        target = (tree.blobs.read(tree.entries[link][1]) or b"").decode("utf-8", "surrogateescape")
        resolved = normalize(target, posixpath.dirname(link)) if not target.startswith("/") else None
        if resolved is not None:
            out[link] = resolved
    return out


def files_containing(repo: Path, needle: str, rev: str | None) -> list[str]:
    """Paths (relative to REPO) whose text contains NEEDLE at REV, or in the working tree (untracked too)."""
    args = ["git", "grep", "-l", "-z", "-I", "-F", "-e", needle]
    args += [rev, "--"] if rev else ["--untracked", "--"]
    done = subprocess.run(args, cwd=repo, capture_output=True, check=False)
    if done.returncode not in (0, 1):  # 1: nothing found
        raise GitopsGenError(f"git grep failed (git exit {done.returncode}): {done.stderr.decode().strip()}")
    found = [p.decode("utf-8", "surrogateescape") for p in done.stdout.split(b"\0") if p]
    return [p.split(":", 1)[1] for p in found] if rev else found
