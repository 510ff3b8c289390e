"""`gitops-gen render`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gitops_gen.cli.commands import warn
from gitops_gen.cli.progress import Progress
from gitops_gen.fleet.render import check_out_dir, fleet_clusters, render_fleet, select_clusters, write_out
from gitops_gen.repo.files import acquire_repo_lock
from gitops_gen.repo.tree import DiskTree

if TYPE_CHECKING:
    from gitops_gen.fleet.shard import Shard


def _collect(results: Iterable[tuple[str, str]], count: int) -> dict[str, str]:
    rendered: dict[str, str] = {}
    with Progress("rendering") as progress:
        for name, text in results:
            rendered[name] = text
            progress(len(rendered), count)
    return rendered


def render(
    repo: Path,
    clusters: list[str],
    out: Path | None,
    engine: str,
    jobs: int | None,
    applied: bool = False,
    shard: Shard | None = None,
) -> int:
    """Render each cluster's mapping; one file per cluster (stdout for exactly one --cluster).
    SHARD: only the clusters of that shard (the files of all shards together are one run's)."""
    tree = DiskTree(repo)
    names = select_clusters(tree, clusters)
    if shard is not None:
        from gitops_gen.fleet.shard import split

        if out is None:
            raise click.UsageError("--shard needs --out DIR")
        mine = set(split(shard, [tree], fleet_clusters(tree)))
        names = [n for n in names if n in mine]
    if out is None and len(names) != 1:
        raise click.UsageError("several clusters need --out DIR (or name exactly one with --cluster)")
    if out is not None:
        check_out_dir(repo, out)  # before the work of rendering
        acquire_repo_lock(repo)
    results = render_fleet(repo, names, engine, jobs, on_warning=warn, applied=applied)
    if out is None:
        for _, text in results:
            sys.stdout.write(text)
        return 0
    rendered = _collect(results, len(names))
    # Everything is rendered before anything is written: an error leaves --out untouched.
    for rel in write_out(repo, out, rendered, fleet_clusters(tree)):
        click.echo(f"{rel}: removed (its cluster is gone)", err=True)
    return 0
