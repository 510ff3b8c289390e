"""The incremental diff renders only the clusters whose inputs differ, and never misses a change.

Each case edits the example fleet one way; the diff that renders only the affected clusters must
equal the diff that renders every cluster at both sides, between two commits and between a
commit and the working tree, and must have rendered exactly the clusters named.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.gitflow.diff import FleetDiff, diff_revisions
from gitops_gen.kustomize.build import Engine
from tests.conftest import fresh_cli
from tests.fleetrepo import edit, example_fleet_repo, git

ALL = frozenset({"zone-1-dev", "zone-1-prod", "zone-2-prod"})
ENV_FILE = "apps/private-detector/env/prod/tuning.env"


def generate(repo: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--repo", str(repo)])
    assert result.exit_code == 0, result.output


def base_file(repo: Path) -> None:
    edit(repo, "apps/private-detector/base/deployment.yaml", "periodSeconds: 10", "periodSeconds: 15")


def component(repo: Path) -> None:
    edit(repo, "apps/private-detector/env/prod/kustomization.yaml", "count: 10", "count: 11")


def patch(repo: Path) -> None:
    edit(repo, "apps/private-detector/zone/zone-1/gpu-node.yaml", "NVIDIA-A100", "NVIDIA-A100X")


def env_file(repo: Path) -> None:
    edit(repo, ENV_FILE, "BATCH=8", "BATCH=16")


def config(repo: Path) -> None:
    edit(repo, "gitops-gen.yaml", 'namespace: "{app}"', 'namespace: "{app}-ns"')
    generate(repo)


def cluster_yaml(repo: Path) -> None:
    edit(repo, "clusters/zone-1-dev/cluster.yaml", "log_level: debug", "log_level: trace")
    generate(repo)


def sync_yaml(repo: Path) -> None:
    # A hand edit of a generated file: still what the cluster applies (post-build substitution).
    edit(repo, "clusters/zone-1-dev/sync.yaml", "log_level: debug", "log_level: info")


def helm_values(repo: Path) -> None:
    # Read by the applied view through the HelmRelease, not by any kustomization.
    edit(repo, "apps/llm-server/chart/values.yaml", "memory: 24Gi}\n", "memory: 32Gi}\n")


def helm_template(repo: Path) -> None:
    path = repo / "apps/llm-server/chart/templates/service.yaml"
    path.write_text(path.read_text().replace("port: 80", "port: 8080", 1))


def deleted_file(repo: Path) -> None:
    (repo / "apps/toxicity-detector/zone/zone-2/h100.yaml").unlink()
    edit(repo, "apps/toxicity-detector/zone/zone-2/kustomization.yaml", "patches:\n- path: h100.yaml\n", "")


def renamed_file(repo: Path) -> None:
    old, new = repo / "apps/private-detector/env/dev/mig-slice.yaml", "mig.yaml"
    old.rename(old.with_name(new))
    edit(repo, "apps/private-detector/env/dev/kustomization.yaml", "mig-slice.yaml", new)


def new_cluster(repo: Path) -> None:
    shutil.copytree(repo / "clusters/zone-1-prod", repo / "clusters/zone-1-prod-b")
    (repo / "clusters/zone-1-prod-b/sync.yaml").unlink()
    edit(repo, "clusters/zone-1-prod-b/cluster.yaml", "name: zone-1-prod", "name: zone-1-prod-b")
    generate(repo)


def removed_cluster(repo: Path) -> None:
    shutil.rmtree(repo / "clusters/zone-2-prod")
    generate(repo)


def readme(repo: Path) -> None:
    (repo / "apps/private-detector/NOTES.md").write_text("read by nothing\n")


def chain_overlay(repo: Path) -> None:
    path = repo / "apps/spam-detector/bumble/kustomization.yaml"
    path.write_text(path.read_text() + "commonAnnotations:\n  team: spam\n")


# (case, edit, the clusters it must render); zone-2-prod has private-detector disabled, only
# zone-1-prod runs llm-server (a HelmRelease, so a file no kustomization reads may matter there).
CASES: list[tuple[str, Callable[[Path], None], frozenset[str]]] = [
    ("base", base_file, frozenset({"zone-1-dev", "zone-1-prod"})),
    ("component", component, frozenset({"zone-1-prod"})),
    ("patch", patch, frozenset({"zone-1-dev", "zone-1-prod"})),
    ("generator-env", env_file, frozenset({"zone-1-prod"})),
    ("gitops-gen.yaml", config, ALL),
    ("cluster.yaml", cluster_yaml, frozenset({"zone-1-dev"})),
    ("sync.yaml", sync_yaml, frozenset({"zone-1-dev"})),
    ("helmrelease-values", helm_values, frozenset({"zone-1-prod"})),
    ("helm-template", helm_template, frozenset({"zone-1-prod"})),
    ("deleted-file", deleted_file, frozenset({"zone-2-prod"})),
    ("renamed-file", renamed_file, frozenset({"zone-1-dev"})),
    ("new-cluster", new_cluster, frozenset({"zone-1-prod-b"})),
    ("removed-cluster", removed_cluster, frozenset({"zone-2-prod"})),
    ("unread-file", readme, frozenset({"zone-1-prod"})),
    ("chain-overlay", chain_overlay, ALL),
]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    repo = example_fleet_repo(tmp_path / "fleet")
    # A generator .env file, so that a change to one is among the cases.
    (repo / ENV_FILE).write_text("BATCH=8\n")
    edit(
        repo,
        "apps/private-detector/env/prod/kustomization.yaml",
        "  - LOG_LEVEL=warning\n",
        "  - LOG_LEVEL=warning\n  envs:\n  - tuning.env\n",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tuning")
    return repo


def same(incremental: FleetDiff, full: FleetDiff) -> None:
    assert incremental.clusters == full.clusters
    assert incremental.unchanged == full.unchanged
    assert full.rendered == full.rendered | incremental.rendered


@pytest.mark.parametrize(("name", "change", "rendered"), CASES, ids=[c[0] for c in CASES])
def test_incremental_equals_full(
    fleet: Path, name: str, change: Callable[[Path], None], rendered: frozenset[str]
) -> None:
    change(fleet)
    # The working tree against HEAD (nothing staged, new files untracked) ...
    inc = diff_revisions(fleet, "HEAD", None)
    same(inc, diff_revisions(fleet, "HEAD", None, incremental=False))
    assert inc.rendered == rendered
    # ... and the same change committed, between two revisions.
    git(fleet, "add", "-A")
    git(fleet, "commit", "-q", "-m", name)
    inc = diff_revisions(fleet, "HEAD~1", "HEAD")
    full = diff_revisions(fleet, "HEAD~1", "HEAD", incremental=False)
    same(inc, full)
    assert inc.rendered == rendered
    assert full.rendered >= ALL - {"zone-2-prod"}
    if name not in ("unread-file", "renamed-file"):
        assert inc.clusters, "each case changes some cluster's output"


def test_nothing_changed_renders_nothing(fleet: Path) -> None:
    fd = diff_revisions(fleet, "HEAD", "HEAD")
    assert (fd.clusters, fd.unchanged, fd.rendered) == ([], 3, frozenset())


def test_only_and_incremental_together(fleet: Path) -> None:
    base_file(fleet)
    fd = diff_revisions(fleet, "HEAD", None, only=frozenset({"zone-1-prod", "zone-2-prod"}))
    assert fd.rendered == {"zone-1-prod"}
    assert ([c.name for c in fd.clusters], fd.unchanged) == (["zone-1-prod"], 1)


def test_worker_processes_give_the_serial_result(fleet: Path) -> None:
    base_file(fleet)
    component(fleet)
    spy = "gitops_gen.gitflow.diff:_diff_parallel"
    args = ("diff", "--repo", str(fleet), "--base", "HEAD", "--format", "json", "-j", "2")
    # In a fresh interpreter: this session has run the helm SDK, and such a process never forks.
    code, out, err = fresh_cli(*args, set_attrs={"gitops_gen.gitflow.diff:PER_WORKER": 1}, spy=(spy,))
    assert f"ran {spy}" in err and code == 0
    serial = CliRunner().invoke(main, list(args))
    assert out == serial.stdout and json.loads(out)["clusters"]
    # A cluster that does not render fails the whole diff, as the serial one does.
    (fleet / "apps/private-detector/base/kustomization.yaml").write_text("resources: [missing.yaml]\n")
    code, _, err = fresh_cli(*args, set_attrs={"gitops_gen.gitflow.diff:PER_WORKER": 1}, spy=(spy,))
    assert code == 1 and "cannot render cluster zone-1-dev at worktree" in err


def test_the_head_side_builds_again_only_what_the_change_reaches(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lent: list[str] = []
    real = Engine.lend

    def spy(self: Engine, directory: str) -> Any:
        found = real(self, directory)
        if found is not None:
            lent.append(directory)
        return found

    monkeypatch.setattr(Engine, "lend", spy)
    component(fleet)  # the prod env component of private-detector, which zone-1-prod alone renders
    git(fleet, "commit", "-qam", "component")
    same(diff_revisions(fleet, "HEAD~1", "HEAD"), diff_revisions(fleet, "HEAD~1", "HEAD", incremental=False))
    assert "apps/private-detector/base" in lent  # below the change: the base side's build
    assert not [d for d in lent if d.startswith(("apps/private-detector/overlays/", "mapping/"))], lent
