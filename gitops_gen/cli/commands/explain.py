"""`gitops-gen explain --cluster C KIND/NAME FIELD`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen import secrets
from gitops_gen.provenance.explain import explain as explain_field
from gitops_gen.repo.tree import DiskTree
from gitops_gen.report.explain import REPORTERS


def explain(repo: Path, cluster: str, obj: str, field: str, fmt: str) -> int:
    """The chain of files and lines that set FIELD of OBJ on CLUSTER."""
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](explain_field(DiskTree(repo), cluster, obj, field))))
    return 0
