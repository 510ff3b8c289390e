"""How many worker processes a run uses, and how its clusters are cut into runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen import workers


def test_default_jobs_rule_small_fleets_stay_in_one_process() -> None:
    assert workers.default_jobs(workers.PARALLEL_MIN_FLEET - 1) == 1
    assert workers.default_jobs(1) == 1


@pytest.mark.parametrize(
    ("cpus", "quota", "load", "usable"),
    [
        (2, 0.0, 0.0, 2),  # idle, unlimited
        (2, 0.0, 1.2, 1),  # one CPU busy with something else
        (2, 0.0, 13.0, 1),  # overloaded: never below one
        (64, 1.5, 0.0, 1),  # a container limited to 1.5 CPUs
        (64, 4.0, 1.0, 3),  # quota 4, one of them busy
        (8, 0.0, 2.6, 5),
    ],
)
def test_usable_cpus(cpus: int, quota: float, load: float, usable: int) -> None:
    assert workers.usable_cpus(cpus, quota, load) == usable


def test_cgroup_quota_v2_v1_and_unlimited(tmp_path: Path) -> None:
    assert workers.cgroup_cpu_quota(tmp_path) == 0.0  # no cgroup files: unknown
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert workers.cgroup_cpu_quota(tmp_path) == 0.0
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert workers.cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert workers.cgroup_cpu_quota(tmp_path) == 2.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert workers.cgroup_cpu_quota(tmp_path) == 0.0


@pytest.mark.parametrize(
    ("weights", "count", "expected"),
    [
        ([1] * 10, 4, [3, 2, 3, 2]),
        ([1] * 3, 5, [1, 1, 1]),  # more runs asked than names: none empty
        ([1] * 7, 1, [7]),
        ([9, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2, [1, 9]),  # one heavy name is a run of its own
        ([], 3, []),
    ],
)
def test_runs_are_contiguous_balanced_and_never_empty(
    weights: list[int], count: int, expected: list[int]
) -> None:
    names = [f"c{i:02d}" for i in range(len(weights))]
    cost = dict(zip(names, weights, strict=True))
    got = workers.runs(names, count, cost.get)  # type: ignore[arg-type]
    assert [len(r) for r in got] == expected
    assert [n for r in got for n in r] == names


def test_other_load_counts_what_runs_now_not_the_average(tmp_path: Path) -> None:
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("1.90 1.20 0.80 1/345 12345\n")  # only this process runs: the average is the past
    assert workers.other_load(loadavg) == 0.0
    loadavg.write_text("0.10 0.20 0.30 3/345 12345\n")
    assert workers.other_load(loadavg) == 2.0
    assert workers.usable_cpus(2, 0.0, workers.other_load(loadavg)) == 1
