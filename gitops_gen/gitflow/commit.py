"""`gitops-gen commit`: generate, validate, then commit the generated files with git.

A commit never holds generated files that disagree with its inputs: unstaged or
untracked edits to input files are refused, the generated files are staged next to
what the user staged, and nothing is committed when nothing changed. Validation is what the
pre-commit hook runs (`validate FILE...` over every path the commit changes against HEAD,
generated files included; a full validate when gitops-gen.yaml changes or there is no HEAD),
and the "Clusters:" trailer names the clusters those paths can affect (the dependency answer
that validate works from, worked out once): nothing is rendered twice.
``--rendered-to PATH`` then writes the rendered-manifests branch (see
``gitops_gen.gitflow.rendered``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.gitflow.git import STAGED, GitCall, open_repo, run_git
from gitops_gen.gitflow.rendered import commit_rendered, prepare_rendered

if TYPE_CHECKING:
    from gitops_gen.fleet.deps import Affected, Index
    from gitops_gen.fleet.generate import Plan

Say = Callable[[str], None]


class ValidationFailed(GitopsGenError):
    """Validate found errors after generate: nothing is committed; PROBLEMS are the errors."""

    def __init__(self, problems: list[Problem]):
        super().__init__(
            f"validation failed with {len(problems)} error(s); nothing committed "
            "(generated files were updated in the working tree)"
        )
        self.problems = problems


def _quiet(_: str) -> None:
    pass


INPUT = re.compile(r"^(gitops-gen\.yaml|clusters/[^/]+/cluster\.yaml|apps/.+)$")


def kustomization_inputs(root: Path) -> set[str]:
    """Every file some kustomization of the repository reads (wherever it lives, e.g. a shared/ directory)."""
    from gitops_gen.fleet import deps

    index = deps.Index(root)
    index.hand_written([], parse_all=True)
    index.all_variants()
    for name in index.files.listdir("mapping"):
        index.closure(f"mapping/{name}")
    return {path for refs in index.refs.values() for path in refs.files}


def unstaged_inputs(grepo: Any, status: str | None = None) -> list[str]:
    """Input files edited but not staged, or untracked: the inventory, the config, anything under apps/,
    and any other file a kustomization reads. Committing without them would commit what was not validated.
    STATUS: what `git STATUS` printed, if the caller ran it already."""
    from gitops_gen.fleet.layout import is_generated

    root = Path(grepo.working_tree_dir)
    paths = worktree_changes(root, status)
    others = [p for p in paths if not INPUT.match(p)]
    read = kustomization_inputs(root) if others else set()
    out = []
    for path in sorted(paths):
        if not INPUT.match(path) and path not in read:
            continue
        full = root / path
        # Generated files are rewritten by generate, so their state does not matter.
        if full.is_file() and is_generated(full.read_bytes()[:64]):
            continue
        if "/overlays/" in path and not full.exists():
            continue
        out.append(path)
    return out


STATUS = ("--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")


def worktree_changes(root: Path, out: str | None = None) -> set[str]:
    """Paths whose working-tree file differs from the index (edited, deleted, type changed) and
    untracked files: one `git STATUS` (it takes no lock, so a concurrent git command is undisturbed)."""
    if out is None:
        out = run_git(root, *STATUS, what="cannot list the working tree's changes")
    # X the index against HEAD, Y the working tree against the index; "??" untracked.
    return {path for xy, path in status_entries(out) if xy == "??" or xy[1] != " "}


def status_entries(out: str) -> list[tuple[str, str]]:
    """(XY, path) of each entry `git STATUS` printed (porcelain v1, -z, no renames)."""
    return [(entry[:2], entry[3:]) for entry in out.split("\0") if len(entry) > 3]


def swept_temp_files(top: Path, status: str) -> None:
    """Remove the temp files dead runs left, found in git's STATUS of the work tree at TOP (untracked,
    or staged by an `add -A`: unstaged again, so the commit does not hold half a file). No walk of every
    directory generate writes to; one the user's .gitignore hides stays until the next `generate`."""
    from gitops_gen.repo.files import is_temp_file, remove_dead_temp_files

    listed = {path: xy[0] for xy, path in status_entries(status)}  # X, the index side: "?" or " " unstaged
    temps = [p for p in listed if is_temp_file(p)]
    removed = remove_dead_temp_files({top / posixpath.dirname(p) for p in temps})
    staged = [p for p in temps if listed[p] not in "? " and str(top / p) in removed]
    if staged:
        _git_paths(
            top, ["rm", "-q", "--cached", "--ignore-unmatch"], staged, "cannot unstage dead temp files"
        )


@dataclass
class Scope:
    """What the commit changes against HEAD (staged and generated alike) and the clusters it can affect."""

    paths: list[str]
    affected: Affected | None  # None: no HEAD to compare with, every cluster
    index: Index | None = None  # the working tree's dependency index that answered it


