"""`gitops-gen diff --base REV [--head REV]`, `--shard I/N` and `--from-shards`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_gen import secrets
from gitops_gen.errors import GitopsGenError
from gitops_gen.report.diff import REPORTERS, WITH_SOURCES

if TYPE_CHECKING:
    from gitops_gen.fleet.shard import Shard


def diff(
    repo: Path,
    base: str,
    head: str | None,
    fmt: str,
    exit_code: bool,
    max_chars: int,
    shard: Shard | None = None,
    jobs: int | None = None,
) -> int:
    """Per-cluster rendered diff; with EXIT_CODE as `git diff --exit-code`: 0 same, 1 differs, 2 an error.
    SHARD: only that shard's clusters, written as a shard result (JSON) for `--from-shards` (exit 0).
    JOBS: worker processes (default: ``workers.default_jobs``)."""
    secrets.prefetch(repo)  # the values the output is scrubbed of, worked out while the diff renders
    try:
        if shard is not None:
            return _shard(repo, base, head, shard)
        from gitops_gen.cli.progress import Progress
        from gitops_gen.gitflow.diff import diff_revisions

        with Progress("diffing") as progress:
            fd = diff_revisions(
                repo, base, head, sources=fmt in WITH_SOURCES, on_progress=progress, jobs=jobs
            )
    except GitopsGenError as err:
        raise _with_exit_code(err, exit_code) from None
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](fd, max_chars)))
    return 1 if exit_code and fd.clusters else 0


def _with_exit_code(err: GitopsGenError, exit_code: bool) -> GitopsGenError:
    if exit_code:
        # 1 means "differs" here, so a failure must exit with something else.
        err.exit_code = max(err.exit_code, 2)
    return err


def _shard(repo: Path, base: str, head: str | None, shard: Shard) -> int:
    from gitops_gen.gitflow.shards import diff_shard
    from gitops_gen.report.shards import diff_json, document

    result = diff_shard(repo, base, head, shard)
    text = document("diff", shard, result.clusters, result.run, diff_json(result.diff, result.capacity))
    sys.stdout.write(secrets.scrub(text))
    return 0  # the verdict (--exit-code) is the merge's


def merge(paths: list[Path], fmt: str, exit_code: bool, max_chars: int) -> int:
    """What one unsharded run prints (and exits with), from the results of all its shards."""
    from gitops_gen.report.shards import merge_diff, read_results

    try:
        fd = merge_diff(read_results(paths, "diff"))
    except GitopsGenError as err:
        raise _with_exit_code(err, exit_code) from None
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](fd, max_chars)))
    return 1 if exit_code and fd.clusters else 0
