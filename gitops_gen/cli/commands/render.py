"""`gitops-gen render`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from gitops_gen.cli.commands import warn
from gitops_gen.fleet.render import render_fleet, select_clusters
from gitops_gen.repo.files import write_atomic_many
from gitops_gen.repo.tree import DiskTree


def _progress_wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def _collect(results: Iterable[tuple[str, str]], count: int) -> dict[str, str]:
    if not _progress_wanted():
        return dict(results)
    rendered: dict[str, str] = {}
    with click.progressbar(results, length=count, label="rendering", file=sys.stderr) as bar:
        for name, text in bar:
            rendered[name] = text
    return rendered


def render(repo: Path, clusters: list[str], out: Path | None, engine: str, jobs: int | None,
           applied: bool = False) -> int:
    """Render each cluster's mapping; one file per cluster (stdout for exactly one --cluster)."""
    names = select_clusters(DiskTree(repo), clusters)
    if out is None and len(names) != 1:
        raise click.UsageError("several clusters need --out DIR (or name exactly one with --cluster)")
    results = render_fleet(repo, names, engine, jobs, on_warning=warn, applied=applied)
    if out is None:
        for _, text in results:
            sys.stdout.write(text)
        return 0
    rendered = _collect(results, len(names))
    # Everything is rendered before anything is written: an error leaves --out untouched.
    out.mkdir(parents=True, exist_ok=True)
    write_atomic_many((out / f"{name}.yaml", text.encode()) for name, text in rendered.items())
    return 0
