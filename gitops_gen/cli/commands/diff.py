"""`gitops-gen diff --base REV [--head REV]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen import secrets
from gitops_gen.errors import GitopsGenError
from gitops_gen.gitflow.diff import diff_revisions
from gitops_gen.report.diff import REPORTERS, WITH_SOURCES


def diff(repo: Path, base: str, head: str | None, fmt: str, exit_code: bool, max_chars: int) -> int:
    """Per-cluster rendered diff; with EXIT_CODE as `git diff --exit-code`: 0 same, 1 differs, 2 an error."""
    try:
        fd = diff_revisions(repo, base, head, sources=fmt in WITH_SOURCES)
    except GitopsGenError as err:
        if exit_code:
            # 1 means "differs" here, so a failure must exit with something else.
            err.exit_code = max(err.exit_code, 2)
        raise
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](fd, max_chars)))
    return 1 if exit_code and fd.clusters else 0
