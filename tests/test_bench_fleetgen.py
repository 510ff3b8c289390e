"""The benchmark's synthetic fleet: deterministic, schema-valid, buildable by kubectl, and GPU-feasible."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bench import fleetgen
from bench import run as bench_run
from tests.conftest import requires_kubectl

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SCHEMA = ROOT / "gitops_gen" / "schemas" / "cluster.schema.json"
TINY = fleetgen.FleetParams(clusters=15, apps=8, apps_per_cluster=6, seed=3)


def load(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny() -> dict[str, str]:
    return fleetgen.build_fleet(TINY)


def test_same_arguments_give_the_same_bytes_across_processes(tmp_path: Path) -> None:
    # Separate interpreters with different hash seeds: set or dict ordering must not leak into the output.
    args = ["--clusters", "7", "--apps", "9", "--apps-per-cluster", "5", "--seed", "4"]
    for name, hashseed in (("a", "1"), ("b", "2")):
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "fleetgen.py"), str(tmp_path / name), *args],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": hashseed},
        )
    first, second = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert first == second
    assert len(first) > 50


def test_written_tree_is_exactly_build_fleet(tmp_path: Path, tiny: dict[str, str]) -> None:
    fleetgen.write_fleet(tiny, tmp_path)
    on_disk = {p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert on_disk == tiny


def test_seed_changes_the_fleet(tiny: dict[str, str]) -> None:
    other = fleetgen.build_fleet(fleetgen.FleetParams(**{**TINY.__dict__, "seed": 4}))
    assert other != tiny


def test_an_app_looks_the_same_whatever_the_fleet_size() -> None:
    small = fleetgen.build_fleet(fleetgen.FleetParams(clusters=3, apps=5, apps_per_cluster=3))
    large = fleetgen.build_fleet(fleetgen.FleetParams(clusters=9, apps=5, apps_per_cluster=3))
    bases = [p for p in small if "/base/" in p]
    assert bases
    assert all(small[p] == large[p] for p in bases)


def test_cluster_files_are_valid_against_the_cluster_schema(tiny: dict[str, str]) -> None:
    # Written by another engineer; this must fail, not skip, while it is missing.
    assert CLUSTER_SCHEMA.is_file(), f"{CLUSTER_SCHEMA} is missing"
    schema = json.loads(CLUSTER_SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    clusters = {p: load(t) for p, t in tiny.items() if p.endswith("/cluster.yaml")}
    assert len(clusters) == TINY.clusters
    for path, doc in clusters.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], path
        assert doc["metadata"]["name"] == path.split("/")[1]


def test_fleet_has_the_shape_the_benchmark_needs(tiny: dict[str, str]) -> None:
    config = load(tiny["gitops-gen.yaml"])
    assert config["layers"] == ["company", "zone", "env"]
    clusters = [load(t)["spec"] for p, t in tiny.items() if p.endswith("/cluster.yaml")]
    entries = [({"name": e} if isinstance(e, str) else e) for spec in clusters for e in spec["apps"]]
    for spec in clusters:
        enabled = [e for e in spec["apps"] if isinstance(e, str) or e.get("enabled", True)]
        assert len(enabled) == TINY.apps_per_cluster
        assert set(spec["layers"]) == {"company", "zone", "env"}
    assert any(e.get("enabled") is False for e in entries)
    chain = {e["name"] for e in entries if "overlay" in e}
    layered = {e["name"] for e in entries if "overlay" not in e}
    assert chain and layered and not chain & layered
    # Every named overlay exists and chains to its company overlay, which chains to the base.
    for e in entries:
        if "overlay" in e:
            overlay = load(tiny[f"apps/{e['name']}/{e['overlay']}/kustomization.yaml"])
            (parent,) = overlay["resources"]
            assert load(tiny[f"apps/{e['name']}/{parent[3:]}/kustomization.yaml"])["resources"] == ["../base"]
    for layer in ("company", "zone", "env", "cluster"):
        dirs = [p for p in tiny if f"/{layer}/" in p and p.endswith("/kustomization.yaml")]
        assert dirs, layer
        assert all(load(tiny[p])["kind"] == "Component" for p in dirs)
    engines = {spec.get("gitops", {}).get("engine", config["gitops"]["engine"]) for spec in clusters}
    assert engines == {"flux", "argocd"}
    assert not any(p.startswith(("mapping/", "apps/")) and "/overlays/" in p for p in tiny)
    assert not any(p.startswith("mapping/") or p.endswith("/sync.yaml") for p in tiny)


# GPU capacity per physical GPU for the MIG configs the generator uses (gpu-reference.md sections 3-4).
MIG_YIELD = {
    "all-1g.5gb": {"nvidia.com/mig-1g.5gb": 7},
    "all-balanced": {"nvidia.com/mig-1g.10gb": 2, "nvidia.com/mig-2g.20gb": 1, "nvidia.com/mig-3g.40gb": 1},
}


def pool_capacity(pool: dict[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """A pool's node labels as GFD and the admin set them, and the GPU resources the whole pool advertises."""
    labels = dict(pool.get("labels", {}))
    gpu = pool.get("gpu")
    if not gpu:
        return labels, {}
    labels["nvidia.com/gpu.product"] = gpu["product"]
    mig = pool.get("mig", {"strategy": "none"})
    if mig["strategy"] == "mixed":
        per_gpu = MIG_YIELD[mig["config"]]
    else:
        per_gpu = {"nvidia.com/gpu": pool.get("sharing", {}).get("replicas", 1)}
    return labels, {r: n * gpu["count"] * pool["nodes"] for r, n in per_gpu.items()}


