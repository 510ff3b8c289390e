"""`gitops-gen report`: the capacity ledger and the version matrix, or with --base what a change does to them."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen.fleetview.render import report_text
from gitops_gen.repo.files import write_atomic


def report(
    repo: Path, fmt: str, clusters: list[str], base: str | None, head: str | None, out: Path | None
) -> int:
    text = report_text(repo, fmt, clusters, base, head)
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text.encode())
    return 0
