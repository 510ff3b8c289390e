"""`gitops-gen validate` on broken variants of a fixture fleet.

Each ``tests/data/validate/<case>/`` holds only the files that differ from
``tests/data/validate/base-fleet/`` plus ``expected.txt``: one ``path:line rule`` per
expected problem (and ``exit: N`` when the exit code is not 1). The output must hold
exactly those problems (as path:line and rule), with no traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitops_gen.checks import demand
from gitops_gen.checks import validate as validate_module
from gitops_gen.checks.demand import DemandCache, gpu_projection
from gitops_gen.checks.validate import exit_code, merge_clusters, validate
from gitops_gen.cli import main
from gitops_gen.errors import Problem
from gitops_gen.fleet import deps
from gitops_gen.repo import tree
from gitops_gen.repo.tree import DiskTree

DATA = Path(__file__).parents[1] / "data" / "validate"
BASE = DATA / "base-fleet"
REPO = Path(__file__).resolve().parents[1].parent
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir() and p.name != "base-fleet")
LINE = re.compile(
    r"^(?P<path>\S+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning): \[(?P<rule>[^\]]+)\] .+$"
)


def make_fleet(tmp: Path, *cases: str) -> Path:
    repo = tmp / "fleet"
    shutil.copytree(BASE, repo)
    for case in cases:
        shutil.copytree(DATA / case, repo, dirs_exist_ok=True)
        (repo / "expected.txt").unlink(missing_ok=True)
    return repo


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 1, 2), result.output
    return result.exit_code, result.output


def parse_expected(case: str) -> tuple[int, list[str]]:
    code, wanted = 1, []
    for line in (DATA / case / "expected.txt").read_text().splitlines():
        if line.startswith("exit:"):
            code = int(line.split(":", 1)[1])
        elif line.strip():
            wanted.append(line.strip())
    return code, sorted(wanted)


def summarize(output: str) -> list[str]:
    found = []
    for line in output.splitlines():
        m = LINE.match(line)
        assert m, f"not a problem line: {line!r}"
        found.append(f"{m['path']}:{m['line']} {m['rule']}")
    return sorted(found)


def test_cases_cover_the_required_breakages() -> None:
    assert len(CASES) >= 15


def test_base_fleet_is_clean(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    assert run_cli("--repo", str(repo)) == (0, "")


def test_base_fleet_is_the_example_fleet() -> None:
    # The cases are breakages of the fleet the README walks through; a drifted base tests another fleet.
    from tests.fleetrepo import FLEET_PARTS

    def files(root: Path) -> dict[str, bytes]:
        found = {}
        for part in FLEET_PARTS:
            top = root / part
            for path in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
                found[str(path.relative_to(root))] = path.read_bytes()
        return found

    base, example = files(BASE), files(REPO)
    assert sorted(base) == sorted(example)
    assert [p for p in base if base[p] != example[p]] == []


def test_example_fleet_is_clean() -> None:
    assert run_cli("--repo", str(REPO)) == (0, "")


@pytest.mark.parametrize("case", CASES)
def test_broken_fleet(case: str, tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, case)
    code, output = run_cli("--repo", str(repo))
    want_code, wanted = parse_expected(case)
    assert summarize(output) == wanted, output
    assert code == want_code, output


def test_output_is_sorted_and_unique(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "mig-resource-under-single", "k8s-field-type-in-base", "image-latest")
    _, output = run_cli("--repo", str(repo))
    lines = output.splitlines()
    keys = [(m["path"], int(m["line"]), int(m["col"])) for m in map(LINE.match, lines) if m]
    assert len(keys) == len(lines) >= 4
    assert keys == sorted(keys) and len(set(lines)) == len(lines)


def test_json_format_lists_the_same_problems(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "mig-profile-wrong-model", "image-latest")
    code, text = run_cli("--repo", str(repo))
    jcode, raw = run_cli("--repo", str(repo), "--format", "json")
    items = json.loads(raw)
    assert code == jcode == 1
    assert [Problem(**item).format() for item in items] == text.splitlines()
    assert all(item["clusters"] and item["rule"] for item in items)
    assert all("clusters:" not in item["message"] for item in items)
    assert {item["severity"] for item in items} == {"error", "warning"}


def test_a_cluster_that_fails_to_render_does_not_stop_the_others(tmp_path: Path) -> None:
    # zone-2-prod's patch is broken YAML; zone-1-dev still gets its MIG check.
    repo = make_fleet(tmp_path, "patch-yaml-syntax", "mig-profile-wrong-model")
    code, output = run_cli("--repo", str(repo))
    assert code == 1
    assert summarize(output) == [
        "apps/private-detector/env/dev/mig-slice.yaml:13 mig-profile-not-on-gpu",
        "apps/toxicity-detector/zone/zone-2/h100.yaml:9 render",
    ]


def test_a_broken_cluster_yaml_does_not_stop_the_others(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "cluster-wrong-type", "mig-profile-wrong-model")
    _, output = run_cli("--repo", str(repo))
    assert summarize(output) == [
        "apps/private-detector/env/dev/mig-slice.yaml:13 mig-profile-not-on-gpu",
        "clusters/zone-1-prod/cluster.yaml:12 schema",
    ]


def test_problem_names_every_cluster_it_occurs_in(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "k8s-field-type-in-base")
    _, output = run_cli("--repo", str(repo))
    assert output.rstrip().endswith("[3 clusters: zone-1-dev, zone-1-prod, zone-2-prod]")


def test_files_check_only_the_clusters_they_affect(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "mig-profile-wrong-model", "cluster-wrong-type")
    patch = repo / "apps/private-detector/env/dev/mig-slice.yaml"
    code, output = run_cli("--repo", str(repo), str(patch))
    # Only zone-1-dev reaches the patch: zone-1-prod's broken cluster.yaml is not looked at.
    assert (code, summarize(output)) == (
        1,
        ["apps/private-detector/env/dev/mig-slice.yaml:13 mig-profile-not-on-gpu"],
    )
    code, output = run_cli("--repo", str(repo), str(repo / "apps/toxicity-detector/base/deployment.yaml"))
    assert (code, summarize(output)) == (1, ["clusters/zone-1-prod/cluster.yaml:12 schema"])
    code, output = run_cli(
        "--repo", str(repo), str(repo / "apps/spam-detector/zone-1-dev/kustomization.yaml")
    )
    assert (code, output) == (1, output) and "mig-profile-not-on-gpu" in output and "schema" not in output


def test_files_relative_to_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_fleet(tmp_path, "nodeselector-no-pool")
    monkeypatch.chdir(repo / "apps/private-detector")
    problems = validate(DiskTree(repo), [], [Path("zone/zone-1/gpu-node.yaml")])
    assert {(p.path, p.line, p.rule) for p in problems} == {
        ("apps/private-detector/zone/zone-1/gpu-node.yaml", 9, "gpu-selector-no-pool")
    }
    assert exit_code(problems) == 1
    # A file nothing reaches affects no cluster.
    (repo / "apps/private-detector/NOTES.yaml").write_text("a: 1\n")
    assert validate(DiskTree(repo), [], [Path("NOTES.yaml")]) == []


def test_files_mode_reports_hand_edited_generated_files(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "generated-mapping-edited")
    code, output = run_cli("--repo", str(repo), str(repo / "mapping/zone-2-prod/kustomization.yaml"))
    assert code == 1 and "mapping/zone-2-prod/kustomization.yaml:1" in output


def test_files_mode_warns_about_an_unused_layer(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "layer-unused")
    code, output = run_cli(
        "--repo", str(repo), str(repo / "apps/private-detector/zone/zone-9/kustomization.yaml")
    )
    assert code == 0 and summarize(output) == [
        "apps/private-detector/zone/zone-9/kustomization.yaml:1 layer-unused"
    ]


def test_cluster_option_restricts_and_rejects_unknown(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "mig-profile-wrong-model")
    assert run_cli("--repo", str(repo), "--cluster", "zone-1-prod") == (0, "")
    code, output = run_cli("--repo", str(repo), "--cluster", "nope")
    assert code == 2 and "unknown cluster 'nope' (clusters: zone-1-dev, zone-1-prod, zone-2-prod)" in output


def test_broken_config_is_reported_without_a_crash(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    (repo / "gitops-gen.yaml").write_text(
        "apiVersion: gitops-gen/v1alpha1\nkind: Config\nlayers: [company, zone\n"
    )
    code, output = run_cli("--repo", str(repo))
    assert code == 1 and output.startswith("gitops-gen.yaml:")


def test_merge_clusters_groups_identical_problems() -> None:
    p = Problem("apps/a/base/d.yaml", 3, 1, "error", "k8s-schema", "bad")
    q = Problem("clusters/c/cluster.yaml", 3, 1, "error", "gpu-pool-config-invalid", "pool")
    merged = merge_clusters([(p, "b"), (p, "a"), (p, "a"), (q, "c")])
    assert [m.text() for m in merged] == ["bad [2 clusters: a, b]", "pool"]
    assert [m.clusters for m in merged] == [("a", "b"), ("c",)]
    assert merge_clusters([(p, n) for n in "dcba"])[0].text() == "bad [4 clusters: a, b, c, d]"
    many = merge_clusters([(p, n) for n in "edcba"])
    assert many[0].text() == "bad [5 clusters: a, b, c, ...]"


def test_demand_cache_gives_the_same_answer_as_a_full_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_fleet(tmp_path)
    (repo / ".git").mkdir()  # the cache lives in .git/gitops-gen/
    assert run_cli("--repo", str(repo)) == (0, "")
    assert (repo / ".git/gitops-gen/validate-demand.marshal").is_file()
    partial_results: list[bool] = []
    original = DemandCache.partial

    def spy(self: DemandCache, *args: Any) -> Any:
        result = original(self, *args)
        partial_results.append(result is not None)
        return result

    monkeypatch.setattr(DemandCache, "partial", spy)
    shutil.copytree(DATA / "capacity-exceeded", repo, dirs_exist_ok=True)
    changed = str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    cached = run_cli("--repo", str(repo), changed)
    assert partial_results == [True]  # toxicity-detector's demand came from the cache
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert run_cli("--repo", str(repo), changed) == cached
    # One shortage, printed once, naming every contributing line (the others' from the cache; the
    # llm-server HelmRelease's replicas at the layer patching its values).
    assert summarize(cached[1]) == ["apps/llm-server/env/prod/kustomization.yaml:13 gpu-capacity-exceeded"]
    assert (
        "(set at apps/llm-server/env/prod/kustomization.yaml:13, "
        "apps/private-detector/env/prod/kustomization.yaml:6, "
        "apps/toxicity-detector/base/deployment.yaml:8)" in cached[1]
    )


def test_a_repeated_hook_run_leaves_the_demand_cache_as_it_was(tmp_path: Path) -> None:
    """The hook rebuilds the entry a changed file touches on every run; while that entry's files do
    not move, the cache already holds it and is not written again (megabytes on a real fleet)."""
    repo = make_fleet(tmp_path)
    (repo / ".git").mkdir()
    changed = str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    first = run_cli("--repo", str(repo), changed)
    cache = repo / ".git/gitops-gen/validate-demand.marshal"
    written = cache.read_bytes()
    os.utime(cache, (1, 1))
    assert run_cli("--repo", str(repo), changed) == first
    assert cache.stat().st_mtime == 1
    assert cache.read_bytes() == written


def test_demand_cache_notices_files_changed_but_not_named(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    (repo / ".git").mkdir()
    assert run_cli("--repo", str(repo)) == (0, "")
    base = repo / "apps/toxicity-detector/base/deployment.yaml"
    base.write_text(base.read_text().replace("replicas: 2", "replicas: 9", 1))  # not passed as a FILE
    code, output = run_cli(
        "--repo", str(repo), str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    )
    assert code == 1 and "[gpu-capacity-exceeded]" in output
    assert "apps/toxicity-detector/base/deployment.yaml:8" in output  # its replicas line contributes


def settled_full_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full validate as if long after every file was written: each file read is known by its stamp."""
    later = time.time_ns() + 10 * tree.SETTLED_NS
    with monkeypatch.context() as m:
        m.setattr(demand, "time_ns", lambda: later)
        assert run_cli("--repo", str(repo), "-j", "1") == (0, "")
    time.sleep(0.05)  # past the file system clock's tick: a write from here on has a later ctime