def check_feasible(cluster: dict[str, Any], rendered: str) -> list[str]:
    """Problems placing the rendered Deployments on the cluster's pools (none for a good fleet)."""
    pools = [pool_capacity(p) for p in cluster["spec"]["nodePools"]]
    demand: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    problems = []
    for doc in yaml.load_all(rendered, Loader=yaml.CSafeLoader):
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        res = pod["containers"][0]["resources"]
        gpus = {k: v for k, v in res["limits"].items() if k.startswith("nvidia.com/")}
        if (
            len(gpus) != 1
            or {k: v for k, v in res["requests"].items() if k.startswith("nvidia.com/")} != gpus
        ):
            problems.append(
                f"{doc['metadata']['name']}: GPU limits {res['limits']} requests {res['requests']}"
            )
            continue
        ((resource, count),) = gpus.items()
        key = (resource, tuple(sorted(pod["nodeSelector"].items())))
        demand[key] = demand.get(key, 0) + doc["spec"]["replicas"] * count
    for (resource, selector), wanted in demand.items():
        offered = sum(cap.get(resource, 0) for labels, cap in pools if set(selector) <= labels.items())
        if wanted > offered:
            problems.append(f"{resource} on {dict(selector)}: {wanted} wanted, {offered} offered")
    return problems


@requires_kubectl
def test_fleet_builds_with_kubectl_and_every_workload_fits_its_cluster(
    tmp_path: Path, tiny: dict[str, str]
) -> None:
    fleetgen.write_fleet(tiny, tmp_path)
    bench_run.write_reference_layout(tmp_path)
    names = bench_run.cluster_names(tmp_path)
    # One cluster of each zone (each has different special hardware), in every env.
    chosen = [f"zone-{z}-{fleetgen.ENVS[z % 3]}-a" for z in range(1, 6)]
    assert set(chosen) <= set(names)
    _, _, outputs, errors = bench_run.kubectl_loop(tmp_path, chosen)
    assert errors == {}
    resources = set()
    for name in chosen:
        cluster = load(tiny[f"clusters/{name}/cluster.yaml"])
        assert check_feasible(cluster, outputs[name].decode()) == [], name
        resources |= {
            line.split(":")[0].strip()
            for line in outputs[name].decode().splitlines()
            if "nvidia.com/mig-" in line
        }
    # The zone and env patches really move workloads between whole GPUs and both MIG profiles.
    assert {"nvidia.com/mig-1g.5gb", "nvidia.com/mig-3g.40gb"} <= resources


