"""spec.vars and gitops-gen.yaml vars become postBuild.substitute of the Flux sync.yaml, only where used.

tests/data/applied/vars/<fleet>/ holds an inventory and expected/<cluster>.sync.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_gen.applied.variables import cluster_vars
from gitops_gen.fleet.generate import plan, sync_path
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo.tree import DiskTree

DATA = Path(__file__).parents[1] / "data" / "applied" / "vars"
FLEETS = sorted(p.name for p in DATA.iterdir())


@pytest.mark.parametrize("fleet", FLEETS)
def test_sync_files(fleet: str, tmp_path: Path) -> None:
    repo = tmp_path / fleet
    shutil.copytree(DATA / fleet, repo, ignore=shutil.ignore_patterns("expected"))
    tree = DiskTree(repo)
    files = plan(tree, load_fleet(tree)).files
    for want in sorted((DATA / fleet / "expected").iterdir()):
        cluster = want.name.removesuffix(".sync.yaml")
        assert files[sync_path(cluster)].decode() == want.read_text(), cluster


def test_builtins_and_precedence() -> None:
    fleet = load_fleet(DiskTree(DATA / "config-defaults"))
    a = cluster_vars(fleet.config, fleet.clusters["a"])
    assert a == {
        "cluster_name": "a",
        "gpu_tier": "h100",
        "registry": "registry.example.com",
        "replicas": "4",
        "zone": "zone-1",
    }
    assert cluster_vars(fleet.config, fleet.clusters["c"]) is None  # argocd: no post-build step
