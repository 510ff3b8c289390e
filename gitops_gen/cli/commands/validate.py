"""`gitops-gen validate [FILE...]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen.checks.validate import exit_code
from gitops_gen.checks.validate import validate as run_checks
from gitops_gen.errors import problems_as_json, problems_as_text
from gitops_gen.repo.tree import DiskTree


def validate(repo: Path, clusters: list[str], files: list[Path], fmt: str) -> int:
    """Every check; exit 1 when any problem is an error."""
    problems = run_checks(DiskTree(repo), clusters, files)
    sys.stdout.write(problems_as_json(problems) if fmt == "json" else problems_as_text(problems))
    return exit_code(problems)