def commit_scope(repo: Path, grepo: Any, pending: Pending, staged: str | None = None) -> Scope:
    """The paths the commit will change against HEAD, worked out as the pre-commit hook does
    (``validate --staged``) once generate's files are staged: what the index changes against HEAD,
    plus the generated files PENDING to stage (``pending_generated``). A superset: a path back to its
    HEAD content still counts. STAGED: what `git STAGED` printed, if the caller ran it already."""
    from gitops_gen.checks.validate import files_scope
    from gitops_gen.fleet import deps
    from gitops_gen.gitflow.git import staged_changes

    if not grepo.head.is_valid():
        return Scope([], None)
    changes = staged_changes(repo, staged)
    stale, gone = pending
    paths = sorted({c.path for c in changes} | {c.old for c in changes if c.old} | set(stale) | set(gone))
    index = deps.Index(repo, memory=deps.Memory.open(repo))
    return Scope(paths, files_scope(repo, paths, index), index)


def changed_clusters(repo: Path, scope: Scope) -> list[str]:
    """The clusters the commit's changes can affect (the dependency answer; nothing is rendered)."""
    from gitops_gen.fleet.render import fleet_clusters
    from gitops_gen.repo.tree import DiskTree

    names = fleet_clusters(DiskTree(repo))
    if scope.affected is None:
        return names
    gone = {c for c in scope.affected.clusters if c not in names}  # a removed cluster is a change too
    return sorted(set(scope.affected.names(names)) | gone)


def validation_problems(repo: Path, scope: Scope | None = None) -> list[Problem]:
    """The problems `gitops-gen validate` reports for the whole fleet, or, with SCOPE that changes
    something, what `validate FILE...` reports for the changed paths (the pre-commit hook's check)."""
    from gitops_gen.checks.validate import Known, validate
    from gitops_gen.repo.tree import DiskTree

    if scope is None or scope.affected is None or scope.affected.every or not scope.paths:
        # No paths: nothing differs from HEAD, and HEAD itself goes on (a push): the whole of it.
        return validate(DiskTree(repo))
    # What the hook checks, no more: the demand cache's id check sees a clash of a changed app with
    # an untouched one (the whole mapping is built then), so no second build of the clusters here.
    # The scope was answered as the hook answers it (``files_scope``): validate does not work it out again.
    known = Known(scope.paths, scope.affected, scope.index) if scope.index is not None else None
    return validate(DiskTree(repo), files=[repo / p for p in scope.paths], cwd=repo, known=known)


def stage_generated(grepo: Any, pending: Pending) -> None:
    """Make the index hold exactly what generate would write (PENDING, from ``pending_generated``)."""
    root = Path(grepo.working_tree_dir)
    stale, gone = pending
    if stale:
        _git_paths(root, ["add", "-f"], stale, "cannot stage the generated files")
    if gone:
        _git_paths(
            root,
            ["rm", "-q", "--cached", "--ignore-unmatch"],
            gone,
            "cannot unstage the generated files generate no longer writes",
        )


Pending = tuple[list[str], list[str]]


def pending_generated(root: Path, files: dict[str, bytes], listing: str | None = None) -> Pending:
    """(the generated FILES the index does not hold as they are (also ones current in the working tree
    but never committed), the generated files the index holds that generate no longer writes, whoever
    deleted them from the working tree: generate just now, or `disable` before): what staging the
    generated files adds and removes. LISTING: what `git INDEX` printed, if the caller ran it already."""
    from gitops_gen.fleet.generate import is_generated, is_generated_place

    staged = index_blobs(root, listing)
    # Only what the index does not hold already: `git add` matches every path given against the
    # whole index, so thousands of unchanged generated files cost seconds.
    stale = sorted(p for p, data in files.items() if staged.get(p) != blob_id(data))
    gone = []
    for path in sorted(staged):
        if path in files or not is_generated_place(path):
            continue
        full = root / path
        # A hand-written file at a generated place is the user's (generate refuses to overwrite it).
        if not full.is_file() or is_generated(full.read_bytes()[:64]):
            gone.append(path)
    return stale, gone


