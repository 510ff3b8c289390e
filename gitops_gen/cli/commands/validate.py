"""`gitops-gen validate [FILE...]` and `validate --list-rules`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from gitops_gen.checks import registry
from gitops_gen.checks.validate import exit_code
from gitops_gen.checks.validate import validate as run_checks
from gitops_gen.errors import problems_as_json, problems_as_text
from gitops_gen.repo.tree import DiskTree


def validate(repo: Path, clusters: list[str], files: list[Path], fmt: str) -> int:
    """Every check; exit 1 when any problem is an error."""
    problems = run_checks(DiskTree(repo), clusters, files)
    sys.stdout.write(problems_as_json(problems) if fmt == "json" else problems_as_text(problems))
    return exit_code(problems)


def list_rules(fmt: str) -> int:
    """Every registered rule with its default severity and scope."""
    if fmt == "json":
        sys.stdout.write(json.dumps([asdict(rule) for rule in registry.RULES], indent=2) + "\n")
    else:
        sys.stdout.write(registry.listing())
    return 0