def test_feasibility_check_catches_an_unplaceable_workload() -> None:
    cluster = {
        "spec": {"nodePools": [{"name": "a", "nodes": 1, "gpu": {"product": "NVIDIA-L40S", "count": 4}}]}
    }
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "replicas": 5,
            "template": {
                "spec": {
                    "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L40S"},
                    "containers": [
                        {"resources": {"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 1}}}
                    ],
                }
            },
        },
    }
    assert check_feasible(cluster, yaml.safe_dump(deployment)) == [
        "nvidia.com/gpu on {'nvidia.com/gpu.product': 'NVIDIA-L40S'}: 5 wanted, 4 offered"
    ]


@pytest.mark.parametrize(
    ("names", "n", "expected"),
    [
        (["a", "b", "c", "d"], None, ["a", "b", "c", "d"]),
        (["a", "b", "c", "d"], 9, ["a", "b", "c", "d"]),
        (["a", "b", "c", "d"], 2, ["a", "c"]),
        (["a", "b", "c", "d", "e", "f"], 3, ["a", "c", "e"]),
    ],
)
def test_kubectl_sample_spreads_evenly(names: list[str], n: int | None, expected: list[str]) -> None:
    assert bench_run.sample(names, n) == expected


def test_repetition_counts_documents_shared_between_clusters() -> None:
    outputs = {
        "c1": b"kind: A\n---\nkind: B\n---\nkind: B\n",
        "c2": b"kind: A\n---\nkind: C\n",
        "c3": b"kind: D\n",
    }
    # A appears in two clusters (2 documents); B twice but only in c1; C and D once.
    assert bench_run.repetition(outputs) == (6, 4, 2)


def test_first_difference_shows_the_changed_line() -> None:
    text = bench_run.first_difference(b"a: 1\nb: 2\nc: 3\n", b"a: 1\nb: 5\nc: 3\n")
    assert "-b: 2" in text and "+b: 5" in text


def test_touching_a_zone_patch_keeps_it_a_valid_patch(tmp_path: Path, tiny: dict[str, str]) -> None:
    fleetgen.write_fleet(tiny, tmp_path)
    rel = bench_run.touch_zone_patch(tmp_path)
    assert rel.parts[0] == "apps" and rel.parts[2] == "zone"
    patch = load((tmp_path / rel).read_text())
    assert patch["kind"] == "Deployment"
    assert patch["metadata"]["annotations"] == {"example.com/bench-touched": "true"}
    assert load(tiny[rel.as_posix()])["spec"] == patch["spec"]


def test_compare_names_clusters_whose_render_differs_or_is_missing(tmp_path: Path) -> None:
    (tmp_path / "same.yaml").write_bytes(b"kind: A\n")
    (tmp_path / "other.yaml").write_bytes(b"kind: B\n")
    outputs = {"same": b"kind: A\n", "other": b"kind: A\n", "missing": b"kind: A\n"}
    assert bench_run.compare(outputs, tmp_path) == ["other", "missing"]


def test_runner_fails_loudly_when_a_command_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = [sys.executable, "-c", "import sys; sys.exit('gitops-gen exploded')"]
    monkeypatch.setattr(bench_run, "gitops_gen", lambda: broken)
    before = set((ROOT / "bench" / ".fleets").glob("2x3-*"))
    assert bench_run.main(["--clusters", "2", "--apps", "3", "--no-validate"]) == 1
    err = capsys.readouterr().err
    assert "FAILED: gitops-gen generate" in err and "gitops-gen exploded" in err
    assert set((ROOT / "bench" / ".fleets").glob("2x3-*")) <= before  # its temp fleet is cleaned up
