"""`gitops-gen diff --base REV [--head REV]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen.gitflow.diff import diff_revisions
from gitops_gen.report.diff import REPORTERS, WITH_SOURCES


def diff(repo: Path, base: str, head: str | None, fmt: str, exit_code: bool, max_chars: int) -> int:
    """Per-cluster rendered diff; with EXIT_CODE exit 1 when anything differs."""
    fd = diff_revisions(repo, base, head, sources=fmt in WITH_SOURCES)
    sys.stdout.write(REPORTERS[fmt](fd, max_chars))
    return 1 if exit_code and fd.clusters else 0
