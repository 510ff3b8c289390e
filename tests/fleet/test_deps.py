"""Which clusters a changed file affects, from kustomization references only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.fleet import deps
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree
from tests.fleetrepo import validate_base_fleet

ALL = ["zone-1-dev", "zone-1-prod", "zone-2-prod"]


@pytest.fixture()
def fleet(tmp_path: Path) -> Path:
    return validate_base_fleet(tmp_path / "fleet")


@pytest.mark.parametrize(
    ("changed", "clusters"),
    [
        ("gitops-gen.yaml", ALL),
        ("clusters/zone-1-prod/cluster.yaml", ["zone-1-prod"]),
        ("clusters/zone-2-prod/sync.yaml", ["zone-2-prod"]),
        ("mapping/zone-1-dev/kustomization.yaml", ["zone-1-dev"]),
        ("apps/private-detector/env/dev/mig-slice.yaml", ["zone-1-dev"]),
        ("apps/private-detector/env/dev/kustomization.yaml", ["zone-1-dev"]),
        ("apps/private-detector/zone/zone-1/gpu-node.yaml", ["zone-1-dev", "zone-1-prod"]),
        ("apps/private-detector/base/service.yaml", ["zone-1-dev", "zone-1-prod"]),  # disabled on zone-2-prod
        ("apps/toxicity-detector/base/deployment.yaml", ["zone-1-prod", "zone-2-prod"]),
        ("apps/toxicity-detector/cluster/zone-2-prod/kustomization.yaml", ["zone-2-prod"]),
        ("apps/toxicity-detector/zone/zone-2/h100.yaml", ["zone-2-prod"]),
        ("apps/spam-detector/base/deployment.yaml", ALL),  # through the hand-written chains
        ("apps/spam-detector/zone-1-dev/kustomization.yaml", ["zone-1-dev"]),
        ("apps/private-detector/overlays/zone-1-prod/kustomization.yaml", ["zone-1-prod"]),
        ("apps/private-detector/README.yaml", []),  # referenced by nothing
        ("apps/private-detector/env/staging/kustomization.yaml", []),  # a layer no cluster has
    ],
)
def test_affected(fleet: Path, changed: str, clusters: list[str]) -> None:
    assert deps.affected(fleet, [changed]).names(ALL) == clusters


def test_affected_matches_what_the_engine_reads(fleet: Path) -> None:
    """Oracle: a file affects a cluster exactly when building the cluster's mapping reads it."""
    tree = DiskTree(fleet)
    read_by: dict[str, set[str]] = {}
    for cluster in ALL:
        engine = Engine(tree, warnings=False)
        engine.build(f"mapping/{cluster}")
        for path in engine.files_read:
            read_by.setdefault(path, set()).add(cluster)
    assert len(read_by) > 15
    for path, clusters in sorted(read_by.items()):
        if path.startswith(("apps/", "mapping/")):
            assert deps.affected(fleet, [path]).names(ALL) == sorted(clusters), path


def test_generator_files_and_cross_app_references(fleet: Path) -> None:
    comp = fleet / "apps/private-detector/env/prod"
    (comp / "extra.env").write_text("A=1\n")
    text = (comp / "kustomization.yaml").read_text()
    (comp / "kustomization.yaml").write_text(
        text.replace("  - LOG_LEVEL=warning\n", "  - LOG_LEVEL=warning\n  envs:\n  - extra.env\n")
    )
    assert deps.affected(fleet, ["apps/private-detector/env/prod/extra.env"]).names(ALL) == ["zone-1-prod"]
    # A hand-written overlay of one app that reuses another app's directory.
    chain = fleet / "apps/spam-detector/bumble/kustomization.yaml"
    chain.write_text(chain.read_text().replace("- ../base\n", "- ../base\n- ../../toxicity-detector/base\n"))
    assert deps.affected(fleet, ["apps/toxicity-detector/base/service.yaml"]).names(ALL) == ALL


def test_several_files_union(fleet: Path) -> None:
    got = deps.affected(
        fleet,
        [
            "apps/private-detector/env/dev/mig-slice.yaml",
            "apps/toxicity-detector/cluster/zone-2-prod/kustomization.yaml",
        ],
    )
    assert got.names(ALL) == ["zone-1-dev", "zone-2-prod"]
    assert "apps/private-detector/env/dev" in got.reaching


def test_relative_paths(fleet: Path, tmp_path: Path) -> None:
    assert deps.relative(fleet, Path("env/dev/x.yaml"), fleet / "apps/app") == "apps/app/env/dev/x.yaml"
    assert deps.relative(fleet, fleet / "gitops-gen.yaml") == "gitops-gen.yaml"
    assert deps.relative(fleet, tmp_path / "elsewhere.yaml") is None


