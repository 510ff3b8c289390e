"""Test helper: the repo's example fleet copied into a temporary git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLEET_PARTS = ("gitops-gen.yaml", ".sourceignore", "clusters", "apps", "mapping")
VALIDATE_BASE = Path(__file__).resolve().parent / "data" / "validate" / "base-fleet"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def example_fleet_repo(dest: Path, source: Path = ROOT) -> Path:
    """A git repo holding a copy of SOURCE's fleet, committed once on branch main."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in FLEET_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "fleet@example.com")
    git(dest, "config", "user.name", "Fleet Tester")
    git(dest, "config", "commit.gpgsign", "false")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "fleet")
    return dest


def status(repo: Path) -> str:
    """Everything that says whether a command touched the repo: HEAD, index and worktree."""
    return (
        git(repo, "rev-parse", "HEAD")
        + git(repo, "status", "--porcelain", "--untracked-files=all")
        + git(repo, "diff")
        + git(repo, "diff", "--cached")
    )


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    """Replace the first OLD in the file REL of REPO with NEW (OLD must be there)."""
    path = repo / rel
    text = path.read_text()
    assert old in text, f"{rel} has no {old!r}"
    path.write_text(text.replace(old, new, 1))


def validate_base_fleet(dest: Path) -> Path:
    """A copy of the validate tests' base fleet (not a git repository)."""
    shutil.copytree(VALIDATE_BASE, dest)
    return dest
