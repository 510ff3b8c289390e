"""Symlinks and kustomize's load restrictor, read from disk and from git objects alike.

The symlink cases in tests/cases (expected output from kubectl) run through test_cases.py
from disk; here the same folders are committed to a scratch repository and built from the
commit (`diff` reads revisions that way), which must give kubectl's output too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import git
import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import GitTree

CASES_DIR = Path(__file__).parents[1] / "cases"


def _has_symlink(case: Path) -> bool:
    return any(os.path.islink(os.path.join(d, n)) for d, dirs, files in os.walk(case) for n in dirs + files)


SYMLINK_CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir() and _has_symlink(p))


def test_the_symlink_cases_are_checked_out_as_symlinks() -> None:
    """A checkout without symlinks (core.symlinks=false) turns them into text files: say so, do not pass."""
    names = {p.name for p in SYMLINK_CASES}
    assert "load-restrictor-symlinks-followed" in names
    assert len([n for n in names if n.startswith("error-load-restrictor-symlink-")]) >= 5


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> GitTree:
    root = tmp_path_factory.mktemp("symlink-cases")
    for case in SYMLINK_CASES:
        shutil.copytree(case, root / case.name, symlinks=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "cases"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return GitTree(git.Repo(root), "HEAD")


@pytest.mark.parametrize("case", SYMLINK_CASES, ids=lambda p: p.name)
def test_symlink_case_from_git_objects(case: Path, committed: GitTree) -> None:
    engine = Engine(committed, warnings=False)
    expected = case / "expected.yaml"
    if expected.exists():
        assert engine.render(case.name) == expected.read_text()
    else:
        with pytest.raises(GitopsGenError) as err:
            engine.render(case.name)
        assert err.value.path is not None and err.value.path.startswith(f"HEAD:{case.name}/")
