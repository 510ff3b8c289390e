"""`gitops-gen render` and `build` on the example fleet: byte-identical to kubectl."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.fleet.render import fleet_clusters
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree
from tests.conftest import fresh_cli, kubectl_kustomize, requires_kubectl
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

    # In a fresh interpreter: this session has run the helm SDK, and such a process never forks.
    spy = "gitops_gen.fleet.render:render_parallel"
    more = {"gitops_gen.workers:PARALLEL_MIN_CLUSTERS": 1}
    args = ("render", "--repo", str(ROOT), "-j", "2", "--out")
    code, _, err = fresh_cli(*args, str(tmp_path / "parallel"), set_attrs=more, spy=(spy,))
    assert f"ran {spy}" in err and code == 0
    assert CliRunner().invoke(main, [*args, str(tmp_path / "serial")]).exit_code == 0
    written = sorted(p.name for p in (tmp_path / "serial").iterdir())
    assert len(written) > 2 and written == sorted(p.name for p in (tmp_path / "parallel").iterdir())
    for name in written:
        assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes(), name
    broken = tmp_path / "fleet"
    broken.mkdir()
    for part in ("gitops-gen.yaml", "clusters", "apps", "mapping"):
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy2)(ROOT / part, broken / part)
    patch = broken / "apps/private-detector/zone/zone-1/gpu-node.yaml"
    patch.write_text(patch.read_text() + "  bad: [\n")
    code, _, err = fresh_cli(
        "render", "--repo", str(broken), "-j", "2", "--out", str(tmp_path / "x"), set_attrs=more, spy=(spy,)
    )
    assert code == 1 and "apps/private-detector/zone/zone-1/gpu-node.yaml:" in err
