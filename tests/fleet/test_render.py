"""`gitops-gen render` and `build` on the example fleet: byte-identical to kubectl."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.fleet import render
from gitops_gen.fleet.render import fleet_clusters
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree
from tests.conftest import kubectl_kustomize, requires_kubectl
from tests.fleetrepo import ROOT

CLUSTERS = fleet_clusters(DiskTree(ROOT))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_example_fleet_has_clusters() -> None:
    assert CLUSTERS == ["zone-1-dev", "zone-1-prod", "zone-2-prod"]


@requires_kubectl
def test_render_out_equals_kubectl_for_every_cluster(tmp_path: Path) -> None:
    code, out, err = invoke("render", "--repo", str(ROOT), "--out", str(tmp_path))
    assert code == 0, err
    assert out == "" and err == ""  # no progress bar or chatter when not on a terminal
    # Beside the clusters only the list of files gitops-gen wrote there (how it knows its own files).
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".gitops-gen-rendered",
        *(f"{c}.yaml" for c in CLUSTERS),
    ]
    assert (tmp_path / ".gitops-gen-rendered").read_text().split() == [f"{c}.yaml" for c in CLUSTERS]
    for cluster in CLUSTERS:
        proc = kubectl_kustomize(ROOT / "mapping" / cluster)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / f"{cluster}.yaml").read_text() == proc.stdout, cluster


@requires_kubectl
@pytest.mark.parametrize("engine", ["python", "kustomize"])
def test_one_cluster_to_stdout(engine: str) -> None:
    code, out, _ = invoke("render", "--repo", str(ROOT), "--cluster", "zone-1-dev", "--engine", engine)
    assert code == 0
    assert out == kubectl_kustomize(ROOT / "mapping" / "zone-1-dev").stdout


def test_several_clusters_need_out() -> None:
    code, _, err = invoke("render", "--repo", str(ROOT))
    assert code == 2 and "--out" in err


def test_unknown_cluster() -> None:
    code, _, err = invoke("render", "--repo", str(ROOT), "--cluster", "nope")
    assert code == 2 and "unknown cluster 'nope' (clusters: zone-1-dev, zone-1-prod, zone-2-prod)" in err


def test_shared_directories_are_built_once() -> None:
    engine = Engine(DiskTree(ROOT), warnings=False)
    calls: list[str] = []
    original = engine._target

    def counting(kust, *args):  # type: ignore[no-untyped-def]
        calls.append(kust.dir)
        return original(kust, *args)

    engine._target = counting  # type: ignore[method-assign]
    for cluster in CLUSTERS:
        engine.build(f"mapping/{cluster}")
    assert calls.count("apps/private-detector/base") == 1
    assert calls.count("apps/toxicity-detector/base") == 1


def test_engine_output_is_stable_across_runs() -> None:
    first = Engine(DiskTree(ROOT), warnings=False).render("mapping/zone-1-prod")
    again = Engine(DiskTree(ROOT), warnings=False)
    again.render("mapping/zone-1-dev")  # warm the caches with another cluster first
    assert again.render("mapping/zone-1-prod") == first


def test_parallel_render_equals_serial_and_keeps_error_locations(tmp_path: Path) -> None:
    import shutil

    from gitops_gen.fleet.render import render_clusters, render_parallel

    names = CLUSTERS * 3  # repeated names are fine for the engine and give every worker work
    serial = list(render_clusters(DiskTree(ROOT), names))
    assert list(render_parallel(ROOT, names, 2)) == serial
    broken = tmp_path / "fleet"
    broken.mkdir()
    for part in ("gitops-gen.yaml", "clusters", "apps", "mapping"):
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy2)(ROOT / part, broken / part)
    patch = broken / "apps/private-detector/zone/zone-1/gpu-node.yaml"
    patch.write_text(patch.read_text() + "  bad: [\n")
    from gitops_gen.errors import GitopsGenError

    with pytest.raises(GitopsGenError) as err:
        list(render_parallel(broken, names, 2))
    assert err.value.path == "apps/private-detector/zone/zone-1/gpu-node.yaml" and err.value.line


def test_default_jobs_rule_small_fleets_stay_in_one_process() -> None:
    assert render.default_jobs(render.PARALLEL_MIN_FLEET - 1) == 1
    assert render.default_jobs(1) == 1


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
    assert render.usable_cpus(cpus, quota, load) == usable


def test_cgroup_quota_v2_v1_and_unlimited(tmp_path: Path) -> None:
    assert render.cgroup_cpu_quota(tmp_path) == 0.0  # no cgroup files: unknown
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert render.cgroup_cpu_quota(tmp_path) == 0.0
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert render.cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert render.cgroup_cpu_quota(tmp_path) == 2.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert render.cgroup_cpu_quota(tmp_path) == 0.0
