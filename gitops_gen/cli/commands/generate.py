"""`gitops-gen generate [--check]`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.fleet.generate import apply_plan
from gitops_gen.fleet.planmemo import plan_tree
from gitops_gen.repo.files import acquire_repo_lock
from gitops_gen.repo.tree import DiskTree


def generate(repo: Path, check: bool) -> int:
    """Write every generated file; with CHECK only list what is stale (exit 1 when anything is)."""
    if not check:
        acquire_repo_lock(repo)
    tree = DiskTree(repo)
    result = plan_tree(tree)
    if check:
        for path, status in result.changes:
            click.echo(f"{path}: {status}")
        if result.changes:
            click.echo(
                f"gitops-gen: {len(result.changes)} generated file(s) out of date: run `gitops-gen generate`",
                err=True,
            )
            return 1
        return 0
    for path, what in apply_plan(repo, result):
        click.echo(f"{path}: {what}")
    return 0
