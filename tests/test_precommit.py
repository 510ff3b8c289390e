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
import re
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
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(tmp / "home"),
            "PRE_COMMIT_HOME": str(tmp / "pre-commit-cache"),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
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
        # The hook lists the staged changes itself: pre-commit passes no names of deleted files.
        assert hook["entry"] == "gitops-gen validate --staged"
        assert hook["pass_filenames"] is False and hook["always_run"] is True and "files" not in hook
    assert hooks["gitops-gen-validate"]["language"] == "python"
    assert hooks["gitops-gen-validate-system"]["language"] == "system"


# A JSON 6902 patch and a generator's .env file, which a `files: \.ya?ml$` hook never sees.
JSON_PATCH = '[{"op": "add", "path": "/metadata/labels/gpu-class", "value": "h100"}]\n'
TUNING_ENV = "BATCH_SIZE=8\nMAX_QUEUE=64\n"


def add_json_patch_and_env_file(fleet: Path) -> None:
    zone = fleet / "apps/toxicity-detector/zone/zone-2"
    (zone / "labels.json").write_text(JSON_PATCH)
    (zone / "kustomization.yaml").write_text(
        (zone / "kustomization.yaml").read_text() + "- path: labels.json\n  target: {kind: Deployment}\n"
    )
    prod = fleet / "apps/private-detector/env/prod"
    (prod / "tuning.env").write_text(TUNING_ENV)
    (prod / "kustomization.yaml").write_text(
        (prod / "kustomization.yaml").read_text()
        + "- name: private-detector-tuning\n  envs:\n  - tuning.env\n"
    )


class Fleet:
    """The validate base fleet as a git repository with the hook installed through pre-commit."""

    def __init__(self, tmp: Path):
        self.env = environment(tmp)
        hooks, rev = hook_repo(tmp, self.env)
        self.root = tmp / "fleet"
        shutil.copytree(BASE, self.root)
        add_json_patch_and_env_file(self.root)
        config = {
            "repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "gitops-gen-validate-system"}]}]
        }
        (self.root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fleet"]):
            assert self.git(*args).returncode == 0
        install = subprocess.run(
            [str(PRE_COMMIT), "install"],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
            timeout=120,
        )
        assert install.returncode == 0, install.stdout + install.stderr

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return git(self.root, *args, env=self.env)

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD").stdout)

    def blocked(self, message: str, *expected: str) -> str:
        """Commit what is staged; the hook must refuse it, printing each of EXPECTED."""
        done = self.git("commit", "-m", message)
        output = done.stdout + done.stderr
        assert done.returncode != 0, output
        assert self.commits() == 1, output
        assert "Traceback" not in output
        for text in expected:
            assert text in output, output
        return output

    def passes(self, message: str) -> None:
        done = self.git("commit", "-m", message)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return Fleet(tmp_path)


def test_commit_with_a_bad_mig_profile_is_blocked(fleet: Fleet) -> None:
    patch = fleet.root / "apps/private-detector/env/dev/mig-slice.yaml"
    patch.write_text(patch.read_text().replace("nvidia.com/mig-1g.5gb: 1", "nvidia.com/mig-3g.40gb: 1"))
    assert fleet.git("add", "-A").returncode == 0
    fleet.blocked(
        "bigger slice", "apps/private-detector/env/dev/mig-slice.yaml:13:13: error: [mig-profile-not-on-gpu]"
    )

    # Fixed: a valid profile of that pool's config commits.
    patch.write_text(patch.read_text().replace("nvidia.com/mig-3g.40gb: 1", "nvidia.com/mig-1g.5gb: 1"))
    note = fleet.root / "apps/private-detector/env/dev/kustomization.yaml"
    note.write_text(note.read_text() + "# reviewed\n")
    assert fleet.git("add", "-A").returncode == 0
    fleet.passes("reviewed")
    assert fleet.commits() == 2


STALE_VARIANT = "apps/private-detector/overlays/zone-1-prod/kustomization.yaml:1:1: error: [generated-stale]"


def test_deletion_only_is_checked(fleet: Fleet) -> None:
    assert fleet.git("rm", "-q", "-r", "apps/private-detector/env/prod").returncode == 0
    fleet.blocked("drop the prod layer", STALE_VARIANT)


def test_deletion_and_an_unrelated_edit_are_both_checked(fleet: Fleet) -> None:
    assert fleet.git("rm", "-q", "-r", "apps/private-detector/env/prod").returncode == 0
    other = fleet.root / "apps/toxicity-detector/zone/zone-2/h100.yaml"
    other.write_text(other.read_text() + "# reviewed\n")  # affects zone-2-prod only
    assert fleet.git("add", "-A").returncode == 0
    fleet.blocked("drop the prod layer, touch zone-2", STALE_VARIANT)


def test_renamed_patch_is_checked_where_it_was_used(fleet: Fleet) -> None:
    zone = "apps/toxicity-detector/zone/zone-2"
    assert fleet.git("mv", f"{zone}/labels.json", f"{zone}/gpu-labels.json").returncode == 0
    fleet.blocked("rename a patch", f"{zone}/kustomization.yaml", "labels.json")


def test_broken_json_6902_patch_is_checked(fleet: Fleet) -> None:
    patch = fleet.root / "apps/toxicity-detector/zone/zone-2/labels.json"
    patch.write_text(JSON_PATCH.replace('"value": "h100"}]', '"value": '))
    assert fleet.git("add", "-A").returncode == 0
    fleet.blocked("truncated patch", "apps/toxicity-detector/zone/zone-2/labels.json:", "[render]")


def test_env_file_of_a_generator_is_checked(fleet: Fleet) -> None:
    env = fleet.root / "apps/private-detector/env/prod/tuning.env"
    env.write_text(TUNING_ENV + "BATCH_SIZE=16\n")  # kustomize refuses a repeated key
    assert fleet.git("add", "-A").returncode == 0
    fleet.blocked("bigger batches", "illegally repeats the key `BATCH_SIZE`", "[render]")


def test_unrelated_change_passes(fleet: Fleet) -> None:
    (fleet.root / "NOTES.md").write_text("nothing for any cluster\n")
    assert fleet.git("add", "-A").returncode == 0
    fleet.passes("notes")


README_LOCAL = re.compile(r"<!-- pre-commit: local [^>]*-->\n```yaml\n(.*?)```", re.S)


def test_readme_local_hook_works_as_written(tmp_path: Path) -> None:
    """The README's `repo: local` snippet, copied as it stands, blocks a deletion that breaks a cluster."""
    found = README_LOCAL.search((ROOT / "README.md").read_text())
    assert found, "README.md lacks the <!-- pre-commit: local --> snippet"
    env = environment(tmp_path)
    fleet = tmp_path / "fleet"
    shutil.copytree(BASE, fleet)
    (fleet / ".pre-commit-config.yaml").write_text(found.group(1))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fleet"]):
        assert git(fleet, *args, env=env).returncode == 0
    install = subprocess.run(
        [str(PRE_COMMIT), "install"],
        cwd=fleet,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert git(fleet, "rm", "-q", "-r", "apps/private-detector/env/prod", env=env).returncode == 0
    blocked = git(fleet, "commit", "-m", "drop the prod layer", env=env)
    assert blocked.returncode != 0 and STALE_VARIANT in blocked.stdout + blocked.stderr, blocked.stdout
    assert git(fleet, "reset", "-q", "--hard", env=env).returncode == 0
    (fleet / "NOTES.md").write_text("nothing for any cluster\n")
    assert git(fleet, "add", "-A", env=env).returncode == 0
    passed = git(fleet, "commit", "-m", "notes", env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