def test_a_settled_file_is_known_to_the_demand_cache_by_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_fleet(tmp_path)
    (repo / ".git").mkdir()
    settled_full_run(repo, monkeypatch)
    cache = DemandCache.open(repo, deps.Index(repo))
    assert cache is not None and cache.stamps
    monkeypatch.setattr(demand, "open", lambda *a: pytest.fail(f"read {a[0]}"), raising=False)
    entry = "apps/toxicity-detector/overlays/zone-1-prod"
    assert cache.fresh(entry)  # every file of the entry by its stamp, none read


def test_a_file_changed_after_it_settled_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_fleet(tmp_path)
    (repo / ".git").mkdir()
    settled_full_run(repo, monkeypatch)
    base = repo / "apps/toxicity-detector/base/deployment.yaml"
    base.write_text(base.read_text().replace("replicas: 2", "replicas: 9", 1))  # the same size
    code, output = run_cli(
        "--repo", str(repo), str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    )
    assert code == 1 and "apps/toxicity-detector/base/deployment.yaml:8" in output


def test_gpu_projection_keeps_what_feasibility_reads() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n", "labels": {"a": "b"}},
        "spec": {
            "replicas": 3,
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "nodeSelector": {"pool": "gpu"},
                    "volumes": [{"name": "v"}],
                    "containers": [
                        {
                            "name": "c",
                            "image": "i:1",
                            "env": [{"name": "X", "value": "1"}],
                            "resources": {"limits": {"nvidia.com/gpu": 1}},
                        }
                    ],
                },
            },
        },
    }
    assert gpu_projection(obj) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n"},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "nodeSelector": {"pool": "gpu"},
                    "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}],
                }
            },
        },
    }
    assert gpu_projection({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}) is None


