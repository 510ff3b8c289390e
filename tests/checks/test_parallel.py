"""validate in worker processes gives exactly the one-process result: the problems in every format,
the exit code, and the demand cache it leaves for `validate FILE`; on the bench fleet with problems
on many clusters, the example fleet (a Helm chart rendered in workers) and the validate case folders.

The worker runs happen in a fresh interpreter (``fresh_cli``): this test session has loaded the helm
SDK, and a process running its Go runtime never forks (the last test)."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_gen import workers
from gitops_gen.checks import demand
from gitops_gen.checks import validate as checks
from gitops_gen.repo import memo
from gitops_gen.repo.tree import DiskTree
from tests.conftest import fresh_cli
from tests.fleetrepo import example_fleet_repo
from tests.report.test_shards import VALIDATE_CASES, case_fleet, cli, make_bench_fleet

CACHE = Path(".git", memo.DIRECTORY, demand.CACHE_FILE)
SPY = "gitops_gen.checks.parallel:validate_parallel"
ANY_FLEET = {"gitops_gen.workers:PARALLEL_MIN_CLUSTERS": 1}  # small fleets fan out too
TWO = ("--cluster", "zone-1-dev-a", "--cluster", "zone-3-prod-a")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench_fleet(tmp_path_factory.mktemp("bench") / "fleet")


def in_workers(*args: str) -> tuple[int, str]:
    code, out, err = fresh_cli(*args, set_attrs=ANY_FLEET, spy=(SPY,))
    assert f"ran {SPY}" in err, "the run stayed in one process: " + err
    return code, out


def assert_same_as_one_process(repo: Path, jobs: int, *scope: str) -> None:
    base = ("validate", "--repo", str(repo), *scope)
    for fmt in ("json", "text"):
        assert in_workers(*base, "--format", fmt, "-j", str(jobs)) == cli(*base, "--format", fmt)[:2], fmt
    assert in_workers(*base, "--strict", "-j", str(jobs))[0] == cli(*base, "--strict")[0]


def test_bench_fleet_any_worker_count(bench: Path) -> None:
    code, text, _ = cli("validate", "--repo", str(bench))
    assert code == 1
    for rule in ("patch-target-unmatched", "layer-unused", "generated-stale", "image-latest"):
        assert f"[{rule}]" in text, rule
    for jobs in (2, 3, 5):
        assert_same_as_one_process(bench, jobs)
    assert_same_as_one_process(bench, 2, *TWO)


def cache_after_full_run(repo: Path, jobs: int) -> dict[str, object]:
    (repo / CACHE).unlink(missing_ok=True)
    run = in_workers if jobs > 1 else cli
    assert run("validate", "--repo", str(repo), "-j", str(jobs))[0] in (0, 1)
    data = marshal.loads((repo / CACHE).read_bytes())
    assert isinstance(data, dict)
    # Each entry is marshalled alone: compare what they hold (equal values may marshal differently).
    out = {part: {k: marshal.loads(v) for k, v in data[part].items()} for part in ("entries", "located")}
    return {**out, "checked": data["checked"]}


def test_workers_leave_the_cache_one_process_leaves(bench: Path) -> None:
    serial = cache_after_full_run(bench, 1)
    assert serial["entries"] and serial["located"] and serial["checked"]
    for jobs in (2, 3):
        assert cache_after_full_run(bench, jobs) == serial, jobs


def test_what_an_earlier_run_checked_gives_the_same_findings(
    bench: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (bench / CACHE).unlink(missing_ok=True)
    cold = cli("validate", "--repo", str(bench), "--format", "json")[:2]
    assert cold[0] == 1 and json.loads(cold[1])  # findings on many clusters, from every check
    calls: list[int] = []
    real = checks.hygiene.image_findings

    def spy(obj: dict[str, object]) -> list[object]:
        calls.append(1)
        return real(obj)  # type: ignore[arg-type]

    monkeypatch.setattr(checks.hygiene, "image_findings", spy)
    assert cli("validate", "--repo", str(bench), "--format", "json")[:2] == cold
    assert not calls  # every object's checks came from the cache


def test_example_fleet_with_its_helm_chart(tmp_path: Path) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    assert_same_as_one_process(repo, 3)


@pytest.mark.parametrize("case", VALIDATE_CASES)
def test_validate_cases(case: str, tmp_path: Path) -> None:
    repo = case_fleet(case, tmp_path)
    args = ("validate", "--repo", str(repo), "--format", "json")
    assert in_workers(*args, "-j", "2") == cli(*args)[:2]


PROGRESS = """
import json, sys
from pathlib import Path
from gitops_gen.checks import validate as checks
from gitops_gen.repo import memo
from gitops_gen.checks.parallel import validate_parallel
from gitops_gen.repo.tree import DiskTree
tree = DiskTree(Path(sys.argv[1]))
told = []
parts = validate_parallel(checks.validate_part, tree, None, checks.cluster_names(tree), 2, lambda d, t: told.append((d, t)))
print(json.dumps({"parts": len(parts), "told": told}))
"""


def test_progress_is_told_up_to_every_cluster(bench: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRESS, str(bench)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    total = len(checks.cluster_names(DiskTree(bench)))
    told = [tuple(t) for t in result["told"]]
    assert result["parts"] == 2 and told[-1] == (total, total)
    assert all(t == total for _, t in told)
    assert [d for d, _ in told] == sorted(d for d, _ in told)


def test_an_unknown_cluster_is_a_usage_error(bench: Path) -> None:
    code, _, err = fresh_cli(
        "validate", "--repo", str(bench), "-j", "2", "--cluster", "nope", set_attrs=ANY_FLEET
    )
    assert code == 2 and "unknown cluster 'nope'" in err


def test_a_process_that_ran_the_helm_sdk_never_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    import helm_python  # noqa: F401  (starts the Go runtime's threads, as rendering a chart does)

    monkeypatch.setattr(workers, "PARALLEL_MIN_CLUSTERS", 1)
    assert not workers.fork_safe()
    assert workers.worker_count(4, 400) == 1 and workers.default_jobs(400) == 1
