"""`gitops-gen enable|disable APP`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen.authoring.edits import parse_assignments
from gitops_gen.authoring.plan import plan_enable
from gitops_gen.cli.commands._change import apply, load


def enable(repo: Path, app: str, enabled: bool, clusters: list[str], where: list[str]) -> int:
    """Enable (or disable) APP on the named clusters or on those matching every KEY=VALUE of WHERE."""
    if not clusters and not where:
        raise click.UsageError("give --cluster C or --where KEY=VALUE")
    if clusters and where:
        raise click.UsageError("give --cluster C or --where KEY=VALUE, not both")
    tree, fleet = load(repo)
    return apply(repo, plan_enable(tree, fleet, app, enabled, clusters, parse_assignments(where, "--where")))