def test_demand_cache_keeps_what_capacity_reads_of_custom_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # toxicity-detector's Knative Service comes from the cache when only private-detector changes:
    # its max-scale annotation (pod template metadata) must survive, or the warning is lost.
    repo = make_fleet(tmp_path, "capacity-autoscale")
    (repo / ".git").mkdir()
    full = run_cli("--repo", str(repo))
    assert summarize(full[1]) == ["apps/toxicity-detector/base/burst.yaml:12 gpu-capacity-autoscale"]
    changed = str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    assert run_cli("--repo", str(repo), changed) == full
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert run_cli("--repo", str(repo), changed) == full


def test_gpu_projection_keeps_autoscalers() -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "namespace": "n", "labels": {"a": "b"}},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 9},
    }
    assert gpu_projection(hpa) == {**hpa, "metadata": {"name": "h", "namespace": "n"}}
    knative = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "k"},
        "spec": {
            "template": {
                "metadata": {"labels": {"a": "b"}, "annotations": {"autoscaling.knative.dev/max-scale": "4"}},
                "spec": {"containers": [{"image": "k:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}]},
            }
        },
    }
    assert gpu_projection(knative) == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "k"},
        "spec": {
            "template": {
                "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": "4"}},
                "spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": 1}}}]},
            }
        },
    }


