"""What the authoring commands share: load the fleet, apply a planned change, say what it did."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.authoring.plan import Change, apply_change
from gitops_gen.fleet.inventory import Fleet, load_fleet
from gitops_gen.repo.files import acquire_repo_lock
from gitops_gen.repo.tree import DiskTree


def load(repo: Path) -> tuple[DiskTree, Fleet]:
    """The fleet, read under the repository lock (held until exit), so the change is planned on
    the files it will replace."""
    acquire_repo_lock(repo)
    tree = DiskTree(repo)
    return tree, load_fleet(tree)


def apply(repo: Path, change: Change) -> int:
    """Write CHANGE (see apply_change) and list its notes, the files touched and the clusters affected."""
    for note in change.notes:
        click.echo(f"note: {note}")
    if not change.files:
        click.echo("nothing to change")
        return 0
    for path, what in apply_change(repo, change):
        click.echo(f"{path}: {what}")
    click.echo(f"clusters affected: {', '.join(change.clusters) or 'none'}")
    return 0
