"""`gitops-gen diff` between git revisions of the example fleet, read from git objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.fleet.render import DocumentCache
from gitops_gen.gitflow.diff import HASHED, compare_cluster, gpu_requests
from gitops_gen.secrets import mask_object as mask_secret
from tests.fleetrepo import example_fleet_repo, git, status

SECRET = "s3cr3t-token-value"


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--repo", str(repo)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return example_fleet_repo(tmp_path / "fleet")


def bump_prod_replicas(repo: Path) -> None:
    path = repo / "apps/private-detector/env/prod/kustomization.yaml"
    path.write_text(path.read_text().replace("count: 10", "count: 12"))


def test_replicas_change_lists_exactly_the_clusters_that_run_it(fleet: Path) -> None:
    bump_prod_replicas(fleet)
    git(fleet, "commit", "-qam", "more replicas")
    before = status(fleet)
    code, out, _ = run(fleet, "diff", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0
    assert "=== cluster zone-1-prod" in out
    assert "zone-1-dev" not in out and "zone-2-prod" not in out  # dev has 1 replica; zone-2 has it disabled
    assert "-  replicas: 10\n" in out and "+  replicas: 12\n" in out
    assert "1 cluster(s) changed, 2 unchanged" in out
    assert status(fleet) == before, "diff must not touch HEAD, the index or the worktree"


def test_worktree_head_and_exit_code(fleet: Path) -> None:
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--exit-code")
    assert (code, out) == (0, "0 cluster(s) changed, 3 unchanged\n")
    bump_prod_replicas(fleet)
    before = status(fleet)
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--exit-code")
    assert code == 1
    assert "+  replicas: 12" in out
    assert status(fleet) == before


def test_json_and_markdown(fleet: Path) -> None:
    bump_prod_replicas(fleet)
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert [c["name"] for c in data["clusters"]] == ["zone-1-prod"]
    (obj,) = data["clusters"][0]["objects"]
    assert (obj["kind"], obj["name"], obj["status"]) == ("Deployment", "private-detector", "changed")
    # private-detector goes from 10 to 12 GPUs; toxicity-detector and llm-server (a HelmRelease) keep 2 each
    assert data["clusters"][0]["gpu"] == {"before": {"nvidia.com/gpu": 14}, "after": {"nvidia.com/gpu": 16}}
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--format", "markdown")
    assert "| cluster | status | added | changed | removed | GPU / MIG requests |" in out
    assert "| zone-1-prod | changed | 0 | 1 | 0 | gpu: 14 → 16 |" in out
    assert "<details>" in out and "```diff" in out


def add_secret(repo: Path, value: str) -> None:
    comp = repo / "apps/private-detector/env/prod/kustomization.yaml"
    comp.write_text(
        comp.read_text() + f"secretGenerator:\n- name: api-token\n  literals:\n  - TOKEN={value}\n"
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_secret_values_never_printed(fleet: Path, fmt: str) -> None:
    import base64

    add_secret(fleet, SECRET)
    git(fleet, "commit", "-qam", "secret")
    add_secret_value = SECRET + "-rotated"
    comp = fleet / "apps/private-detector/env/prod/kustomization.yaml"
    comp.write_text(comp.read_text().replace(SECRET, add_secret_value))
    for base in ("HEAD~1", "HEAD"):  # a new secret, then a changed one
        code, out, _ = run(fleet, "diff", "--base", base, "--format", fmt)
        assert code == 0
        assert "api-token" in out
        for value in (SECRET, add_secret_value):
            assert value not in out
            assert base64.b64encode(value.encode()).decode() not in out
        assert "<masked" in out


def test_hash_suffix_change_is_a_rename() -> None:
    old = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg-abcdefgh12"}, "data": {"a": "1"}}
    ]
    new = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg-kk5gt8b7m9"}, "data": {"a": "2"}}
    ]
    assert HASHED.match("cfg-abcdefgh12")
    cd = compare_cluster("c", old, new, DocumentCache(), "a", "b")
    assert [(c.status, c.key[2], c.old_name) for c in cd.changes] == [
        ("renamed", "cfg-kk5gt8b7m9", "cfg-abcdefgh12")
    ]
    assert '-  a: "1"' in cd.changes[0].diff and '+  a: "2"' in cd.changes[0].diff


def test_mask_secret_marks_changed_values_only() -> None:
    old = {"kind": "Secret", "data": {"a": "eA==", "b": "eQ=="}}
    new = {"kind": "Secret", "data": {"a": "eA==", "b": "eg==", "c": "cQ=="}, "stringData": {"d": "plain"}}
    assert mask_secret(new, old)["data"] == {"a": "<masked>", "b": "<masked: changed>", "c": "<masked>"}
    assert mask_secret(new, old)["stringData"] == {"d": "<masked>"}
    assert mask_secret({"kind": "ConfigMap", "data": {"a": "b"}}) == {"kind": "ConfigMap", "data": {"a": "b"}}


def test_gpu_requests_count_replicas_and_parallelism() -> None:
    def pod(limits: dict[str, object]) -> dict[str, object]:
        return {"containers": [{"name": "a", "resources": {"limits": limits}}, {"name": "b"}]}

    objs = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "spec": {"replicas": 3, "template": {"spec": pod({"nvidia.com/gpu": 2})}},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "spec": {"parallelism": 2, "template": {"spec": pod({"nvidia.com/mig-1g.5gb": 1})}},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "spec": {"template": {"spec": pod({"nvidia.com/gpu": "1", "cpu": "2"})}},
        },
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "spec": {"workerGroupSpecs": [{"replicas": 2, "template": {"spec": pod({"nvidia.com/gpu": 4})}}]},
        },  # custom resources count too
    ]
    assert gpu_requests(objs) == {"nvidia.com/gpu": 15, "nvidia.com/mig-1g.5gb": 2}


def test_markdown_is_capped_with_a_note(fleet: Path) -> None:
    bump_prod_replicas(fleet)
    (fleet / "apps/toxicity-detector/base/deployment.yaml").write_text(
        (fleet / "apps/toxicity-detector/base/deployment.yaml")
        .read_text()
        .replace("replicas:", "minReadySeconds: 5\n  replicas:", 1)
    )
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--format", "markdown", "--max-chars", "900")
    assert code == 0
    assert "Truncated" in out
    assert len(out) < 900 + 300


def test_unknown_revision_is_one_line(fleet: Path) -> None:
    code, _, err = run(fleet, "diff", "--base", "no-such-rev")
    assert code == 2
    assert err == "gitops-gen: error: unknown git revision 'no-such-rev'\n"


def test_markdown_names_the_line_that_set_each_changed_field(fleet: Path) -> None:
    bump_prod_replicas(fleet)
    code, out, _ = run(fleet, "diff", "--base", "HEAD", "--format", "markdown")
    assert code == 0
    assert "- `spec.replicas` set by `apps/private-detector/env/prod/kustomization.yaml:6`" in out


def test_only_restricts_the_diff_to_those_clusters(fleet: Path) -> None:
    from gitops_gen.gitflow.diff import diff_revisions

    base = fleet / "apps/private-detector/base/deployment.yaml"
    base.write_text(base.read_text().replace("periodSeconds: 10", "periodSeconds: 15"))
    git(fleet, "commit", "-qam", "slower probe")
    every = diff_revisions(fleet, "HEAD~1", "HEAD")
    some = diff_revisions(fleet, "HEAD~1", "HEAD", only=frozenset({"zone-1-dev", "no-such-cluster"}))
    assert [c.name for c in every.clusters] == ["zone-1-dev", "zone-1-prod"]
    assert [c.name for c in some.clusters] == ["zone-1-dev"]
    assert some.clusters[0].signature() == every.clusters[0].signature()
    assert (every.unchanged, some.unchanged) == (1, 0)


@pytest.mark.parametrize("incremental", [False, True])
def test_progress_is_told_each_cluster_diffed_then_the_end(fleet: Path, incremental: bool) -> None:
    from gitops_gen.gitflow.diff import diff_revisions

    dev = fleet / "apps/private-detector/env/dev/mig-slice.yaml"
    dev.write_text(dev.read_text() + "# reviewed\n")
    calls: list[tuple[int, int]] = []
    diff_revisions(
        fleet, "HEAD", None, incremental=incremental, on_progress=lambda d, t: calls.append((d, t))
    )
    total = 3 if not incremental else 1  # incremental: only zone-1-dev reads the file
    assert calls == [(i, total) for i in range(total + 1)]
