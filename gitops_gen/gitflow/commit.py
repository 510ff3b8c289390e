"""`gitops-gen commit`: generate, validate, then commit the generated files with git.

A commit never holds generated files that disagree with its inputs: unstaged or
untracked edits to input files are refused, the generated files are staged next to
what the user staged, and nothing is committed when nothing changed. Validation is what the
pre-commit hook runs (`validate FILE...` over every path the commit changes against HEAD,
generated files included; a full validate when gitops-gen.yaml changes or there is no HEAD),
and the "Clusters:" trailer names the clusters those paths can affect (``gitflow.diff``'s
dependency answer): nothing is rendered twice.
``--rendered-to PATH`` then writes the rendered-manifests branch (see
``gitops_gen.gitflow.rendered``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.gitflow.git import open_repo, run_git
from gitops_gen.gitflow.rendered import commit_rendered, prepare_rendered

if TYPE_CHECKING:
    from gitops_gen.fleet.deps import Affected

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


def unstaged_inputs(grepo: Any) -> list[str]:
    """Input files edited but not staged, or untracked: the inventory, the config, anything under apps/,
    and any other file a kustomization reads. Committing without them would commit what was not validated."""
    from gitops_gen.fleet.layout import is_generated

    root = Path(grepo.working_tree_dir)
    paths = {d.a_path for d in grepo.index.diff(None)} | set(grepo.untracked_files)
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


@dataclass
class Scope:
    """What a commit changes against HEAD (staged and generated alike) and the clusters it can affect."""

    paths: list[str]
    affected: Affected | None  # None: no HEAD to compare with, every cluster


def commit_scope(repo: Path, grepo: Any) -> Scope:
    """The paths the working tree changes against HEAD, after generate: what the commit will hold
    (unstaged input edits were refused) plus files that do not matter to any cluster."""
    from gitops_gen.gitflow.diff import affected_clusters
    from gitops_gen.gitflow.revision import BlobReader, RevisionTree

    if not grepo.head.is_valid():
        return Scope([], None)
    blobs = BlobReader(repo)
    try:
        head = RevisionTree(grepo, repo, "HEAD", blobs)
        paths, affected = affected_clusters(repo, head, None, complete=False)
    except GitopsGenError:  # HEAD's tree cannot be read or compared: check and name every cluster
        return Scope([], None)
    finally:
        blobs.close()
    return Scope(paths, affected)


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
    """The problems `gitops-gen validate` reports for the whole fleet, or, with SCOPE, what
    `validate FILE...` reports for the changed paths (the pre-commit hook's check)."""
    from gitops_gen.checks.validate import validate
    from gitops_gen.repo.tree import DiskTree

    if scope is None or scope.affected is None or scope.affected.every:
        return validate(DiskTree(repo))
    # What the hook checks, no more: the demand cache's id check sees a clash of a changed app with
    # an untouched one (the whole mapping is built then), so no second build of the clusters here.
    return validate(DiskTree(repo), files=[repo / p for p in scope.paths], cwd=repo)


def stage_generated(grepo: Any, files: dict[str, bytes]) -> None:
    """Make the index hold exactly what generate would write: FILES added (also ones already current but
    never committed), and every generated file the index still has but generate no longer writes removed,
    whoever deleted it from the working tree (generate just now, or `disable` before)."""
    from gitops_gen.fleet.generate import is_generated, is_generated_place

    root = Path(grepo.working_tree_dir)
    staged = index_blobs(root)
    # Only what the index does not hold already: `git add` matches every path given against the
    # whole index, so thousands of unchanged generated files cost seconds.
    stale = sorted(p for p, data in files.items() if staged.get(p) != blob_id(data))
    if stale:
        _git_paths(root, ["add", "-f"], stale, "cannot stage the generated files")
    gone = []
    for path in sorted(staged):
        if path in files or not is_generated_place(path):
            continue
        full = root / path
        # A hand-written file at a generated place is the user's (generate refuses to overwrite it).
        if not full.is_file() or is_generated(full.read_bytes()[:64]):
            gone.append(path)
    if gone:
        _git_paths(
            Path(grepo.working_tree_dir),
            ["rm", "-q", "--cached", "--ignore-unmatch"],
            gone,
            "cannot unstage the generated files generate no longer writes",
        )


def blob_id(data: bytes) -> str:
    """The object id git gives a file holding DATA."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def index_blobs(root: Path) -> dict[str, str]:
    """path -> object id of every file in the index (one `git ls-files`)."""
    out = run_git(root, "ls-files", "-s", "-z", what="cannot list the index")
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
    from gitops_gen.fleet.generate import apply_plan, plan
    from gitops_gen.fleet.inventory import load_fleet
    from gitops_gen.repo.tree import DiskTree

    grepo = open_repo(repo)
    _check_index_lock(Path(grepo.git_dir))
    dirty = unstaged_inputs(grepo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise GitopsGenError(
            f"unstaged changes to input files: {shown}; stage them (git add) or stash them "
            "first, so the commit's generated files match its inputs"
        )
    tree = DiskTree(repo)
    result = plan(tree, load_fleet(tree))
    done = apply_plan(repo, result)
    scope = commit_scope(repo, grepo)
    errors = [p for p in validation_problems(repo, scope) if p.severity == "error"]
    if errors:
        raise ValidationFailed(errors)
    # Render (and check the target) before the source commit: a fleet the branch cannot hold commits nothing.
    rendered = prepare_rendered(repo, rendered_to, branch) if rendered_to is not None else None
    stage_generated(grepo, result.files)
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
