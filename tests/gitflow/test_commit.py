"""`gitops-gen commit` in temporary git repositories (a local bare repo stands in for the remote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo, git, status


def commit(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["commit", "--repo", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return example_fleet_repo(tmp_path / "fleet")


def drop_toxicity_from_zone_1_prod(repo: Path) -> None:
    path = repo / "clusters/zone-1-prod/cluster.yaml"
    path.write_text(
        path.read_text().replace("    - toxicity-detector              # 2 replicas x 1 GPU\n", "")
    )


def test_staged_inventory_change_is_committed_with_its_regenerated_files(fleet: Path) -> None:
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "clusters/zone-1-prod/cluster.yaml")
    before = head(fleet)
    code, out, err = commit(fleet, "-m", "zone-1-prod: no toxicity-detector")
    assert "committed" in out
    assert code == 0, err
    assert head(fleet) != before
    changed = git(fleet, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert "M\tclusters/zone-1-prod/cluster.yaml" in changed
    assert "M\tmapping/zone-1-prod/kustomization.yaml" in changed
    assert "D\tapps/toxicity-detector/overlays/zone-1-prod/kustomization.yaml" in changed
    message = git(fleet, "log", "-1", "--format=%B")
    assert message.startswith("zone-1-prod: no toxicity-detector\n") and "Clusters: zone-1-prod" in message
    assert git(fleet, "status", "--porcelain") == ""
    assert git(fleet, "log", "-1", "--format=%an <%ae>").strip() == "Fleet Tester <fleet@example.com>"


def test_generates_missing_files_and_a_second_commit_is_a_no_op(fleet: Path) -> None:
    git(fleet, "rm", "-q", "mapping/zone-1-dev/kustomization.yaml")
    git(fleet, "commit", "-qm", "lose a mapping")
    code, _, err = commit(fleet, "-m", "regenerate")
    assert code == 0, err
    assert git(fleet, "ls-files", "mapping/zone-1-dev/kustomization.yaml").strip()
    assert git(fleet, "status", "--porcelain") == ""
    before = status(fleet)
    code, out, _ = commit(fleet, "-m", "again")
    assert code == 0 and "nothing to commit" in out
    assert status(fleet) == before


def test_invalid_fleet_is_refused_and_head_stays(fleet: Path) -> None:
    patch = fleet / "apps/private-detector/env/dev/mig-slice.yaml"
    patch.write_text(patch.read_text().replace("mig-1g.5gb", "mig-2g.20gb"))  # not a profile of A100 40GB
    git(fleet, "add", "-A")
    before = head(fleet)
    code, _, err = commit(fleet, "-m", "bad profile")
    assert code == 1
    assert "apps/private-detector/env/dev/mig-slice.yaml:" in err and "nothing committed" in err
    assert "Traceback" not in err
    assert head(fleet) == before


def test_nothing_to_commit_checks_nothing_but_a_push_checks_what_it_sends(
    fleet: Path, tmp_path: Path
) -> None:
    remote = bare_remote(fleet, tmp_path)
    patch = fleet / "apps/private-detector/env/dev/mig-slice.yaml"
    patch.write_text(patch.read_text().replace("mig-1g.5gb", "mig-2g.20gb"))  # not a profile of A100 40GB
    git(fleet, "commit", "-qam", "bad profile, past the hook")  # plain git: HEAD was never validated
    bad = head(fleet)
    code, out, err = commit(fleet, "-m", "nothing")
    assert code == 0 and "nothing to commit" in out, err
    assert head(fleet) == bad
    # A push sends HEAD on: validated then, and refused.
    code, _, err = commit(fleet, "-m", "nothing", "--push")
    assert code == 1 and "apps/private-detector/env/dev/mig-slice.yaml:" in err, err
    assert git(remote, "rev-parse", "main") != bad


def test_unstaged_input_edits_are_refused(fleet: Path) -> None:
    drop_toxicity_from_zone_1_prod(fleet)
    before = status(fleet)
    code, _, err = commit(fleet, "-m", "forgot to stage")
    assert code == 1
    assert "unstaged changes to input files: clusters/zone-1-prod/cluster.yaml" in err
    assert status(fleet) == before


def test_untracked_new_cluster_is_refused(fleet: Path) -> None:
    new = fleet / "clusters/zone-3-dev"
    new.mkdir()
    (new / "cluster.yaml").write_text(
        (fleet / "clusters/zone-1-dev/cluster.yaml")
        .read_text()
        .replace("name: zone-1-dev", "name: zone-3-dev")
    )
    code, _, err = commit(fleet, "-m", "new cluster")
    assert code == 1 and "clusters/zone-3-dev/cluster.yaml" in err


def bare_remote(fleet: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(fleet, "remote", "add", "origin", str(remote))
    git(fleet, "push", "-q", "-u", "origin", "main")
    return remote


def test_push_to_upstream(fleet: Path, tmp_path: Path) -> None:
    remote = bare_remote(fleet, tmp_path)
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "push me", "--push")
    assert code == 0, err
    assert git(remote, "rev-parse", "main") == git(fleet, "rev-parse", "HEAD")


def test_push_without_upstream_prints_all_git_said_and_keeps_the_commit(fleet: Path) -> None:
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "-A")
    before = head(fleet)
    code, _, err = commit(fleet, "-m", "no remote", "--push")
    assert code == 1
    first, *rest = err.splitlines()
    assert first.startswith("gitops-gen: error: git push failed (the local commit stays)"), err
    said = "\n".join(rest)
    # git's reason and its advice, not just the last line.
    assert "    fatal: No configured push destination." in said, err
    assert "git remote add <name> <url>" in said and "git push <name>" in said, err
    assert "Traceback" not in err
    assert head(fleet) != before


def test_push_with_no_upstream_branch_says_how_to_set_it(fleet: Path, tmp_path: Path) -> None:
    bare_remote(fleet, tmp_path)
    git(fleet, "checkout", "-q", "-b", "feature")
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "on a new branch", "--push")
    assert code == 1
    assert "    fatal: The current branch feature has no upstream branch." in err, err
    assert "git push --set-upstream origin feature" in err, err


def test_commit_refused_by_a_git_hook_prints_the_hooks_reason(fleet: Path) -> None:
    hook = fleet / ".git/hooks/pre-commit"
    hook.write_text(
        "#!/bin/sh\necho 'policy check: 2 problems' >&2\necho '  missing ticket id' >&2\n"
        "echo '  see the team wiki'\nexit 1\n"
    )
    hook.chmod(0o755)
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "-A")
    before = head(fleet)
    code, _, err = commit(fleet, "-m", "refused")
    assert code == 1
    assert err.startswith("gitops-gen: error: git commit failed"), err
    for said in ("    policy check: 2 problems", "      missing ticket id", "      see the team wiki"):
        assert said in err.splitlines(), err
    assert head(fleet) == before


def test_rendered_manifests_branch(fleet: Path, tmp_path: Path) -> None:
    rendered = tmp_path / "rendered"
    subprocess.run(["git", "init", "-q", "-b", "main", str(rendered)], check=True)
    for key, value in (
        ("user.email", "r@example.com"),
        ("user.name", "Renderer"),
        ("commit.gpgsign", "false"),
    ):
        git(rendered, "config", key, value)
    code, _, err = commit(fleet, "-m", "render", "--rendered-to", str(rendered))
    assert code == 0, err
    # Written with plumbing: the branch exists, the target's own checkout (unborn main) is untouched.
    assert git(rendered, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(rendered, "status", "--porcelain", "--untracked-files=all") == ""
    files = git(rendered, "ls-tree", "-r", "--name-only", "rendered").split()
    assert "zone-1-prod/default/deployment-private-detector.yaml" in files or any(
        f.startswith("zone-1-prod/") and f.endswith("deployment-private-detector.yaml") for f in files
    )
    source = head(fleet)
    assert f"Source-Commit: {source}" in git(rendered, "log", "-1", "--format=%B", "rendered")
    first = git(rendered, "rev-parse", "rendered")
    code, _, _ = commit(fleet, "-m", "same again", "--rendered-to", str(rendered))
    assert code == 0 and git(rendered, "rev-parse", "rendered") == first, (
        "same source must not make a new rendered commit"
    )
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "remove an app", "--rendered-to", str(rendered))
    assert code == 0, err
    after = git(rendered, "ls-tree", "-r", "--name-only", "rendered").split()
    assert not any(f.startswith("zone-1-prod/") and "toxicity" in f for f in after)
    assert any(f.startswith("zone-2-prod/") and "toxicity" in f for f in after)
    assert git(rendered, "status", "--porcelain") == ""


def cli(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--repo", str(repo)])
    return result.exit_code, result.stdout, result.stderr


def assert_head_is_current(fleet: Path, tmp_path: Path) -> None:
    """A clean checkout of HEAD passes `generate --check` and `validate`."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(fleet), str(clone)], check=True)
    code, out, err = cli(clone, "generate", "--check")
    assert code == 0, out + err
    code, out, err = cli(clone, "validate")
    assert code == 0, out + err


