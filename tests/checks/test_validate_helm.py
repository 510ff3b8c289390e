"""`validate` on the example fleet's llm-server HelmRelease: GPU findings on the objects its chart
renders point at the values key that asked for the resource, and `validate FILE` / `--staged` (the
demand cache's fast path) judge a values change as a full validate does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo, git

pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")

RELEASE = "apps/llm-server/base/helmrelease.yaml"
CHART_VALUES = "apps/llm-server/chart/values.yaml"
PROBLEM = re.compile(r"^(\S+?):(\d+):\d+: (error|warning): \[([^\]]+)\]")


def validate(repo: Path, *args: str) -> tuple[int, list[tuple[str, int, str]]]:
    result = CliRunner().invoke(main, ["validate", "--repo", str(repo), *args])
    assert result.exit_code in (0, 1), result.output
    found = []
    for line in result.output.splitlines():
        m = PROBLEM.match(line)
        assert m, line
        found.append((m[1], int(m[2]), m[4]))
    return result.exit_code, found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = example_fleet_repo(tmp_path / "fleet")
    assert validate(root, str(root / RELEASE)) == (
        0,
        [],
    )  # fills the demand cache: later runs take the fast path
    assert (root / ".git/gitops-gen/validate-demand.marshal").is_file()
    return root


def line_of(path: Path, text: str) -> int:
    return next(n for n, row in enumerate(path.read_text().splitlines(), 1) if text in row)


def test_a_release_asking_for_a_resource_the_cluster_lacks_fails_file_and_staged(repo: Path) -> None:
    release = repo / RELEASE
    release.write_text(release.read_text() + "    gpu:\n      resource: nvidia.com/mig-3g.20gb\n")
    where = (RELEASE, line_of(release, "mig-3g.20gb"), "mig-strategy-not-mixed")
    assert validate(repo) == (1, [where])
    assert validate(repo, str(release)) == (1, [where])
    git(repo, "add", "-A")
    assert validate(repo, "--staged") == (1, [where])


def test_a_chart_default_change_is_judged_by_validate_file_on_the_values_file(repo: Path) -> None:
    values = repo / CHART_VALUES
    values.write_text(values.read_text().replace("count: 1", "count: 9"))  # no A100 node has 9 GPUs
    full = validate(repo)
    assert full[0] == 1 and (CHART_VALUES, line_of(values, "count: 9"), "gpu-pod-too-large") in full[1]
    assert validate(repo, str(values)) == full
    git(repo, "add", "-A")
    assert validate(repo, "--staged") == full


def test_a_cached_release_keeps_its_chart_demand(repo: Path) -> None:
    # The HelmRelease no longer names any nvidia.com resource itself: its 2 GPUs come from the chart.
    zone = repo / "apps/llm-server/zone/zone-1/kustomization.yaml"
    zone.write_text(zone.read_text().replace("nvidia.com/gpu.product: NVIDIA-A100-PCIE-40GB", "pool: gpu"))
    assert validate(repo, str(zone)) == (0, [])  # llm-server's entry is cached as it is now
    # 17 + 2 (toxicity-detector) + 2 (llm-server) GPUs on 20: only a full count sees the shortage.
    prod = repo / "apps/private-detector/env/prod/kustomization.yaml"
    prod.write_text(prod.read_text().replace("count: 10", "count: 17"))
    full = validate(repo)
    assert full[0] == 1 and {rule for _, _, rule in full[1]} == {"gpu-capacity-exceeded"}
    assert validate(repo, str(prod)) == full
