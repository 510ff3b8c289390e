"""Bad input: one line naming the file, exit 1, no traceback, nothing written, nothing fetched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import ROOT, example_fleet_repo, status

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: pd
spec:
  template:
    spec:
      containers:
      - name: pd
        image: pd:1.14.2
"""


def build_in(repo: Path, directory: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        result = CliRunner().invoke(main, ["build", directory])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 1, (code, out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "app" / "deployment.yaml").write_text(DEPLOY)
    return root


def kustomization(repo: Path, text: str) -> None:
    (repo / "app" / "kustomization.yaml").write_text(text)


def test_symlink_out_of_the_repository(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.yaml"
    secret.write_text(DEPLOY)
    (repo / "app" / "linked.yaml").symlink_to(secret)
    kustomization(repo, "resources:\n- linked.yaml\n")
    one_line_error(*build_in(repo, "app"), "app/linked.yaml", "escapes the repository")


def test_dotdot_out_of_the_repository(repo: Path) -> None:
    kustomization(repo, "resources:\n- ../../elsewhere\n")
    one_line_error(*build_in(repo, "app"), "app/kustomization.yaml:2", "escapes the repository")


@pytest.mark.parametrize(
    "url",
    ["https://github.com/org/repo//base?ref=v1", "github.com/org/repo/base", "git@github.com:org/repo.git"],
)
def test_remote_resources_are_refused_without_network(repo: Path, url: str) -> None:
    kustomization(repo, f"resources:\n- {url}\n")
    one_line_error(*build_in(repo, "app"), "app/kustomization.yaml:2", "not supported: remote")


def test_alias_bomb(repo: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (repo / "app" / "bomb.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n"
        + "\n".join("  " + x for x in lines)
        + "\n"
    )
    kustomization(repo, "resources:\n- bomb.yaml\n")
    one_line_error(*build_in(repo, "app"), "app/bomb.yaml")


def test_huge_file(repo: Path) -> None:
    (repo / "app" / "huge.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  a: "
        + "x" * (17 * 1024 * 1024)
        + "\n"
    )
    kustomization(repo, "resources:\n- huge.yaml\n")
    one_line_error(*build_in(repo, "app"), "app/huge.yaml")


def test_cycle(repo: Path) -> None:
    (repo / "other").mkdir()
    (repo / "other" / "kustomization.yaml").write_text("resources:\n- ../app\n")
    kustomization(repo, "resources:\n- ../other\n")
    one_line_error(*build_in(repo, "app"), "cycle detected")


def test_duplicate_resource(repo: Path) -> None:
    (repo / "app" / "again.yaml").write_text(DEPLOY)
    kustomization(repo, "resources:\n- deployment.yaml\n- again.yaml\n")
    one_line_error(*build_in(repo, "app"), "app/kustomization.yaml:3", "already registered id")


def test_invalid_yaml_points_at_line(repo: Path) -> None:
    (repo / "app" / "deployment.yaml").write_text(DEPLOY + "  bad: [unclosed\n")
    kustomization(repo, "resources:\n- deployment.yaml\n")
    one_line_error(*build_in(repo, "app"), "app/deployment.yaml:")


def test_bad_patch_in_fleet_writes_nothing(tmp_path: Path) -> None:
    fleet = example_fleet_repo(tmp_path / "fleet", ROOT)
    patch = fleet / "apps/private-detector/zone/zone-1/gpu-node.yaml"
    patch.write_text(patch.read_text() + "  oops: [\n")
    before = status(fleet)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", "--repo", str(fleet), "--out", str(out)])
    one_line_error(
        result.exit_code, result.stdout, result.stderr, "apps/private-detector/zone/zone-1/gpu-node.yaml:"
    )
    assert not out.exists(), "render wrote output despite the error"
    assert status(fleet) == before
