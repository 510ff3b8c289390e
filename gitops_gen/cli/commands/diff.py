"""`gitops-gen diff --base REV [--head REV]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen.gitflow.diff import as_json, diff_revisions, format_markdown, format_text


def diff(repo: Path, base: str, head: str | None, fmt: str, exit_code: bool, max_chars: int) -> int:
    """Per-cluster rendered diff; with EXIT_CODE exit 1 when anything differs."""
    fd = diff_revisions(repo, base, head, sources=fmt == "markdown")
    if fmt == "json":
        sys.stdout.write(as_json(fd))
    elif fmt == "markdown":
        sys.stdout.write(format_markdown(fd, max_chars))
    else:
        sys.stdout.write(format_text(fd))
    return 1 if exit_code and fd.clusters else 0