AUTHORING = {
    "disable": ["disable", "toxicity-detector", "--cluster", "zone-1-prod"],
    "enable": ["enable", "private-detector", "--cluster", "zone-2-prod"],
    "new-cluster": [
        "new",
        "cluster",
        "zone-3-dev",
        "--from",
        "zone-1-dev",
        "--layer",
        "company=bumble",
        "--layer",
        "zone=zone-1",
        "--layer",
        "env=dev",
    ],
    "new-app": ["new", "app", "embedder", "--image", "registry.example.com/embedder:1.0.0"],
    "new-layer": ["new", "layer", "toxicity-detector", "env=prod"],
    "set-image": ["set", "image", "private-detector", "pd:1.15.0", "--layer", "env=prod"],
}


@pytest.mark.parametrize("name", sorted(AUTHORING))
def test_authoring_command_then_commit_leaves_a_current_head(fleet: Path, tmp_path: Path, name: str) -> None:
    code, out, err = cli(fleet, *AUTHORING[name])
    assert code == 0, out + err
    # As a user would: stage the hand-written files the command reports, not the generated ones.
    authored = [line.split(": ")[0] for line in out.splitlines() if line.endswith((": edited", ": created"))]
    assert authored, out
    git(fleet, "add", "--", *authored)
    code, out, err = commit(fleet, "-m", name)
    assert code == 0, out + err
    assert git(fleet, "status", "--porcelain") == ""
    assert_head_is_current(fleet, tmp_path)


