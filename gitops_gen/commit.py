"""`gitops-gen commit`: generate, validate, then commit the generated files with git.

A commit never holds generated files that disagree with its inputs: unstaged or
untracked edits to input files are refused, the generated files are staged next to
what the user staged, and nothing is committed when nothing changed.

``--rendered-to PATH`` is the rendered-manifests pattern: every cluster's objects
are written as plain YAML into the git repository at PATH, one file per object at
``<cluster>/<namespace or _cluster>/<kind>-<name>.yaml``, on a dedicated branch,
so Flux or Argo CD can apply them without running kustomize.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from gitops_gen.errors import GitopsGenError, Problem

INPUT = re.compile(r"^(gitops-gen\.yaml|clusters/[^/]+/cluster\.yaml|apps/.+)$")
CLUSTER_SCOPED_DIR = "_cluster"


def _git_repo(repo: Path) -> Any:
    import git

    try:
        return git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitopsGenError(f"{repo} is not a git repository") from None


def _git_error(err: Exception) -> str:
    text = getattr(err, "stderr", "") or str(err)
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.strip().startswith("stderr:")]
    return (lines[-1] if lines else str(err)).strip("' ")


def unstaged_inputs(grepo: Any) -> list[str]:
    """Input files (inventory, config, anything under apps/) edited but not staged, or untracked."""
    from gitops_gen.generate import is_generated

    paths = {d.a_path for d in grepo.index.diff(None)} | set(grepo.untracked_files)
    out = []
    for path in sorted(paths):
        if not INPUT.match(path):
            continue
        full = Path(grepo.working_tree_dir) / path
        # Generated variants live under apps/ too; generate rewrites them, so their state does not matter.
        if full.is_file() and is_generated(full.read_bytes()[:64]):
            continue
        if "/overlays/" in path and not full.exists():
            continue
        out.append(path)
    return out


def changed_clusters(repo: Path, grepo: Any) -> list[str]:
    """Clusters whose rendered output differs between HEAD and the working tree."""
    from gitops_gen.diff import diff_trees
    from gitops_gen.render import fleet_clusters
    from gitops_gen.tree import DiskTree, GitTree

    head = DiskTree(repo)
    if not grepo.head.is_valid():
        return fleet_clusters(head)
    try:
        fd = diff_trees(GitTree(grepo, "HEAD"), head, "HEAD", "worktree")
    except GitopsGenError:
        return fleet_clusters(head)
    return [c.name for c in fd.clusters]


def validation_problems(repo: Path) -> list[Problem]:
    """Every problem `gitops-gen validate` reports for the whole fleet."""
    from gitops_gen.tree import DiskTree
    from gitops_gen.validate import validate

    return validate(DiskTree(repo))


def _staged_anything(grepo: Any) -> bool:
    if not grepo.head.is_valid():
        return len(grepo.index.entries) > 0
    return bool(grepo.index.diff("HEAD"))


def cmd_commit(repo: Path, message: str, push: bool = False, rendered_to: Path | None = None,
               branch: str = "rendered") -> int:
    from gitops_gen.generate import apply_plan, plan
    from gitops_gen.inventory import load_fleet
    from gitops_gen.tree import DiskTree

    grepo = _git_repo(repo)
    dirty = unstaged_inputs(grepo)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise GitopsGenError(f"unstaged changes to input files: {shown}; stage them (git add) or stash them "
                             "first, so the commit's generated files match its inputs")
    tree = DiskTree(repo)
    result = plan(tree, load_fleet(tree))
    done = apply_plan(repo, result)
    removed = [p for p, what in done if what == "removed"]
    errors = [p for p in validation_problems(repo) if p.severity == "error"]
    if errors:
        for p in errors:
            click.echo(p.format(), err=True)
        raise GitopsGenError(f"validation failed with {len(errors)} error(s); nothing committed "
                             "(generated files were updated in the working tree)")
    # Stage every generated file: also the ones already current but never committed.
    if result.files:
        grepo.index.add(sorted(result.files))
    if removed:
        grepo.index.remove(removed, working_tree=False, ignore_unmatch=True)
    for path, what in done:
        click.echo(f"{path}: {what}")
    if not _staged_anything(grepo):
        click.echo("nothing to commit: generated files are current and nothing is staged")
        source = grepo.head.commit.hexsha if grepo.head.is_valid() else None
    else:
        clusters = changed_clusters(repo, grepo)
        full = message.rstrip("\n")
        if clusters:
            full += "\n\nClusters: " + ", ".join(clusters)
        try:
            grepo.git.commit("-m", full)
        except Exception as err:
            raise GitopsGenError(f"git commit failed: {_git_error(err)}") from None
        source = grepo.head.commit.hexsha
        click.echo(f"committed {source[:12]}" + (f" ({len(clusters)} cluster(s): {', '.join(clusters)})"
                                                   if clusters else ""))
    if push and source:
        try:
            grepo.git.push()
        except Exception as err:
            raise GitopsGenError(f"git push failed (the local commit stays): {_git_error(err)}") from None
        click.echo("pushed")
    if rendered_to is not None:
        if source is None:
            raise GitopsGenError("--rendered-to needs a commit to name as the source")
        commit_rendered(repo, rendered_to, branch, source, push)
    return 0


def object_path(cluster: str, obj: dict[str, Any]) -> str:
    md = obj.get("metadata") or {}
    ns = md.get("namespace") or CLUSTER_SCOPED_DIR
    kind = str(obj.get("kind", "object")).lower()
    name = str(md.get("name", "unnamed"))
    return f"{cluster}/{ns}/{kind}-{name}.yaml"


def render_files(repo: Path) -> dict[str, bytes]:
    from gitops_gen.build import Engine, ParseCache
    from gitops_gen.render import DocumentCache, fleet_clusters
    from gitops_gen.tree import DiskTree

    tree = DiskTree(repo)
    engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
    docs = DocumentCache()
    files: dict[str, bytes] = {}
    for cluster in fleet_clusters(tree):
        for res in engine.build(f"mapping/{cluster}"):
            files[object_path(cluster, res.obj)] = docs.dump(res.obj).encode()
    return files


def commit_rendered(repo: Path, target: Path, branch: str, source: str, push: bool) -> None:
    """Write every cluster's objects into TARGET's BRANCH and commit when anything changed."""
    from gitops_gen.files import write_atomic

    files = render_files(repo)
    trepo = _git_repo(target)
    if trepo.is_dirty(untracked_files=True):
        raise GitopsGenError(f"{target} has uncommitted changes; --rendered-to needs a clean repository")
    try:
        if branch in [h.name for h in trepo.heads]:
            trepo.git.checkout(branch)
        elif trepo.head.is_valid():
            trepo.git.checkout("--orphan", branch)
            trepo.git.rm("-rfq", "--cached", ".")
            for path in trepo.untracked_files:
                (Path(target) / path).unlink()
        else:
            trepo.git.checkout("-B", branch)
    except Exception as err:
        raise GitopsGenError(f"cannot switch {target} to branch {branch}: {_git_error(err)}") from None
    root = Path(trepo.working_tree_dir)
    tracked = {e[0] for e in trepo.index.entries}
    managed = {p for p in tracked if p.endswith(".yaml")}
    for rel, data in files.items():
        full = root / rel
        if not full.exists() or full.read_bytes() != data:
            write_atomic(full, data)
    stale = sorted(managed - set(files))
    for rel in stale:
        (root / rel).unlink(missing_ok=True)
    if files:
        trepo.index.add(sorted(files))
    if stale:
        trepo.index.remove(stale, working_tree=False, ignore_unmatch=True)
    if trepo.head.is_valid() and not trepo.index.diff("HEAD") and branch == trepo.active_branch.name \
            and trepo.head.commit.tree.hexsha == trepo.index.write_tree().hexsha:
        click.echo(f"rendered manifests in {target} ({branch}) already current")
        return
    clusters = sorted({p.split("/", 1)[0] for p in files})
    msg = f"Render {source[:12]}: {len(clusters)} cluster(s)\n\nSource-Commit: {source}\n"
    try:
        trepo.git.commit("-m", msg)
    except Exception as err:
        raise GitopsGenError(f"git commit in {target} failed: {_git_error(err)}") from None
    click.echo(f"rendered manifests committed in {target} ({branch}) {trepo.head.commit.hexsha[:12]}")
    if push:
        try:
            trepo.git.push("-u", "origin", branch)
        except Exception as err:
            raise GitopsGenError(f"git push of {branch} failed (the local commit stays): {_git_error(err)}") \
                from None