def test_a_deleted_file_is_checked_where_head_used_it(tmp_path: Path) -> None:
    from tests.fleetrepo import git

    repo = make_fleet(tmp_path)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "fleet")
    git(repo, "rm", "-q", "-r", "apps/private-detector/env/prod")
    code, output = run_cli(
        "--repo", str(repo), str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    )
    assert code == 1
    assert (
        "apps/private-detector/overlays/zone-1-prod/kustomization.yaml:1:1: error: [generated-stale]"
        in output
    )


def test_strict_turns_warnings_into_exit_1(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "image-latest")
    code, output = run_cli("--repo", str(repo))
    assert code == 0 and "warning" in output
    assert run_cli("--repo", str(repo), "--strict") == (1, output)
    assert run_cli("--repo", str(make_fleet(tmp_path / "clean")), "--strict") == (0, "")


def test_gpu_projection_gives_the_same_findings_on_every_feasibility_case() -> None:
    # The demand cache stores projections: feasibility must judge them exactly as the full objects.
    from gitops_gen.checks.gpu.feasibility import check_cluster
    from tests.checks.gpu.test_feasibility import CASE_NAMES, CASES, _load, _objects

    for case in CASE_NAMES:
        objects = _objects(CASES / case / "objects.yaml")
        pools = _load(CASES / case / "pools.yaml") or []
        projected = [p for p in (gpu_projection(o) for o in objects if isinstance(o, dict)) if p is not None]
        assert check_cluster(projected, pools) == check_cluster(objects, pools), case


