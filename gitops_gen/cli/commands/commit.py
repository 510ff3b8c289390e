"""`gitops-gen commit -m MESSAGE`."""

from __future__ import annotations

from pathlib import Path

import click

from gitops_gen import secrets
from gitops_gen.gitflow.commit import ValidationFailed, commit_generated
from gitops_gen.repo.files import acquire_repo_lock


def commit(repo: Path, message: str, push: bool, rendered_to: Path | None, branch: str) -> int:
    """Generate, validate, then commit the generated files; the errors that stop it go to stderr first."""
    acquire_repo_lock(repo)
    try:
        commit_generated(repo, message, push, rendered_to, branch, say=click.echo)
    except ValidationFailed as err:
        for problem in err.problems:
            click.echo(secrets.scrub(problem.format()), err=True)
        raise
    return 0
