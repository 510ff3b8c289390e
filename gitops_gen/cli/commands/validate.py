"""`gitops-gen validate [FILE...]` and `validate --list-rules`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from gitops_gen import secrets
from gitops_gen.checks import registry
from gitops_gen.checks.validate import exit_code
from gitops_gen.checks.validate import validate as run_checks
from gitops_gen.cli.progress import Progress
from gitops_gen.repo.tree import DiskTree
from gitops_gen.report.problems import REPORTERS


def validate(
    repo: Path, clusters: list[str], files: list[Path], fmt: str, staged: bool = False, strict: bool = False
) -> int:
    """Every check (of the clusters FILES, or the staged changes, affect); exit 1 when any problem is an
    error (with STRICT: when there is any problem at all)."""
    with Progress("validating") as progress:
        problems = run_checks(DiskTree(repo), clusters, files, staged=staged, on_progress=progress)
    sys.stdout.write(secrets.scrub(REPORTERS[fmt](problems)))
    return 1 if strict and problems else exit_code(problems)


def list_rules(fmt: str) -> int:
    """Every registered rule with its default severity and scope (json: as objects; else aligned text)."""
    if fmt == "json":
        sys.stdout.write(json.dumps([asdict(rule) for rule in registry.RULES], indent=2) + "\n")
    else:
        sys.stdout.write(registry.listing())
    return 0
