"""The remembered plan is the plan a fresh run makes: after every kind of change to what generate
reads it is planned again, and a change generate does not read reuses it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet import planmemo
from gitops_gen.fleet.generate import Plan, apply_plan, plan
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo import memo, tree
from gitops_gen.repo.tree import DiskTree
from tests.fleetrepo import edit, example_fleet_repo

MEMO = Path(".git", memo.DIRECTORY, planmemo.MEMO_FILE)


def fresh(repo: Path) -> Plan:
    tree = DiskTree(repo)
    return plan(tree, load_fleet(tree))


def add_layer_dir(repo: Path) -> None:
    # zone-1-prod (company bumble) runs llm-server, which has no company layer yet.
    shutil.copytree(repo / "apps/private-detector/company/bumble", repo / "apps/llm-server/company/bumble")


def add_cluster(repo: Path) -> None:
    (repo / "clusters/zone-3-dev").mkdir()
    text = (repo / "clusters/zone-1-dev/cluster.yaml").read_text().replace("zone-1-dev", "zone-3-dev")
    (repo / "clusters/zone-3-dev/cluster.yaml").write_text(text.replace("zone: zone-1", "zone: zone-3"))
    shutil.copytree(repo / "apps/spam-detector/zone-1-dev", repo / "apps/spam-detector/zone-3-dev")


def remove_variant(repo: Path) -> None:
    shutil.rmtree(repo / "apps/private-detector/overlays/zone-1-dev")


CHANGES: dict[str, Callable[[Path], None]] = {
    "cluster.yaml": lambda r: edit(r, "clusters/zone-1-dev/cluster.yaml", "enabled: false", "enabled: true"),
    "gitops-gen.yaml": lambda r: edit(r, "gitops-gen.yaml", 'namespace: "{app}"', 'namespace: "team-{app}"'),
    "a new layer directory": add_layer_dir,
    "a new cluster": add_cluster,
    "a generated file edited by hand": lambda r: edit(
        r, "mapping/zone-1-dev/kustomization.yaml", "resources:", "resources:\n- ../extra"
    ),
    "a generated file deleted": remove_variant,
}


def remember_settled(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Plan:
    """plan_tree as if it ran long after every file was written: each file read is known by its stamp."""
    later = time.time_ns() + 10 * tree.SETTLED_NS
    with monkeypatch.context() as m:
        m.setattr(planmemo, "time_ns", lambda: later)
        result = planmemo.plan_tree(DiskTree(repo))
    time.sleep(0.05)  # past the file system clock's tick: a write from here on has a later ctime
    return result


@pytest.fixture(params=["files read again", "files known by their stamps"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = example_fleet_repo(tmp_path / "fleet")
    if request.param == "files known by their stamps":
        first = remember_settled(repo, monkeypatch)
    else:
        first = planmemo.plan_tree(DiskTree(repo))
    assert not first.changes and (repo / MEMO).is_file()  # the example fleet is current: remembered
    return repo


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_generate_reads_is_planned_again(repo: Path, change: str) -> None:
    CHANGES[change](repo)
    want = fresh(repo)
    assert want.changes, "the change must make generate write something, or this test proves nothing"
    assert planmemo.plan_tree(DiskTree(repo)) == want
    apply_plan(repo, want)
    assert planmemo.plan_tree(DiskTree(repo)) == fresh(repo)  # and the new state is remembered anew
    assert planmemo.plan_tree(DiskTree(repo)) == fresh(repo)


def test_a_change_generate_does_not_read_reuses_the_plan(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(repo, "apps/private-detector/zone/zone-1/gpu-node.yaml", "A100-PCIE-40GB", "H100-80GB-HBM3")
    want = fresh(repo)

    def refuse(*_: object) -> Plan:
        raise AssertionError("planned again")

    monkeypatch.setattr(planmemo, "plan", refuse)
    assert planmemo.plan_tree(DiskTree(repo)) == want


def test_input_generate_refuses_is_refused_every_time(repo: Path) -> None:
    (repo / "apps/private-detector/overlays/zone-1-dev/kustomization.yaml").write_text("resources: [mine]\n")
    for _ in range(2):
        with pytest.raises(GitopsGenError, match="hand-written file"):
            planmemo.plan_tree(DiskTree(repo))


def test_a_broken_memo_only_costs_a_plan(repo: Path) -> None:
    (repo / MEMO).write_bytes(b"\x00not marshal")
    assert planmemo.plan_tree(DiskTree(repo)) == fresh(repo)


def test_no_memo_without_git_or_with_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert planmemo.plan_tree(DiskTree(repo)) == fresh(repo)
    assert not (repo / MEMO).exists()


def test_a_settled_file_is_known_by_its_stamp_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    want = remember_settled(repo, monkeypatch)

    def refuse(self: DiskTree, path: str) -> bytes:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(DiskTree, "read", refuse)
    assert planmemo.plan_tree(DiskTree(repo)) == want


def test_files_read_before_they_settled_are_stamped_once_they_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    want = planmemo.plan_tree(DiskTree(repo))  # just written: nothing settled, nothing stamped
    later = time.time_ns() + 10 * tree.SETTLED_NS
    monkeypatch.setattr(planmemo, "time_ns", lambda: later)
    assert planmemo.plan_tree(DiskTree(repo)) == want  # read once more, and stamped now
    monkeypatch.setattr(DiskTree, "read", lambda self, path: pytest.fail(f"read {path}"))
    assert planmemo.plan_tree(DiskTree(repo)) == want


def test_a_file_read_within_a_tick_of_its_last_write_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A coarse file system clock: a write in the same tick leaves every stamp as it was.
    now = time.time_ns()
    monkeypatch.setattr(DiskTree, "stamp", lambda self, path: (now, now, 1, 1))
    repo = example_fleet_repo(tmp_path / "fleet")
    planmemo.plan_tree(DiskTree(repo))
    CHANGES["cluster.yaml"](repo)
    assert planmemo.plan_tree(DiskTree(repo)) == fresh(repo)