def test_deletion_made_before_commit_is_committed(fleet: Path, tmp_path: Path) -> None:
    code, out, err = cli(fleet, "disable", "toxicity-detector", "--cluster", "zone-1-prod")
    assert code == 0, out + err
    assert "apps/toxicity-detector/overlays/zone-1-prod/kustomization.yaml: removed" in out
    git(fleet, "add", "clusters/zone-1-prod/cluster.yaml")
    code, out, err = commit(fleet, "-m", "zone-1-prod: no toxicity-detector")
    assert code == 0, out + err
    changed = git(fleet, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert "D\tapps/toxicity-detector/overlays/zone-1-prod/kustomization.yaml" in changed
    assert_head_is_current(fleet, tmp_path)


def test_generated_file_deleted_by_hand_is_restored_and_a_stale_one_rewritten(
    fleet: Path, tmp_path: Path
) -> None:
    (fleet / "mapping/zone-1-dev/kustomization.yaml").unlink()
    stale = fleet / "clusters/zone-2-prod/sync.yaml"
    stale.write_text(stale.read_text().replace("selfHeal: true", "selfHeal: false"))
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "clusters/zone-1-prod/cluster.yaml")
    code, out, err = commit(fleet, "-m", "mixed")
    assert code == 0, out + err
    assert git(fleet, "status", "--porcelain") == ""
    assert_head_is_current(fleet, tmp_path)


