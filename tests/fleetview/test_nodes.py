"""`gitops-gen nodes check` and pools from a snapshot, with nodes labelled as GFD, the GPU operator and the
device plugin label them (label and resource facts: gpu-reference.md sections 1.1, 1.2, 2.1, 2.2, 2.4, 4)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gitops_gen.cli import main
from gitops_gen.fleetview.nodes import bare_product, load_nodes, pools_from_nodes
from tests.fleetview.fleets import write_fleet

POOLS: list[dict[str, Any]] = [
    {"name": "system", "nodes": 2, "labels": {"pool": "system"}},
    {
        "name": "a100",
        "nodes": 2,
        "gpu": {"product": "NVIDIA-A100-SXM4-40GB", "count": 8},
        "labels": {"pool": "a100"},
    },
    {
        "name": "mig-mixed",
        "nodes": 1,
        "gpu": {"product": "NVIDIA-A100-SXM4-40GB", "count": 8},
        "mig": {"strategy": "mixed", "config": "all-balanced"},
        "labels": {"pool": "mig-mixed"},
    },
    {
        "name": "mig-single",
        "nodes": 1,
        "gpu": {"product": "NVIDIA-A100-80GB-PCIe", "count": 4},
        "mig": {"strategy": "single", "config": "all-1g.10gb"},
        "labels": {"pool": "mig-single"},
    },
    {
        "name": "ts",
        "nodes": 2,
        "gpu": {"product": "Tesla-T4", "count": 1},
        "sharing": {"replicas": 4},
        "labels": {"pool": "ts"},
    },
]


def node(name: str, labels: dict[str, str], allocatable: dict[str, int] | None = None) -> dict[str, Any]:
    alloc = {
        "cpu": "64",
        "memory": "512Gi",
        "pods": "110",
        **{k: str(v) for k, v in (allocatable or {}).items()},
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **labels},
        },
        "status": {"allocatable": alloc},
    }


def gfd(product: str, count: int, replicas: int = 1, sharing: str = "none") -> dict[str, str]:
    return {
        "nvidia.com/gpu.present": "true",
        "feature.node.kubernetes.io/pci-10de.present": "true",
        "nvidia.com/gpu.product": product,
        "nvidia.com/gpu.count": str(count),
        "nvidia.com/gpu.replicas": str(replicas),
        "nvidia.com/gpu.sharing-strategy": sharing,
        "nvidia.com/gpu.family": "ampere",
    }


def plain_a100(name: str) -> dict[str, Any]:
    # MIG-capable, MIG off: the operator labels it all-disabled; 8 whole GPUs.
    labels = {
        "pool": "a100",
        **gfd("NVIDIA-A100-SXM4-40GB", 8),
        "nvidia.com/mig.capable": "true",
        "nvidia.com/mig.config": "all-disabled",
    }
    return node(name, labels, {"nvidia.com/gpu": 8})


def mixed_balanced(name: str) -> dict[str, Any]:
    # 8 x A100 40GB, all-balanced under mixed: 2x1g.5gb + 2g.10gb + 3g.20gb per GPU (section 4's example).
    labels = {
        "pool": "mig-mixed",
        **gfd("NVIDIA-A100-SXM4-40GB", 8, replicas=0),
        "nvidia.com/mig.capable": "true",
        "nvidia.com/mig.strategy": "mixed",
        "nvidia.com/mig.config": "all-balanced",
        "nvidia.com/mig.config.state": "success",
        "nvidia.com/mig-1g.5gb.count": "16",
        "nvidia.com/mig-2g.10gb.count": "8",
        "nvidia.com/mig-3g.20gb.count": "8",
        "nvidia.com/mig-1g.5gb.product": "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb",
    }
    return node(
        name,
        labels,
        {
            "nvidia.com/gpu": 0,
            "nvidia.com/mig-1g.5gb": 16,
            "nvidia.com/mig-2g.10gb": 8,
            "nvidia.com/mig-3g.20gb": 8,
        },
    )


def single_1g10(name: str) -> dict[str, Any]:
    # 4 x A100 80GB PCIe, all-1g.10gb under single: 7 per GPU, product and count describe the MIG devices (28).
    labels = {
        "pool": "mig-single",
        **gfd("NVIDIA-A100-80GB-PCIe-MIG-1g.10gb", 28),
        "nvidia.com/mig.capable": "true",
        "nvidia.com/mig.strategy": "single",
        "nvidia.com/mig.config": "all-1g.10gb",
        "nvidia.com/mig.config.state": "success",
    }
    return node(name, labels, {"nvidia.com/gpu": 28})


def t4_shared(name: str) -> dict[str, Any]:
    # Time-slicing x4, not renamed: -SHARED suffix, replicas 4, 1 GPU x 4 advertised.
    return node(
        name,
        {"pool": "ts", **gfd("Tesla-T4-SHARED", 1, replicas=4, sharing="time-slicing")},
        {"nvidia.com/gpu": 4},
    )


def clean() -> list[dict[str, Any]]:
    return [
        node("sys-1", {"pool": "system"}),
        node("sys-2", {"pool": "system"}),
        plain_a100("a100-1"),
        plain_a100("a100-2"),
        mixed_balanced("mixed-1"),
        single_1g10("single-1"),
        t4_shared("t4-1"),
        t4_shared("t4-2"),
    ]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fleet(tmp_path_factory.mktemp("nodes") / "f", {"gpu-1": ("prod", POOLS, [])}, {})


def line_of(fleet: Path, pool: str, key: str) -> int:
    """1-based line of KEY inside the pool named POOL in cluster.yaml (searched in the text)."""
    lines = (fleet / "clusters/gpu-1/cluster.yaml").read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if text.strip().endswith(f"name: {pool}"))
    if key == "name":
        return start + 1
    at = start
    for part in key.split("."):  # nested keys: the first PART at or after the parent's line
        at = next(
            i for i in range(at, len(lines)) if lines[i].strip().removeprefix("- ").startswith(f"{part}:")
        )
    return at + 1


def check(fleet: Path, items: list[dict[str, Any]], tmp_path: Path) -> tuple[int, list[dict[str, Any]]]:
    snap = tmp_path / "nodes.json"
    snap.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    result = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", "gpu-1", str(snap), "--format", "json"]
    )
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.output)


def rules(problems: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted((p["rule"], p["line"], p["severity"]) for p in problems)


def replace(items: list[dict[str, Any]], name: str, new: dict[str, Any]) -> list[dict[str, Any]]:
    return [new if i["metadata"]["name"] == name else i for i in items]


def test_a_matching_snapshot_is_clean(fleet: Path, tmp_path: Path) -> None:
    code, problems = check(fleet, clean(), tmp_path)
    assert (code, problems) == (0, [])
    text = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", "gpu-1", str(tmp_path / "nodes.json")]
    )
    assert (text.exit_code, text.output) == (0, "")


def test_node_count(fleet: Path, tmp_path: Path) -> None:
    items = [i for i in clean() if i["metadata"]["name"] != "a100-2"]
    code, problems = check(fleet, items, tmp_path)
    assert code == 1 and rules(problems) == [("node-pool-count", line_of(fleet, "a100", "nodes"), "error")]
    assert "declares 2 nodes, the snapshot has 1 (a100-1)" in problems[0]["message"]


def test_gpu_model_replaced(fleet: Path, tmp_path: Path) -> None:
    h100 = plain_a100("a100-2")
    h100["metadata"]["labels"].update(gfd("NVIDIA-H100-80GB-HBM3", 8))
    code, problems = check(fleet, replace(clean(), "a100-2", h100), tmp_path)
    assert code == 1 and rules(problems) == [
        ("node-gpu-product", line_of(fleet, "a100", "gpu.product"), "error")
    ]
    assert problems[0]["message"].startswith("node a100-2: pool a100: the node has NVIDIA-H100-80GB-HBM3")


def test_gpu_count(fleet: Path, tmp_path: Path) -> None:
    half = plain_a100("a100-1")
    half["metadata"]["labels"]["nvidia.com/gpu.count"] = "4"
    half["status"]["allocatable"]["nvidia.com/gpu"] = "4"
    code, problems = check(fleet, replace(clean(), "a100-1", half), tmp_path)
    count_line = line_of(fleet, "a100", "gpu.count")
    assert code == 1 and rules(problems) == [
        ("node-gpu-allocatable", count_line, "error"),
        ("node-gpu-count", count_line, "error"),
    ]


def test_mig_config_reflashed(fleet: Path, tmp_path: Path) -> None:
    node_ = mixed_balanced("mixed-1")
    labels = node_["metadata"]["labels"]
    labels["nvidia.com/mig.config"] = "all-1g.5gb"
    node_["status"]["allocatable"] = {"nvidia.com/mig-1g.5gb": "56"}
    code, problems = check(fleet, replace(clean(), "mixed-1", node_), tmp_path)
    config_line = line_of(fleet, "mig-mixed", "mig.config")
    assert code == 1 and rules(problems) == [
        ("node-gpu-allocatable", config_line, "error"),
        ("node-mig-config", config_line, "error"),
    ]
    allocatable = next(p for p in problems if p["rule"] == "node-gpu-allocatable")["message"]
    assert "nvidia.com/mig-1g.5gb: 56" in allocatable and "nvidia.com/mig-3g.20gb: 8" in allocatable


def test_mig_strategy_and_invalid_single(fleet: Path, tmp_path: Path) -> None:
    mixed = mixed_balanced("mixed-1")
    mixed["metadata"]["labels"]["nvidia.com/mig.strategy"] = "single"
    invalid = single_1g10("single-1")
    invalid["metadata"]["labels"].update(
        {
            "nvidia.com/gpu.product": "NVIDIA-A100-80GB-PCIe-MIG-INVALID",
            "nvidia.com/gpu.count": "0",
            "nvidia.com/gpu.replicas": "0",
        }
    )
    invalid["status"]["allocatable"].pop("nvidia.com/gpu")
    items = replace(replace(clean(), "mixed-1", mixed), "single-1", invalid)
    code, problems = check(fleet, items, tmp_path)
    assert code == 1 and rules(problems) == sorted(
        [
            ("node-mig-strategy", line_of(fleet, "mig-mixed", "mig.strategy"), "error"),
            ("node-mig-invalid", line_of(fleet, "mig-single", "mig"), "error"),
            ("node-gpu-allocatable", line_of(fleet, "mig-single", "mig.config"), "error"),
        ]
    )


def test_time_slicing_replicas(fleet: Path, tmp_path: Path) -> None:
    two = t4_shared("t4-2")
    two["metadata"]["labels"]["nvidia.com/gpu.replicas"] = "2"
    two["status"]["allocatable"]["nvidia.com/gpu"] = "2"
    plain = t4_shared("t4-1")  # sharing switched off on this node: plain product, replicas 1
    plain["metadata"]["labels"].update(gfd("Tesla-T4", 1))
    plain["status"]["allocatable"]["nvidia.com/gpu"] = "1"
    code, problems = check(fleet, replace(replace(clean(), "t4-2", two), "t4-1", plain), tmp_path)
    found = {(p["rule"], p["message"].split(":")[0]) for p in problems}
    assert code == 1 and found == {
        ("node-gpu-replicas", "node t4-2"),
        ("node-gpu-allocatable", "node t4-2"),
        ("node-gpu-product", "node t4-1"),
        ("node-gpu-replicas", "node t4-1"),
        ("node-gpu-allocatable", "node t4-1"),
    }
    assert all(
        p["line"] == line_of(fleet, "ts", "sharing.replicas")
        for p in problems
        if p["rule"] == "node-gpu-replicas"
    )


def test_partial_snapshots_warn(fleet: Path, tmp_path: Path) -> None:
    # GFD not done yet: only the operator's gpu.present label and the device plugin's resources.
    bare = node("a100-2", {"pool": "a100", "nvidia.com/gpu.present": "true"}, {"nvidia.com/gpu": 8})
    # The MIG manager is still reconfiguring: the resources are not there yet.
    pending = mixed_balanced("mixed-1")
    pending["metadata"]["labels"]["nvidia.com/mig.config.state"] = "pending"
    pending["status"]["allocatable"] = {}
    code, problems = check(fleet, replace(replace(clean(), "a100-2", bare), "mixed-1", pending), tmp_path)
    assert code == 0 and rules(problems) == sorted(
        [
            ("node-labels-partial", line_of(fleet, "a100", "gpu"), "warning"),
            ("node-gpu-allocatable", line_of(fleet, "mig-mixed", "mig.config"), "warning"),
        ]
    )
    assert (
        "mig.config.state=pending"
        in next(p for p in problems if p["rule"] == "node-gpu-allocatable")["message"]
    )


def test_inconsistent_nodes(fleet: Path, tmp_path: Path) -> None:
    stray = plain_a100("a100-9")
    stray["metadata"]["labels"]["pool"] = "a100-old"  # pool labels that no declared pool has
    gpu_on_system = node("sys-2", {"pool": "system", **gfd("NVIDIA-L4", 1)}, {"nvidia.com/gpu": 1})
    no_gpu = node("a100-2", {"pool": "a100"})
    items = [*replace(replace(clean(), "sys-2", gpu_on_system), "a100-2", no_gpu), stray]
    code, problems = check(fleet, items, tmp_path)
    assert code == 1 and rules(problems) == sorted(
        [
            (
                "node-unmatched",
                next(
                    i
                    for i, t in enumerate((fleet / "clusters/gpu-1/cluster.yaml").read_text().splitlines())
                    if "nodePools" in t
                )
                + 1,
                "error",
            ),
            ("node-gpu-unexpected", line_of(fleet, "system", "name"), "error"),
            ("node-gpu-missing", line_of(fleet, "a100", "gpu"), "error"),
        ]
    )
    unmatched = next(p for p in problems if p["rule"] == "node-unmatched")["message"]
    assert "a100-9" in unmatched and "pool a100 wants pool=a100" in unmatched


def test_same_mismatch_on_several_nodes_is_one_problem(fleet: Path, tmp_path: Path) -> None:
    items = clean()
    for item in items:
        if item["metadata"]["name"].startswith("a100"):
            item["metadata"]["labels"]["nvidia.com/gpu.product"] = "NVIDIA-A100-SXM4-80GB"
    code, problems = check(fleet, items, tmp_path)
    assert code == 1 and len(problems) == 1 and problems[0]["message"].startswith("nodes a100-1, a100-2: ")


def test_bad_input(fleet: Path, tmp_path: Path) -> None:
    snap = tmp_path / "bad.json"
    snap.write_text('{"items": [\n  {"kind": "Node",}\n]}')
    result = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", "gpu-1", str(snap)]
    )
    assert result.exit_code == 1 and result.output.startswith(f"gitops-gen: error: {snap}:2:")
    result = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", "nope", str(snap)]
    )
    assert result.exit_code == 2 and "unknown cluster 'nope'" in result.output  # usage
    result = CliRunner().invoke(main, ["nodes", "check", "--repo", str(fleet), str(snap)])
    assert result.exit_code == 2


def test_bare_product() -> None:
    assert bare_product("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb") == ("NVIDIA-A100-SXM4-40GB", "1g.5gb", False)
    assert bare_product("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb-SHARED") == (
        "NVIDIA-A100-SXM4-40GB",
        "1g.5gb",
        True,
    )
    assert bare_product("NVIDIA-A100-80GB-PCIe-MIG-1g.10gb.me") == (
        "NVIDIA-A100-80GB-PCIe",
        "1g.10gb.me",
        False,
    )
    assert bare_product("Tesla-T4-SHARED") == ("Tesla-T4", None, True)
    assert bare_product("NVIDIA-A100-PCIE-40GB-MIG-INVALID") == ("NVIDIA-A100-PCIE-40GB", "INVALID", False)
    assert bare_product("NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition-MIG-1g.24gb-me") == (
        "NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition",
        "1g.24gb-me",
        False,
    )


def test_pools_from_a_snapshot_are_the_declared_pools() -> None:
    nodes = load_nodes(json.dumps({"kind": "List", "items": clean()}).encode(), "nodes.json")
    pools, notes = pools_from_nodes(nodes)
    expected = copy.deepcopy(POOLS)
    assert pools == expected and notes == []


def test_new_cluster_from_nodes(fleet: Path, tmp_path: Path) -> None:
    snap = tmp_path / "nodes.json"
    snap.write_text(json.dumps({"kind": "List", "items": clean()}))
    result = CliRunner().invoke(
        main,
        ["new", "cluster", "gpu-2", "--repo", str(fleet), "--layer", "env=dev", "--from-nodes", str(snap)],
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((fleet / "clusters/gpu-2/cluster.yaml").read_text())
    assert doc["spec"]["nodePools"] == POOLS and doc["spec"]["layers"] == {"env": "dev"}
    again = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", "gpu-2", str(snap)]
    )
    assert (again.exit_code, again.output) == (0, "")


def test_pools_sharing_a_label_are_told_apart_by_product(tmp_path: Path) -> None:
    a100 = plain_a100("gpu-1")
    a100["metadata"]["labels"]["pool"] = "gpu"
    h100 = plain_a100("gpu-2")
    h100["metadata"]["labels"].update({"pool": "gpu", **gfd("NVIDIA-H100-80GB-HBM3", 8)})
    nodes = load_nodes(json.dumps({"items": [a100, h100]}).encode(), "n.json")
    pools, notes = pools_from_nodes(nodes)
    assert [(p["name"], p["gpu"]["product"], p["labels"]) for p in pools] == [
        ("gpu", "NVIDIA-A100-SXM4-40GB", {"pool": "gpu"}),
        ("gpu-2", "NVIDIA-H100-80GB-HBM3", {"pool": "gpu"}),
    ]
    assert notes == [
        "2 kinds of node carry pool=gpu; pools are told apart by their GPU product only: give them "
        "distinct labels"
    ]
    root = write_fleet(tmp_path / "f", {"c": ("dev", pools, [])}, {})
    code, problems = check_cluster(root, "c", [a100, h100], tmp_path)
    assert (code, problems) == (0, [])


def check_cluster(fleet: Path, cluster: str, items: list[dict[str, Any]], tmp_path: Path) -> tuple[int, Any]:
    snap = tmp_path / "nodes.json"
    snap.write_text(json.dumps({"items": items}))
    result = CliRunner().invoke(
        main, ["nodes", "check", "--repo", str(fleet), "--cluster", cluster, str(snap), "--format", "json"]
    )
    return result.exit_code, json.loads(result.output)
