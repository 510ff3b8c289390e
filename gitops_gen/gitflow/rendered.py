"""``commit --rendered-to PATH``: the rendered-manifests pattern.

Every cluster's objects are written as plain YAML into the git repository at
PATH, one file per object at ``<cluster>/<namespace or _cluster>/<kind>-<name>.yaml``,
on a dedicated branch, so Flux or Argo CD can apply them without running kustomize.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.gitflow.git import command_errors, git_error, open_repo

CLUSTER_SCOPED_DIR = "_cluster"


def object_path(cluster: str, obj: dict[str, Any]) -> str:
    md = obj.get("metadata") or {}
    ns = md.get("namespace") or CLUSTER_SCOPED_DIR
    kind = str(obj.get("kind", "object")).lower()
    name = str(md.get("name", "unnamed"))
    return f"{cluster}/{ns}/{kind}-{name}.yaml"


def render_files(repo: Path) -> dict[str, bytes]:
    from gitops_gen.fleet.render import DocumentCache, fleet_clusters
    from gitops_gen.kustomize.build import Engine, ParseCache
    from gitops_gen.repo.tree import DiskTree

    tree = DiskTree(repo)
    engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
    docs = DocumentCache()
    files: dict[str, bytes] = {}
    for cluster in fleet_clusters(tree):
        for res in engine.build(f"mapping/{cluster}"):
            files[object_path(cluster, res.obj)] = docs.dump(res.obj).encode()
    return files


def commit_rendered(repo: Path, target: Path, branch: str, source: str, push: bool,
                    say: Callable[[str], None] | None = None) -> None:
    """Write every cluster's objects into TARGET's BRANCH and commit when anything changed; SAY hears what."""
    say = say or (lambda _: None)
    from gitops_gen.repo.files import write_atomic

    files = render_files(repo)
    trepo = open_repo(target)
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
    except command_errors() as err:
        raise GitopsGenError(f"cannot switch {target} to branch {branch}: {git_error(err)}") from None
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
        say(f"rendered manifests in {target} ({branch}) already current")
        return
    clusters = sorted({p.split("/", 1)[0] for p in files})
    msg = f"Render {source[:12]}: {len(clusters)} cluster(s)\n\nSource-Commit: {source}\n"
    try:
        trepo.git.commit("-m", msg)
    except command_errors() as err:
        raise GitopsGenError(f"git commit in {target} failed: {git_error(err)}") from None
    say(f"rendered manifests committed in {target} ({branch}) {trepo.head.commit.hexsha[:12]}")
    if push:
        try:
            trepo.git.push("-u", "origin", branch)
        except command_errors() as err:
            raise GitopsGenError(f"git push of {branch} failed (the local commit stays): {git_error(err)}") \
                from None

