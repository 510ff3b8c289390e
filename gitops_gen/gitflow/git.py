"""What every git workflow shares: opening a repository and reading git's reason for a failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_gen.errors import GitopsGenError


def open_repo(repo: Path) -> Any:
    import git

    try:
        return git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitopsGenError(f"{repo} is not a git repository") from None


def command_errors() -> tuple[type[Exception], ...]:
    """What a failing git command raises through gitpython: its exit status, or git not runnable."""
    import git

    return (git.GitCommandError, OSError)


def git_error(err: Exception) -> str:
    text = getattr(err, "stderr", "") or str(err)
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.strip().startswith("stderr:")]
    return (lines[-1] if lines else str(err)).strip("' ")
