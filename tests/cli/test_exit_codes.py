"""Exit codes and messages of the contract: 0 ok, 1 problems in the input, 2 usage, 3 a bug.

Usage errors are malformed arguments and arguments naming a cluster, app, layer, object or git
revision that does not exist; each is one line naming what exists where that helps.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo, git

CLUSTERS = "(clusters: zone-1-dev, zone-1-prod, zone-2-prod)"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_fleet_repo(tmp_path_factory.mktemp("exit") / "fleet")


def run(repo: Path, *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*argv, "--repo", str(repo)])
    return result.exit_code, result.stdout, result.stderr


USAGE = [
    (["enable", "toxicity-detector", "--where", "region"], "--where 'region': expected KEY=VALUE"),
    (["disable", "toxicity-detector", "--where", "region=eu"], "unknown layer 'region'"),
    (["enable", "toxicity-detector"], "give --cluster C or --where KEY=VALUE"),
    (["disable", "toxicity-detector", "--cluster", "zone-1-dev", "--where", "env=dev"], "not both"),
    (["enable", "nope", "--cluster", "zone-1-dev"], "unknown app 'nope'"),
    (["disable", "toxicity-detector", "--cluster", "nope"], f"unknown cluster 'nope' {CLUSTERS}"),
    (["explain", "--cluster", "zone-1-prod", "embedder", "spec.replicas"], "must be KIND/NAME"),
    (
        ["explain", "--cluster", "nope", "Deployment/private-detector", "spec.replicas"],
        f"unknown cluster 'nope' {CLUSTERS}",
    ),
    (
        ["explain", "--cluster", "zone-1-prod", "Deployment/nope", "spec.replicas"],
        "no object Deployment/nope",
    ),
    (["new", "layer", "private-detector", "envprod"], "layer 'envprod': expected KEY=VALUE"),
    (["new", "layer", "private-detector", "env=a/b"], "is not a valid directory name"),
    (["new", "layer", "private-detector", "region=eu"], "unknown layer 'region'"),
    (["new", "cluster", "Prod_C", "--layer", "company=bumble"], "is not a DNS-1123 label"),
    (["new", "app", "Bad_App"], "is not a DNS-1123 label"),
    (
        ["set", "image", "private-detector", "pd:1.15.0", "--layer", "env"],
        "--layer 'env': expected KEY=VALUE",
    ),
    (["set", "image", "private-detector", "pd"], "pin it to a tag"),
    (["validate", "--cluster", "nope"], f"unknown cluster 'nope' {CLUSTERS}"),
    (["render", "--cluster", "nope"], f"unknown cluster 'nope' {CLUSTERS}"),
    (["diff", "--base", "nope"], "unknown git revision 'nope'"),
    (["diff", "--base", "HEAD", "--head", "nope", "--exit-code"], "unknown git revision 'nope'"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_2_with_one_line(fleet: Path, argv: list[str], message: str) -> None:
    before = git(fleet, "status", "--porcelain")
    code, out, err = run(fleet, *argv)
    assert code == 2, (code, out, err)
    assert message in err, err
    assert "Traceback" not in err and "clusters:1:1" not in out + err
    assert "did not resolve" not in err  # no GitPython wording
    lines = err.splitlines()
    # Ours are one line; click's own usage errors say how to get help, then the error.
    assert len(lines) == 1 or (lines[0].startswith("Usage:") and lines[-1].startswith("Error:")), err
    assert git(fleet, "status", "--porcelain") == before


def test_diff_exit_code_follows_git_diff(fleet: Path) -> None:
    assert run(fleet, "diff", "--base", "HEAD", "--exit-code")[0] == 0
    patch = fleet / "apps/private-detector/env/prod/kustomization.yaml"
    original = patch.read_text()
    try:
        patch.write_text(original.replace("count: 10", "count: 12"))
        code, out, _ = run(fleet, "diff", "--base", "HEAD", "--exit-code")
        assert code == 1 and "replicas: 12" in out
        assert run(fleet, "diff", "--base", "HEAD")[0] == 0
        # An input problem is not "changes": with --exit-code it must be told apart from 1.
        patch.write_text(original + "patches: [{path: gone.yaml}]\n")
        code, _, err = run(fleet, "diff", "--base", "HEAD", "--exit-code")
        assert code == 2 and "gone.yaml" in err, err
        assert run(fleet, "diff", "--base", "HEAD")[0] == 1
    finally:
        patch.write_text(original)


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],
        ["generate", "--check"],
        ["render"],
        ["diff", "--base", "HEAD"],
        ["explain", "--cluster", "a", "Deployment/x", "spec"],
        ["commit", "-m", "x"],
        ["enable", "x", "--cluster", "a"],
        ["new", "app", "x"],
    ],
)
def test_outside_a_fleet_repository(tmp_path: Path, argv: list[str]) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    code, out, err = run(tmp_path, *argv)
    assert code == 2, (code, out, err)
    assert (
        err == f"gitops-gen: error: not a gitops-gen fleet: no gitops-gen.yaml at {tmp_path.resolve()} "
        "(give --repo DIR)\n"
    )
    assert os.listdir(tmp_path) == [".git"]


def test_outside_a_fleet_without_repo_uses_the_git_top_level(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "sub").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path / "sub")
    try:
        result = CliRunner().invoke(main, ["validate"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2
    assert f"no gitops-gen.yaml at {tmp_path.resolve()}" in result.stderr


def leaf_commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out.update(leaf_commands(command, f"{prefix}{name} "))
        else:
            out[prefix + name] = command
    return out


def test_every_command_but_build_takes_repo() -> None:
    """The README says so."""
    for name, command in leaf_commands(main).items():
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert ("--repo" in options) == (name != "build"), name