def blob_id(data: bytes) -> str:
    """The object id git gives a file holding DATA."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


INDEX = ("ls-files", "-s", "-z")


def index_blobs(root: Path, out: str | None = None) -> dict[str, str]:
    """path -> object id of every file in the index (one `git INDEX`)."""
    if out is None:
        out = run_git(root, *INDEX, what="cannot list the index")
    found: dict[str, str] = {}
    for entry in out.split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            found[path] = meta.split()[1]
    return found


def _git_paths(repo: Path, args: list[str], paths: list[str], what: str) -> None:
    """`git ARGS -- PATHS`, the paths given on stdin, taken literally (no glob magic)."""
    import subprocess

    from gitops_gen.gitflow.git import indented

    command = ["git", "--literal-pathspecs", *args, "--pathspec-from-file=-", "--pathspec-file-nul"]
    try:
        done = subprocess.run(
            command, cwd=repo, input="\0".join(paths).encode(), capture_output=True, check=False
        )
    except OSError as err:
        raise GitopsGenError(f"{what}: cannot run git: {err}") from None
    if done.returncode != 0:
        said = "\n".join(
            t.decode(errors="replace").strip("\n") for t in (done.stderr, done.stdout) if t.strip()
        )
        raise GitopsGenError(f"{what} (git exit {done.returncode}):{indented(said) or ' git said nothing'}")


def _staged_anything(grepo: Any) -> bool:
    import subprocess

    root = Path(grepo.working_tree_dir)
    if not grepo.head.is_valid():
        return bool(index_blobs(root))
    # git compares the trees itself; GitPython would read the whole index and HEAD's tree in Python.
    done = subprocess.run(["git", "diff", "--cached", "--quiet", "HEAD", "--"], cwd=root, check=False)
    if done.returncode not in (0, 1):
        raise GitopsGenError(f"cannot compare the index with HEAD (git exit {done.returncode})")
    return done.returncode == 1


def _check_index_lock(git_dir: Path) -> None:
    lock = git_dir / "index.lock"
    if lock.exists():
        from gitops_gen.repo.files import show

        raise GitopsGenError(
            "another git process is running in this repository, or a crashed one left this lock: "
            "remove it once no git command runs; nothing was changed",
            show(lock),
        )


def commit_generated(
    repo: Path,
    message: str,
    push: bool = False,
    rendered_to: Path | None = None,
    branch: str = "rendered",
    say: Say = _quiet,
) -> None:
    """Generate, validate, stage the generated files and commit (then push, then --rendered-to).

    Progress lines (what was written, the commit made) go to SAY.
    """
    from gitops_gen.fleet.generate import apply_plan
    from gitops_gen.fleet.planmemo import plan_tree
    from gitops_gen.repo.tree import DiskTree

    grepo = open_repo(repo)
    _check_index_lock(Path(grepo.git_dir))
    # Three read-only git commands run on other CPUs while generate plans; nothing is written before
    # the working tree's state is known, and the index is not touched until staging.
    status = GitCall(repo, *STATUS, what="cannot list the working tree's changes")
    listing = GitCall(repo, *INDEX, what="cannot list the index")
    staged = GitCall(repo, *STAGED, what="cannot list the staged changes") if grepo.head.is_valid() else None
    tree = DiskTree(repo)
    try:
        result: Plan | GitopsGenError = plan_tree(tree)
    except GitopsGenError as err:
        result = err  # an unstaged input is said first: it may be the very fix of this error
    listed = status.result()
    dirty = unstaged_inputs(grepo, listed)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise GitopsGenError(
            f"unstaged changes to input files: {shown}; stage them (git add) or stash them "
            "first, so the commit's generated files match its inputs"
        )
    if isinstance(result, GitopsGenError):
        raise result
    swept_temp_files(Path(grepo.working_tree_dir), listed)
    done = apply_plan(repo, result, sweep_all=False)
    pending = pending_generated(repo, result.files, listing.result())
    scope = commit_scope(repo, grepo, pending, staged.result() if staged is not None else None)
    # Nothing differs from HEAD and nothing leaves this machine: no commit is made, nothing to check.
    # (A push or a rendered branch sends HEAD on, which plain git may have committed unchecked.)
    idle = scope.affected is not None and not scope.paths and not push and rendered_to is None
    errors = [] if idle else [p for p in validation_problems(repo, scope) if p.severity == "error"]
    if errors:
        raise ValidationFailed(errors)
    # Render (and check the target) before the source commit: a fleet the branch cannot hold commits nothing.
    rendered = prepare_rendered(repo, rendered_to, branch) if rendered_to is not None else None
    stage_generated(grepo, pending)
    for path, what in done:
        say(f"{path}: {what}")
    if not _staged_anything(grepo):
        say("nothing to commit: generated files are current and nothing is staged")
        source = grepo.head.commit.hexsha if grepo.head.is_valid() else None
    else:
        clusters = changed_clusters(repo, scope)
        full = message.rstrip("\n")
        if clusters:
            full += "\n\nClusters: " + ", ".join(clusters)
        run_git(repo, "commit", "-q", "-m", full, what="git commit failed (generated files stay staged)")
        source = grepo.head.commit.hexsha
        say(
            f"committed {source[:12]}"
            + (f" ({len(clusters)} cluster(s): {', '.join(clusters)})" if clusters else "")
        )
    if push and source:
        run_git(repo, "push", "-q", what="git push failed (the local commit stays)")
        say("pushed")
    if rendered is not None:
        if source is None:
            raise GitopsGenError("--rendered-to needs a commit to name as the source")
        commit_rendered(rendered, source, push, say)
