"""`gitops-gen explain --cluster C KIND/NAME FIELD`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gitops_gen.provenance.explain import explain as explain_field
from gitops_gen.provenance.explain import format_text
from gitops_gen.repo.tree import DiskTree


def explain(repo: Path, cluster: str, obj: str, field: str, fmt: str) -> int:
    """The chain of files and lines that set FIELD of OBJ on CLUSTER."""
    report = explain_field(DiskTree(repo), cluster, obj, field)
    if fmt == "json":
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(format_text(report))
    return 0
