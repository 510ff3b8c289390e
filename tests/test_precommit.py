"""The real pre-commit framework runs our hook definition and blocks a bad commit.

The hook repository is a temporary git repo built from this working tree's files
(.pre-commit-hooks.yaml, pyproject.toml, gitops_gen/), so the test does not depend on
what is committed. It uses the ``gitops-gen-validate-system`` hook: the ``language:
python`` hook makes pre-commit pip-install the repository and its dependencies into a
fresh virtualenv, which needs a package index (network); the system hook runs the
gitops-gen already installed in this venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "data" / "validate" / "base-fleet"
BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed in this venv"),
]


def git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False,
                          timeout=120)


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "HOME": str(tmp / "home"),
        "PRE_COMMIT_HOME": str(tmp / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    (tmp / "home").mkdir(exist_ok=True)
    return env


def hook_repo(tmp: Path, env: dict[str, str]) -> tuple[Path, str]:
    repo = tmp / "hooks"
    repo.mkdir()
    shutil.copy2(ROOT / ".pre-commit-hooks.yaml", repo)
    shutil.copy2(ROOT / "pyproject.toml", repo)
    shutil.copytree(ROOT / "gitops_gen", repo / "gitops_gen", ignore=shutil.ignore_patterns("__pycache__"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "hooks"]):
        assert git(repo, *args, env=env).returncode == 0
    return repo, git(repo, "rev-parse", "HEAD", env=env).stdout.strip()


def test_hook_definitions() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"gitops-gen-validate", "gitops-gen-validate-system"}
    for hook in hooks.values():
        assert hook["entry"] == "gitops-gen validate" and hook["files"] == r"\.ya?ml$"
        assert hook["pass_filenames"] is True
    assert hooks["gitops-gen-validate"]["language"] == "python"
    assert hooks["gitops-gen-validate-system"]["language"] == "system"


def test_commit_with_a_bad_mig_profile_is_blocked(tmp_path: Path) -> None:
    env = environment(tmp_path)
    hooks, rev = hook_repo(tmp_path, env)
    fleet = tmp_path / "fleet"
    shutil.copytree(BASE, fleet)
    config = {"repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "gitops-gen-validate-system"}]}]}
    (fleet / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fleet"]):
        assert git(fleet, *args, env=env).returncode == 0
    install = subprocess.run([str(PRE_COMMIT), "install"], cwd=fleet, capture_output=True, text=True, env=env,
                             check=False, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr

    patch = fleet / "apps/private-detector/env/dev/mig-slice.yaml"
    patch.write_text(patch.read_text().replace("nvidia.com/mig-1g.5gb: 1", "nvidia.com/mig-3g.40gb: 1"))
    assert git(fleet, "add", "-A", env=env).returncode == 0
    blocked = git(fleet, "commit", "-m", "bigger slice", env=env)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "apps/private-detector/env/dev/mig-slice.yaml:13:13: error: [mig-profile-not-on-gpu]" in output
    assert "Traceback" not in output
    assert git(fleet, "rev-list", "--count", "HEAD", env=env).stdout.strip() == "1"

    # Fixed: a valid profile of that pool's config commits.
    patch.write_text(patch.read_text().replace("nvidia.com/mig-3g.40gb: 1", "nvidia.com/mig-1g.5gb: 1"))
    note = fleet / "apps/private-detector/env/dev/kustomization.yaml"
    note.write_text(note.read_text() + "# reviewed\n")
    assert git(fleet, "add", "-A", env=env).returncode == 0
    passed = git(fleet, "commit", "-m", "reviewed", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert git(fleet, "rev-list", "--count", "HEAD", env=env).stdout.strip() == "2"
