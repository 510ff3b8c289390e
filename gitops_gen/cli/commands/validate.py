"""`gitops-gen validate [FILE...]`, `--shard I/N`, `--from-shards` and `validate --list-rules`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_gen import secrets
from gitops_gen.checks import registry
from gitops_gen.checks.validate import exit_code
from gitops_gen.cli.progress import Progress
from gitops_gen.errors import Problem
from gitops_gen.repo.tree import DiskTree
from gitops_gen.report.problems import REPORTERS

if TYPE_CHECKING:
    from gitops_gen.fleet.shard import Shard


def validate(
    repo: Path,
    clusters: list[str],
    files: list[Path],
    fmt: str,
    staged: bool = False,
    strict: bool = False,
    shard: Shard | None = None,
    jobs: int | None = None,
) -> int:
    """Every check (of the clusters FILES, or the staged changes, affect); exit 1 when any problem is an
    error (with STRICT: when there is any problem at all). SHARD: only that shard's clusters (and, in
    shard 1, the fleet-wide checks), written as a shard result (JSON) for `--from-shards`; exit 0 once
    written (the merge gives the verdict). JOBS: worker processes (``workers.worker_count``)."""
    if shard is not None:
        return _shard(repo, clusters, files, staged, shard)
    from gitops_gen.checks.validate import validate as run_checks

    with Progress("validating") as progress:
        problems = run_checks(DiskTree(repo), clusters, files, staged=staged, on_progress=progress, jobs=jobs)
    return _report(problems, fmt, strict)


def _report(problems: list[Problem], fmt: str, strict: bool) -> int:
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](problems)))
    return 1 if strict and problems else exit_code(problems)


def _shard(repo: Path, clusters: list[str], files: list[Path], staged: bool, shard: Shard) -> int:
    from gitops_gen.checks.validate import cluster_names, validate_part
    from gitops_gen.fleet.shard import split
    from gitops_gen.gitflow.shards import head_commit
    from gitops_gen.report.shards import document, part_json

    tree = DiskTree(repo)
    # Every cluster with a cluster.yaml, broken or not: the one set all shards split the same way.
    mine = split(shard, [tree], cluster_names(tree))
    part = validate_part(tree, clusters, files, staged=staged, shard=frozenset(mine), fleet_wide=shard.first)
    run = {
        "clusters": sorted(set(clusters)),
        "files": [str(f) for f in files],
        "staged": staged,
        "commit": head_commit(repo),
    }
    sys.stdout.write(secrets.scrub(document("validate", shard, mine, run, part_json(part))))
    return 0  # the verdict is the merge's: a shard alone cannot judge the fleet-wide sums


def merge(paths: list[Path], fmt: str, strict: bool) -> int:
    """What one unsharded validate prints (and exits with), from the results of all its shards."""
    from gitops_gen.report.shards import merge_validate, read_results

    return _report(merge_validate(read_results(paths, "validate")), fmt, strict)


def list_rules(fmt: str) -> int:
    """Every registered rule with its default severity and scope (json: as objects; else aligned text)."""
    if fmt == "json":
        sys.stdout.write(json.dumps([asdict(rule) for rule in registry.RULES], indent=2) + "\n")
    else:
        sys.stdout.write(registry.listing())
    return 0
