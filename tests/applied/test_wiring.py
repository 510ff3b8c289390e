"""validate and diff judge the applied view: post-build variables on the example fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo, git


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--repo", str(repo)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    repo = example_fleet_repo(tmp_path / "fleet")  # zone-1-dev sets spec.vars log_level: debug
    deployment = repo / "apps/private-detector/base/deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace(
            "        - --port=8501\n", "        - --port=8501\n        - --log=${log_level}\n"
        )
    )
    assert run(repo, "generate")[0] == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "vars")
    return repo


def test_validate_warns_where_a_variable_is_unset(fleet: Path) -> None:
    code, out, err = run(fleet, "validate")
    assert code == 0, out + err
    # zone-1-dev sets log_level; zone-1-prod uses no variables, so Flux leaves the text alone there.
    assert out == ""
    config = fleet / "gitops-gen.yaml"
    config.write_text(config.read_text() + "vars: {region: eu}\n")
    assert run(fleet, "generate")[0] == 0
    code, out, _ = run(fleet, "validate")
    assert code == 0
    assert out == (
        "apps/private-detector/base/deployment.yaml:20:1: warning: [postbuild-unset] "
        "Deployment/private-detector: ${log_level} is not set and becomes empty "
        "(clusters/zone-1-prod/sync.yaml postBuild) [cluster zone-1-prod]\n"
    )


def test_diff_sees_a_variable_change(fleet: Path) -> None:
    cluster = fleet / "clusters/zone-1-dev/cluster.yaml"
    cluster.write_text(cluster.read_text().replace("log_level: debug", "log_level: trace"))
    assert run(fleet, "generate")[0] == 0
    code, out, _ = run(fleet, "diff", "--base", "HEAD")
    assert code == 0
    assert "=== cluster zone-1-dev" in out and "zone-1-prod" not in out
    assert "-        - --log=debug\n" in out and "+        - --log=trace\n" in out


def test_render_default_is_untouched_and_applied_substitutes(fleet: Path) -> None:
    code, out, _ = run(fleet, "render", "--cluster", "zone-1-dev")
    assert code == 0 and "--log=${log_level}" in out
    code, out, _ = run(fleet, "render", "--cluster", "zone-1-dev", "--applied")
    assert code == 0 and "--log=debug" in out and "${" not in out
