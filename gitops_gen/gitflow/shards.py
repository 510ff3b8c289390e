"""`diff --shard I/N`: the diff of one shard's clusters, with what a merge needs besides.

The same steps as ``diff.diff_revisions`` with sources, restricted to the shard's clusters: the
diff (``only=``), the capacity summary of those clusters (None when it cannot be computed, which
voids it in the merge as in one run), and the sources of the first cluster of each distinct
change (the one the markdown comment shows; ``report.shards`` merges).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.render import fleet_clusters
from gitops_gen.fleet.shard import Shard, split
from gitops_gen.gitflow.diff import FleetDiff, annotate_sources, diff_revisions
from gitops_gen.repo.tree import DiskTree, GitTree, Tree

if TYPE_CHECKING:
    from gitops_gen.fleetview.change import PoolChange


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
    from gitops_gen.fleetview.change import capacity_changes
    from gitops_gen.gitflow.git import open_repo

    grepo = open_repo(repo)
    base_tree = GitTree(grepo, base)
    head_tree: Tree = GitTree(grepo, head) if head else DiskTree(repo)
    head_label = head or "worktree"
    names = sorted(set(fleet_clusters(base_tree)) | set(fleet_clusters(head_tree)))
    mine = split(shard, [head_tree, base_tree], names)
    # The diff itself as one run makes it (incremental: only clusters whose inputs differ render).
    fd = diff_revisions(repo, base, head, only=frozenset(mine))
    capacity: list[PoolChange] | None = []
    if mine:
        capacity = None
        with contextlib.suppress(GitopsGenError):  # as diff_revisions: the diff still says what changed
            capacity = capacity_changes(base_tree, head_tree, base, head_label, clusters=mine)
    seen: set[str] = set()
    for cd in fd.clusters:
        if cd.signature() not in seen:
            seen.add(cd.signature())
            annotate_sources(head_tree, cd)
    run = {
        "base": base,
        "head": head,
        "baseCommit": base_tree.commit.hexsha,
        "headCommit": head_tree.commit.hexsha if isinstance(head_tree, GitTree) else head_commit(repo),
    }
    return DiffShard(fd, capacity, mine, run)