def test_unstaged_edit_outside_apps_that_a_kustomization_reads_is_refused(fleet: Path) -> None:
    shared = fleet / "shared/monitoring"
    shared.mkdir(parents=True)
    (shared / "kustomization.yaml").write_text("resources:\n- configmap.yaml\n")
    (shared / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scrape\ndata:\n  interval: 30s\n"
    )
    base = fleet / "apps/spam-detector/base/kustomization.yaml"
    base.write_text(base.read_text().replace("resources:\n", "resources:\n- ../../../shared/monitoring\n", 1))
    git(fleet, "add", "-A")
    code, out, err = commit(fleet, "-m", "shared monitoring")
    assert code == 0, out + err
    (shared / "configmap.yaml").write_text((shared / "configmap.yaml").read_text().replace("30s", "10s"))
    (fleet / "NOTES.md").write_text("not read by any kustomization: no reason to refuse\n")
    drop_toxicity_from_zone_1_prod(fleet)
    git(fleet, "add", "clusters")
    before = status(fleet)
    code, _, err = commit(fleet, "-m", "forgot the shared file")
    assert code == 1
    assert "unstaged changes to input files: shared/monitoring/configmap.yaml;" in err, err
    assert status(fleet) == before


def test_validates_and_names_only_the_clusters_the_change_can_affect(fleet: Path) -> None:
    # zone-2-prod is broken at HEAD (committed past gitops-gen): a change that cannot reach it still commits ...
    bad = fleet / "apps/toxicity-detector/zone/zone-2/h100.yaml"
    bad.write_text(bad.read_text().replace("H100-80GB-HBM3", "H100-80GB-HBM9"))
    git(fleet, "commit", "-qam", "broken zone-2 patch")
    assert CliRunner().invoke(main, ["validate", "--repo", str(fleet)]).exit_code == 1
    dev = fleet / "apps/private-detector/env/dev/mig-slice.yaml"
    dev.write_text(dev.read_text() + "# reviewed\n")
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "dev note")
    assert code == 0, err
    assert git(fleet, "log", "-1", "--format=%B").strip().endswith("\n\nClusters: zone-1-dev")
    # ... and one that can reach it is validated and refused.
    bad.write_text(bad.read_text() + "# touched\n")
    git(fleet, "add", "-A")
    before = head(fleet)
    code, _, err = commit(fleet, "-m", "zone-2 note")
    assert code == 1 and "h100.yaml" in err and head(fleet) == before


def test_a_helm_chart_change_names_the_cluster_of_its_helmrelease(fleet: Path) -> None:
    values = fleet / "apps/llm-server/chart/values.yaml"
    values.write_text(values.read_text().replace("memory: 24Gi}", "memory: 32Gi}"))
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "more memory")
    assert code == 0, err
    assert git(fleet, "log", "-1", "--format=%B").strip().endswith("\n\nClusters: zone-1-prod")


CLUSTER_ROLE = (
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: gpu-reader\nrules: []\n"
)


def add_resource(repo: Path, app: str, name: str, text: str) -> None:
    base = repo / f"apps/{app}/base"
    (base / name).write_text(text)
    kust = base / "kustomization.yaml"
    kust.write_text(kust.read_text().replace("resources:\n", f"resources:\n- {name}\n", 1))


def test_a_clash_with_an_untouched_app_of_the_same_mapping_is_refused(fleet: Path) -> None:
    # Only the whole cluster's build sees it: the change's own entries build fine, and so does the
    # untouched one (validate FILE judges the untouched entry from its cache).
    add_resource(fleet, "toxicity-detector", "clusterrole.yaml", CLUSTER_ROLE)
    git(fleet, "add", "-A")
    code, _, err = commit(fleet, "-m", "toxicity reads GPUs")
    assert code == 0, err
    assert CliRunner().invoke(main, ["validate", "--repo", str(fleet)]).exit_code == 0
    add_resource(fleet, "private-detector", "clusterrole.yaml", CLUSTER_ROLE)
    git(fleet, "add", "-A")
    before = head(fleet)
    code, _, err = commit(fleet, "-m", "private reads GPUs too")
    assert code == 1 and "ClusterRole" in err and "gpu-reader" in err, err
    assert head(fleet) == before