@pytest.mark.parametrize("case", CASES)
def test_locating_from_single_entries_gives_the_whole_mapping_answer(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate traces only the entries holding findings (once per distinct variant); with that turned
    off (every cluster traced whole, as before) every case prints exactly the same."""
    repo = make_fleet(tmp_path, case)
    fast = run_cli("--repo", str(repo))
    original = validate_module.locate_findings
    monkeypatch.setattr(
        validate_module, "locate_findings", lambda tree, rendered, *_: original(tree, rendered)
    )
    assert run_cli("--repo", str(repo)) == fast


def test_demand_cache_keeps_the_autoscalers_a_rollout_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HPA in an untouched entry raises the rollout demand of its workload: FILE mode with the
    demand cache must see it exactly as a run without the cache does."""
    repo = make_fleet(tmp_path, "capacity-rollout")
    base = repo / "apps/toxicity-detector/base"
    (base / "hpa.yaml").write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: toxicity-detector\n"
        "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: toxicity-detector\n"
        "  minReplicas: 2\n  maxReplicas: 6\n"
    )
    kustomization = base / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "- hpa.yaml\n")
    (repo / ".git").mkdir()
    run_cli("--repo", str(repo))  # fills the cache
    changed = str(repo / "apps/private-detector/env/prod/kustomization.yaml")
    cached = run_cli("--repo", str(repo), changed)
    assert "HPA toxicity-detector maxReplicas 6" in cached[1]
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert run_cli("--repo", str(repo), changed) == cached


def _put(obj: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        obj = obj.setdefault("x" if key == "*" else key, {})
    obj[path[-1]] = value


def test_gpu_projection_keeps_every_count_the_workload_table_names() -> None:
    """Replica factors and autoscaler maxima may sit in template metadata (Knative's min-scale and
    max-scale annotations): the demand cache must keep them, or FILE mode counts other pods."""
    table = json.loads((Path(validate_module.__file__).parents[1] / "data" / "workloads.json").read_text())
    checked = 0
    for entry in table["kinds"]:
        for template in entry["templates"]:
            paths = [p for f in template.get("factors", []) for p in f.get("paths", [])]
            paths += template.get("max", {}).get("paths", [])
            for path in paths:
                if "*" in path:
                    continue  # list-valued paths: covered by the pod template walk itself
                group = entry["group"]
                obj: dict[str, Any] = {"apiVersion": f"{group}/v1" if group else "v1", "kind": entry["kind"]}
                _put(obj, path, "7")
                _put(
                    obj,
                    [*template["pod"], "containers"],
                    [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}],
                )
                projected = gpu_projection(obj)
                assert projected is not None
                node: Any = projected
                for key in path:
                    node = node[key]
                assert node == "7", (entry["kind"], path)
                checked += 1
    assert checked >= 10


def test_the_hook_sees_a_clash_with_an_app_it_takes_from_the_cache(tmp_path: Path) -> None:
    # The same ClusterRole from two apps of one mapping: only the whole build raises kustomize's
    # duplicate-id error, and validate FILE / --staged build only the changed entries.
    from tests.fleetrepo import example_fleet_repo, git
    from tests.gitflow.test_commit import CLUSTER_ROLE, add_resource

    fleet = example_fleet_repo(tmp_path / "fleet")
    add_resource(fleet, "toxicity-detector", "clusterrole.yaml", CLUSTER_ROLE)
    git(fleet, "add", "-A")
    git(fleet, "commit", "-qm", "toxicity reads GPUs")
    assert CliRunner().invoke(main, ["validate", "--repo", str(fleet)]).exit_code == 0  # fills the cache
    add_resource(fleet, "private-detector", "clusterrole.yaml", CLUSTER_ROLE)
    git(fleet, "add", "-A")
    hooks = [
        CliRunner().invoke(main, ["validate", "--repo", str(fleet), *args])
        for args in (["--staged"], [str(fleet / "apps/private-detector/base/clusterrole.yaml")])
    ]
    full = CliRunner().invoke(main, ["validate", "--repo", str(fleet)])
    assert full.exit_code == 1 and "already registered id" in full.output, full.output
    for hook in hooks:
        assert (hook.exit_code, hook.output) == (1, full.output)
