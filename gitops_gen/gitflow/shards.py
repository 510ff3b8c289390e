"""`diff --shard I/N`: the diff of one shard's clusters, with what a merge needs besides.

The same steps as ``diff.diff_revisions`` with sources, restricted to the shard's clusters: the
diff (``only=``), the capacity summary of those clusters (None when it cannot be computed, which
voids it in the merge as in one run), and the sources of the first cluster of each distinct
change (the one the markdown comment shows; ``report.shards`` merges).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.render import fleet_clusters
from gitops_gen.fleet.shard import Shard, split
from gitops_gen.gitflow.diff import FleetDiff, annotate_sources, diff_revisions
from gitops_gen.repo.tree import DiskTree, Tree

if TYPE_CHECKING:
    from gitops_gen.fleetview.change import PoolChange


def _capacity(
    base_tree: Tree, head_tree: Tree, base: str, head: str, moved: list[str]
) -> list[PoolChange] | None:
    """The capacity summary of MOVED, the shard's clusters whose inputs differ (as diff_revisions: supply
    and demand move only there); None when it cannot be computed."""
    from gitops_gen.fleetview.change import capacity_changes

    if not moved:
        return []
    try:
        return capacity_changes(base_tree, head_tree, base, head, clusters=moved)
    except GitopsGenError:  # as diff_revisions: the diff still says what changed
        return None


@dataclass
class DiffShard:
    diff: FleetDiff
    capacity: list[PoolChange] | None  # None: not computable here (one run shows none then)
    clusters: list[str]
    run: dict[str, Any]  # what was compared: the merge refuses shards of different runs


def head_commit(repo: Path) -> str | None:
    """The commit checked out at REPO (None: not a git work tree, or no commit yet): shards of one
    run were all made at the same one."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def diff_shard(repo: Path, base: str, head: str | None, shard: Shard) -> DiffShard:
    from gitops_gen.gitflow.git import open_repo
    from gitops_gen.gitflow.revision import BlobReader, RevisionTree

    grepo = open_repo(repo)
    blobs = BlobReader(repo)  # revisions read as diff_revisions reads them (GitTree: a git call per path)
    try:
        base_tree = RevisionTree(grepo, repo, base, blobs)
        head_rev = RevisionTree(grepo, repo, head, blobs) if head else None
        head_tree: Tree = head_rev if head_rev is not None else DiskTree(repo)
        names = sorted(set(fleet_clusters(base_tree)) | set(fleet_clusters(head_tree)))
        mine = split(shard, [head_tree, base_tree], names)
        # The diff itself as one run makes it (incremental: only clusters whose inputs differ render).
        fd = diff_revisions(repo, base, head, only=frozenset(mine))
        capacity = _capacity(base_tree, head_tree, base, head or "worktree", sorted(set(mine) & fd.rendered))
        seen: set[str] = set()
        for cd in fd.clusters:
            if cd.signature() not in seen:
                seen.add(cd.signature())
                annotate_sources(head_tree, cd)
    finally:
        blobs.close()
    run = {
        "base": base,
        "head": head,
        "baseCommit": base_tree.commit,
        "headCommit": head_rev.commit if head_rev is not None else head_commit(repo),
    }
    return DiffShard(fd, capacity, mine, run)
