"""What every git workflow shares: opening a repository, running git, and keeping git's reason for a failure.

A failed git command is reported with all of its stderr, indented under our one-line summary: git's
own advice (set an upstream, which hook refused and why) is what the user needs to fix it.
"""

from __future__ import annotations

import posixpath
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError, UsageError

INDENT = "    "
_GITPYTHON_STDERR = "stderr: '"


def open_repo(repo: Path) -> Any:
    import git

    try:
        return git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{repo} is not a git repository") from None


def command_errors() -> tuple[type[Exception], ...]:
    """What a failing git command raises through gitpython: its exit status, or git not runnable."""
    import git

    return (git.GitCommandError, OSError)


def indented(text: str) -> str:
    """TEXT's non-blank lines, each on its own line indented under a summary (empty when TEXT is blank)."""
    lines = [ln.rstrip() for ln in text.strip("\n").splitlines()]
    return "".join(f"\n{INDENT}{ln}" if ln else "\n" for ln in lines) if any(lines) else ""


def git_error(err: Exception) -> str:
    """All that git said about a failure (GitPython's exceptions wrap it), indented under the summary."""
    text = getattr(err, "stderr", None) or ""
    text = str(text).strip()
    # GitPython formats it as "\n  stderr: '<git's text>'"; unwrap to git's own words.
    if text.startswith(_GITPYTHON_STDERR):
        text = text[len(_GITPYTHON_STDERR) :]
        text = text[:-1] if text.endswith("'") else text
    if not text.strip():
        text = str(getattr(err, "stdout", "") or "")
        text = text.strip().removeprefix("stdout: '").removesuffix("'")
    if not text.strip():
        text = str(err)
    return indented(text) or f" {err}"


def run_git(repo: Path, *args: str, what: str) -> str:
    """Run `git ARGS` in REPO and return its stdout; on failure an error saying WHAT failed and all git said."""
    return GitCall(repo, *args, what=what).result()


class GitCall:
    """`git ARGS` started now, in the background (it runs on another CPU while Python works); ``result``
    waits for its stdout, or raises what ``run_git`` raises."""

    def __init__(self, repo: Path, *args: str, what: str):
        self.what = what
        self.error: GitopsGenError | None = None
        try:
            self.proc: subprocess.Popen[str] | None = subprocess.Popen(
                ["git", *args], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        except OSError as err:
            self.proc, self.error = None, GitopsGenError(f"{what}: cannot run git: {err}")

    def result(self) -> str:
        if self.proc is None:
            assert self.error is not None
            raise self.error
        out, err = self.proc.communicate()
        if self.proc.returncode != 0:
            # Hooks write to stdout or stderr; git's own messages go to stderr. Keep both.
            said = "\n".join(t.strip("\n") for t in (err, out) if t.strip())
            code = self.proc.returncode
            raise GitopsGenError(f"{self.what} (git exit {code}):{indented(said) or ' git said nothing'}")
        return out


@dataclass(frozen=True)
class StagedChange:
    """One entry of `git diff --cached --name-status -M`: STATUS is git's letter (A, M, D, R, C, T, ...)."""

    status: str
    path: str
    old: str | None = None  # the source path of a rename or copy


STAGED = ("diff", "--cached", "--name-status", "-M", "-z", "--relative", "--no-ext-diff", "--no-color")


def staged_changes(repo: Path, out: str | None = None) -> list[StagedChange]:
    """What the index changes against HEAD (against nothing before the first commit), renames paired;
    paths relative to REPO (which may lie inside a larger git work tree), changes outside it left out.
    OUT: what `git STAGED` printed, if the caller ran it already."""
    if out is None:
        out = run_git(repo, *STAGED, what="cannot list the staged changes")
    fields = out.split("\0")
    changes: list[StagedChange] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":
            changes.append(StagedChange(status, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            changes.append(StagedChange(status, fields[i + 1]))
            i += 2
    return changes


class RevisionFiles:
    """A git revision's tree for the dependency index (``deps.Files``): the listing from one
    `git ls-tree -r`, file contents from one long-running `git cat-file --batch`.

    Object-by-object reads through GitPython cost seconds on a fleet of thousands of files; this
    keeps a deletion in the pre-commit hook within the same order as an edit. Symbolic links are
    listed as files and not followed.
    """

    def __init__(self, repo: Path, rev: str = "HEAD"):
        self.repo = repo
        # Without --full-tree: paths relative to REPO, which may be a directory inside the git work tree.
        out = run_git(repo, "ls-tree", "-r", "-z", rev, what=f"cannot list the tree of {rev}")
        self.blobs: dict[str, str] = {}
        self.children: dict[str, set[str]] = {"": set()}
        for entry in out.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            _, kind, sha = meta.split()
            if kind != "blob":
                continue  # a submodule
            self.blobs[path] = sha
            parent, _, name = path.rpartition("/")
            self.children.setdefault(parent, set()).add(name)
            while parent:
                parent, _, name = parent.rpartition("/")
                self.children.setdefault(parent, set()).add(name)
        self._cat: subprocess.Popen[bytes] | None = None

    def is_file(self, rel: str) -> bool:
        return rel in self.blobs

    def is_dir(self, rel: str) -> bool:
        return rel in self.children

    def listdir(self, rel: str) -> list[str]:
        return sorted(self.children.get(rel, ()))

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]:
        pending = [""]
        while pending:
            rel = pending.pop(0)
            names = self.listdir(rel)
            dirs = [n for n in names if posixpath.join(rel, n) in self.children]
            yield rel, dirs, [n for n in names if n not in dirs]
            pending[:0] = [posixpath.join(rel, d) for d in dirs]

    def read(self, rel: str) -> bytes | None:
        sha = self.blobs.get(rel)
        if sha is None:
            return None
        if self._cat is None:
            self._cat = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self._cat.stdin is not None and self._cat.stdout is not None
        self._cat.stdin.write(sha.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            return None
        data = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self._cat is not None:
            if self._cat.stdin is not None:
                self._cat.stdin.close()
            self._cat.wait()
            self._cat = None