def test_closure_follows_components_and_chains(fleet: Path) -> None:
    index = deps.Index(fleet)
    index.hand_written([])
    closure = index.closure("mapping/zone-1-dev")
    assert {
        "apps/private-detector/env/dev",
        "apps/private-detector/base",
        "apps/spam-detector/bumble",
        "apps/spam-detector/base",
    } <= closure
    assert "apps/private-detector/env/prod" not in closure


def test_bad_yaml_in_a_kustomization_does_not_crash(fleet: Path) -> None:
    (fleet / "apps/private-detector/env/dev/kustomization.yaml").write_text("patches: [\n")
    # Unreadable, it names nothing; but the variant that names its directory may read any file in it.
    assert deps.affected(fleet, ["apps/private-detector/env/dev/mig-slice.yaml"]).names(ALL) == ["zone-1-dev"]
    assert deps.affected(fleet, ["apps/private-detector/env/dev/kustomization.yaml"]).names(ALL) == [
        "zone-1-dev"
    ]


def test_a_deleted_directory_affects_the_clusters_that_used_it_at_head(fleet: Path) -> None:
    import git

    from gitops_gen.gitflow.git import RevisionFiles
    from gitops_gen.repo.tree import GitTree
    from tests.fleetrepo import git as run_git

    run_git(fleet, "init", "-q")
    run_git(fleet, "add", "-A")
    run_git(fleet, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "fleet")
    run_git(fleet, "rm", "-q", "-r", "apps/private-detector/env/prod")
    gone = ["apps/private-detector/env/prod/kustomization.yaml"]
    # The generated variant still names the directory that is gone, so the working tree says who read it ...
    assert deps.affected(fleet, gone).names(ALL) == ["zone-1-prod"]
    # ... and HEAD's tree does, as it must for a kustomization deleted with it.
    head = deps.Index(fleet, deps.TreeFiles(GitTree(git.Repo(fleet), "HEAD")))
    assert deps.affected(fleet, gone, head).names(ALL) == ["zone-1-prod"]
    chain = ["apps/spam-detector/bumble/kustomization.yaml"]
    run_git(fleet, "rm", "-q", *chain)
    assert deps.affected(fleet, chain, head).names(ALL) == ALL  # zone-1-dev chains through bumble
    # The hook's fast reader of HEAD (one ls-tree, one cat-file process) answers the same.
    listing = RevisionFiles(fleet, "HEAD")
    try:
        for paths in (gone, chain, ["apps/private-detector/base/service.yaml"]):
            assert deps.affected(fleet, paths, deps.Index(fleet, listing)) == deps.affected(
                fleet, paths, head
            )
    finally:
        listing.close()


def test_plugin_configs_helm_chart_homes_and_files_beside_a_kustomization(fleet: Path) -> None:
    base = fleet / "apps/private-detector/base/kustomization.yaml"
    base.write_text(
        base.read_text()
        + "transformers:\n- ../../../shared/labels\nhelmGlobals:\n  chartHome: ../../../vendor/charts\n"
    )
    users = ["zone-1-dev", "zone-1-prod"]
    # A kustomization directory named as a plugin config, anywhere in the repository ...
    assert deps.affected(fleet, ["shared/labels/labels.yaml"]).names(ALL) == users
    # ... a chart home that climbs out of the kustomization ...
    assert deps.affected(fleet, ["vendor/charts/x/values.yaml"]).names(ALL) == users
    # ... and any file in the kustomization's own directory (configurations, plugin and helm values
    # files may only lie in or below it), named or not.
    assert deps.affected(fleet, ["apps/private-detector/base/extra/config.yaml"]).names(ALL) == users
    assert deps.affected(fleet, ["shared/other.yaml"]).names(ALL) == []


def test_a_chain_through_a_kustomization_under_clusters_is_followed_through_the_inventory(
    fleet: Path,
) -> None:
    extra = fleet / "clusters/zone-1-dev/extra"
    extra.mkdir()
    (extra / "kustomization.yaml").write_text("resources:\n- ../../../shared/policy\n")
    base = fleet / "apps/toxicity-detector/base/kustomization.yaml"
    base.write_text(base.read_text() + "components:\n- ../../../clusters/zone-1-dev/extra\n")
    changed = ["shared/policy/policy.yaml"]
    assert deps.affected(fleet, changed).names(ALL) == []  # validate's view: clusters/ is not walked
    assert deps.affected(fleet, changed, through_inventory=True).names(ALL) == ["zone-1-prod", "zone-2-prod"]
