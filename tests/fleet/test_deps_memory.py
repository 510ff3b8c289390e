"""The dependency index's memory of the working tree gives the answers a fresh index gives: after every
kind of change to what the index reads it lists and reads again, and a settled tree is not read at all."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_gen.fleet import deps
from gitops_gen.repo import memo, tree
from tests.fleetrepo import edit, validate_base_fleet

ALL = ["zone-1-dev", "zone-1-prod", "zone-2-prod"]
MEMO = Path(".git", memo.DIRECTORY, deps.MEMO_FILE)

# Every kind of file the index follows: components, bases, chains, variants, files it names, shared trees.
PROBES = [
    "apps/private-detector/env/dev/mig-slice.yaml",
    "apps/private-detector/env/dev/kustomization.yaml",
    "apps/private-detector/zone/zone-1/gpu-node.yaml",
    "apps/private-detector/base/service.yaml",
    "apps/toxicity-detector/base/deployment.yaml",
    "apps/toxicity-detector/base/service.yaml",
    "apps/toxicity-detector/cluster/zone-2-prod/kustomization.yaml",
    "apps/spam-detector/base/deployment.yaml",
    "apps/spam-detector/zone-1-dev/kustomization.yaml",
    "apps/private-detector/overlays/zone-1-prod/kustomization.yaml",
    "shared/policy/policy.yaml",
    "apps/spam-detector/linked/kustomization.yaml",
]


def answers(fleet: Path, memory: deps.Memory | None) -> dict[str, list[str]]:
    """What each probe affects, one index per probe (as each hook run is its own process)."""
    found = {}
    for probe in PROBES:
        index = deps.Index(fleet, memory=memory)
        found[probe] = deps.affected(fleet, [probe], index).names(ALL)
    return found


def hook_run(fleet: Path) -> dict[str, list[str]]:
    """One run with the memory, kept for the next one."""
    memory = deps.Memory.open(fleet)
    assert memory is not None
    found = answers(fleet, memory)
    memory.save()
    return found


def fresh(fleet: Path) -> dict[str, list[str]]:
    return answers(fleet, None)


def remember_settled(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A run as if long after every file was written: every listing and kustomization is recorded."""
    later = time.time_ns() + 10 * tree.SETTLED_NS
    with monkeypatch.context() as m:
        m.setattr(deps, "time_ns", lambda: later)
        found = hook_run(fleet)
    time.sleep(0.05)  # past the file system clock's tick: a write from here on has a later stamp
    return found


@pytest.fixture()
def fleet(tmp_path: Path) -> Path:
    fleet = validate_base_fleet(tmp_path / "fleet")
    (fleet / ".git").mkdir()  # memos live in a git work tree
    return fleet


def new_shared_tree(fleet: Path) -> None:
    # A directory the last run never saw, named from a kustomization it did.
    (fleet / "shared/policy").mkdir(parents=True)
    (fleet / "shared/policy/kustomization.yaml").write_text("resources:\n- policy.yaml\n")
    edit(
        fleet,
        "apps/toxicity-detector/base/kustomization.yaml",
        "resources:\n",
        "resources:\n- ../../../shared/policy\n",
    )


def directory_becomes_file(fleet: Path) -> None:
    shutil.rmtree(fleet / "apps/private-detector/env/dev")
    (fleet / "apps/private-detector/env/dev").write_text("not a directory\n")


def symlinked_chain(fleet: Path) -> None:
    os.symlink("bumble", fleet / "apps/spam-detector/linked")
    edit(fleet, "apps/spam-detector/zone-1-dev/kustomization.yaml", "- ../bumble", "- ../linked")


def yml_instead(fleet: Path) -> None:
    old = fleet / "apps/spam-detector/bumble/kustomization.yaml"
    text = old.read_text().replace("- ../base\n", "- ../base\n- ../../toxicity-detector/base\n")
    old.unlink()
    (fleet / "apps/spam-detector/bumble/kustomization.yml").write_text(text)


CHANGES: dict[str, Callable[[Path], None]] = {
    "a kustomization names one more base": lambda f: edit(
        f,
        "apps/spam-detector/bumble/kustomization.yaml",
        "- ../base\n",
        "- ../base\n- ../../toxicity-detector/base\n",
    ),
    "a kustomization names one less": lambda f: edit(
        f, "apps/private-detector/overlays/zone-1-prod/kustomization.yaml", "- ../../zone/zone-1\n", ""
    ),
    "a mapping drops an app": lambda f: edit(
        f,
        "mapping/zone-2-prod/kustomization.yaml",
        "- ../../apps/toxicity-detector/overlays/zone-2-prod\n",
        "",
    ),
    "a new directory and kustomization": new_shared_tree,
    "a component directory deleted": lambda f: shutil.rmtree(f / "apps/private-detector/env/dev"),
    "a directory turned into a file": directory_becomes_file,
    "a kustomization.yaml replaced by a kustomization.yml": yml_instead,
    "a chain through a symlinked directory": symlinked_chain,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_the_index_reads_is_read_again(
    fleet: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    before = remember_settled(fleet, monkeypatch)
    assert before == fresh(fleet)
    assert (fleet / MEMO).is_file()
    CHANGES[change](fleet)
    want = fresh(fleet)
    assert want != before or change.startswith(("a component directory", "a directory turned")), (
        "the change must move some answer, or this case proves nothing"
    )
    assert hook_run(fleet) == want
    assert hook_run(fleet) == want  # and what it learnt of the new state is good too
    assert remember_settled(fleet, monkeypatch) == want


def test_a_settled_tree_is_neither_listed_nor_read(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    want = remember_settled(fleet, monkeypatch)

    def refuse(*args: object) -> object:
        raise AssertionError(f"read {args}")

    monkeypatch.setattr(deps.DiskFiles, "read", refuse)
    monkeypatch.setattr(deps.os, "scandir", refuse)
    assert hook_run(fleet) == want


def test_what_had_not_settled_is_not_trusted(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A coarse file system clock: a write in the same tick leaves every stamp as it was.
    now = time.time_ns()
    monkeypatch.setattr(deps, "file_stamp", lambda path: (now, now, 1, 1))
    monkeypatch.setattr(deps, "dir_stamp", lambda path: (now, now, 1, 1))
    hook_run(fleet)
    CHANGES["a kustomization names one more base"](fleet)
    assert hook_run(fleet) == fresh(fleet)


def test_a_broken_memo_only_costs_a_read(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    want = remember_settled(fleet, monkeypatch)
    (fleet / MEMO).write_bytes(b"\x00not marshal")
    assert hook_run(fleet) == want


def test_no_memory_without_git_or_with_the_cache_off(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert deps.Memory.open(fleet) is None
    monkeypatch.delenv("GITOPS_GEN_NO_CACHE")
    shutil.rmtree(fleet / ".git")
    assert deps.Memory.open(fleet) is None


def test_the_memo_keeps_only_paths_that_exist(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remember_settled(fleet, monkeypatch)
    shutil.rmtree(fleet / "apps/private-detector/env")
    edit(
        fleet,
        "apps/spam-detector/bumble/kustomization.yaml",
        "- ../base\n",
        "- ../base\n- ../../toxicity-detector/base\n",
    )
    hook_run(fleet)
    kept = memo.load(fleet / MEMO, deps.MEMO_FORMAT)
    assert kept is not None
    assert not [p for p in [*kept["dirs"], *kept["kusts"]] if p.startswith("apps/private-detector/env")]
