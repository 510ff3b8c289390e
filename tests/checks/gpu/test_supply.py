"""Pool supply, node labels and pool declaration issues, checked against gpu-reference.md by hand."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_gen.checks.gpu.supply import (
    pool_issues,
    pool_label_unknown,
    pool_node_labels,
    pool_node_resources,
    pool_supply,
)


def _pool(**kw: Any) -> dict[str, Any]:
    pool: dict[str, Any] = {"name": "p", "nodes": 1}
    pool.update(kw)
    return pool


A100_40 = {"product": "NVIDIA-A100-SXM4-40GB", "count": 8}


@pytest.mark.parametrize(
    ("pool", "resources"),
    [
        # Section 4 examples.
        (
            _pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-balanced"}),
            {"nvidia.com/mig-1g.5gb": 16, "nvidia.com/mig-2g.10gb": 8, "nvidia.com/mig-3g.20gb": 8},
        ),
        (_pool(gpu=A100_40, mig={"strategy": "single", "config": "all-1g.5gb"}), {"nvidia.com/gpu": 56}),
        (_pool(gpu={"product": "Tesla-T4", "count": 8}, sharing={"replicas": 10}), {"nvidia.com/gpu": 80}),
        (_pool(gpu=A100_40), {"nvidia.com/gpu": 8}),
        (_pool(gpu=A100_40, mig={"strategy": "none", "config": "all-1g.5gb"}), {"nvidia.com/gpu": 8}),
        (_pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-disabled"}), {"nvidia.com/gpu": 8}),
        (_pool(gpu=A100_40, mig={"strategy": "single"}), {"nvidia.com/gpu": 8}),
        (_pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-enabled"}), {}),
        (_pool(gpu=A100_40, mig={"strategy": "single", "config": "all-balanced"}), {}),
        (_pool(gpu=A100_40, mig={"strategy": "single", "config": "all-enabled"}), {}),
        (
            _pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-1g.5gb"}, sharing={"replicas": 2}),
            {"nvidia.com/mig-1g.5gb": 112},
        ),
        (
            _pool(
                gpu={"product": "NVIDIA-A100-80GB-PCIe", "count": 4},
                mig={"strategy": "mixed", "config": "all-1g.10gb"},
            ),
            {"nvidia.com/mig-1g.10gb": 28},
        ),
        (_pool(gpu={"product": "NVIDIA-X9000", "count": 2}), {"nvidia.com/gpu": 2}),
        (
            _pool(
                gpu={"product": "NVIDIA-X9000", "count": 2}, mig={"strategy": "mixed", "config": "all-1g.5gb"}
            ),
            {},
        ),
        (_pool(labels={"role": "cpu"}), {}),
    ],
)
def test_pool_node_resources(pool: dict[str, Any], resources: dict[str, int]) -> None:
    assert pool_node_resources(pool) == resources


def test_labels_strategy_none() -> None:
    labels = pool_node_labels(_pool(gpu=A100_40, labels={"pool": "gpu", "spot": True, "rank": 3}))
    assert labels == {
        "pool": "gpu",
        "spot": "true",
        "rank": "3",
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB",
        "nvidia.com/gpu.count": "8",
        "nvidia.com/gpu.replicas": "1",
        "nvidia.com/gpu.sharing-strategy": "none",
        "nvidia.com/mig.capable": "true",
    }
    assert "nvidia.com/mig.strategy" not in labels


def test_labels_strategy_none_time_sliced() -> None:
    labels = pool_node_labels(_pool(gpu={"product": "Tesla-T4", "count": 1}, sharing={"replicas": 4}))
    assert labels["nvidia.com/gpu.product"] == "Tesla-T4-SHARED"
    assert labels["nvidia.com/gpu.replicas"] == "4"
    assert labels["nvidia.com/gpu.sharing-strategy"] == "time-slicing"
    assert "nvidia.com/mig.capable" not in labels  # T4: only the "true" value is documented


def test_labels_strategy_single() -> None:
    labels = pool_node_labels(_pool(gpu=A100_40, mig={"strategy": "single", "config": "all-1g.5gb"}))
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb"
    assert labels["nvidia.com/gpu.count"] == "56"
    assert labels["nvidia.com/mig.strategy"] == "single"
    assert labels["nvidia.com/mig.config"] == "all-1g.5gb"


def test_labels_strategy_single_me_profile_and_sharing() -> None:
    pool = _pool(gpu=A100_40, mig={"strategy": "single", "config": "all-1g.5gb.me"}, sharing={"replicas": 3})
    labels = pool_node_labels(pool)
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb.me-SHARED"
    assert labels["nvidia.com/gpu.count"] == "8"
    assert pool_node_resources(pool) == {"nvidia.com/gpu": 24}


def test_labels_strategy_single_invalid() -> None:
    labels = pool_node_labels(_pool(gpu=A100_40, mig={"strategy": "single", "config": "all-balanced"}))
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB-MIG-INVALID"
    assert labels["nvidia.com/gpu.count"] == "0"


def test_labels_strategy_mixed() -> None:
    pool = _pool(
        gpu={"product": "NVIDIA-A100-80GB-PCIe", "count": 4},
        mig={"strategy": "mixed", "config": "all-1g.10gb"},
    )
    labels = pool_node_labels(pool)
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-A100-80GB-PCIe"
    assert labels["nvidia.com/gpu.count"] == "4"
    assert labels["nvidia.com/gpu.replicas"] == "0"
    assert labels["nvidia.com/mig.strategy"] == "mixed"
    # Section 2.1 example: mig-1g.10gb.count=28, product NVIDIA-A100-80GB-PCIe-MIG-1g.10gb.
    assert labels["nvidia.com/mig-1g.10gb.count"] == "28"
    assert labels["nvidia.com/mig-1g.10gb.product"] == "NVIDIA-A100-80GB-PCIe-MIG-1g.10gb"


def test_labels_pool_without_gpu() -> None:
    assert pool_node_labels(_pool(labels={"role": "cpu"})) == {"role": "cpu"}


def test_gpu_labels_win_over_user_labels() -> None:
    pool = _pool(gpu=A100_40, labels={"nvidia.com/gpu.product": "wrong"})
    assert pool_node_labels(pool)["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB"


def test_pool_label_unknown() -> None:
    none = pool_supply(_pool(gpu=A100_40))
    mixed = pool_supply(_pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-1g.5gb"}))
    cpu = pool_supply(_pool(labels={"role": "cpu"}))
    assert pool_label_unknown(none, "nvidia.com/gpu.family")
    assert pool_label_unknown(none, "nvidia.com/gpu.memory")
    assert pool_label_unknown(cpu, "feature.node.kubernetes.io/pci-10de.present")
    assert not pool_label_unknown(none, "nvidia.com/mig.strategy")  # absent under none
    assert not pool_label_unknown(none, "nvidia.com/gpu.product")  # known
    assert not pool_label_unknown(cpu, "nvidia.com/gpu.family")  # no GFD on CPU nodes
    assert not pool_label_unknown(mixed, "team")  # user labels are the whole truth
    assert pool_label_unknown(mixed, "nvidia.com/mig-1g.5gb.memory")


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (_pool(gpu=A100_40, mig={"strategy": "mixed", "config": "all-balanced"}), []),
        (
            _pool(gpu=A100_40, mig={"strategy": "single", "config": "all-balanced"}),
            [("gpu-pool-config-invalid", "error")],
        ),
        (
            _pool(
                gpu={"product": "NVIDIA-L4", "count": 1}, mig={"strategy": "single", "config": "all-1g.5gb"}
            ),
            [("gpu-pool-config-invalid", "error")],
        ),
        (
            _pool(gpu={"product": "NVIDIA-X", "count": 1}, mig={"strategy": "mixed", "config": "all-1g.5gb"}),
            [("gpu-product-unknown", "error"), ("gpu-model-unknown", "warning")],
        ),
        (_pool(gpu={"product": "NVIDIA-X", "count": 1}), [("gpu-product-unknown", "error")]),
        (
            _pool(gpu=A100_40, mig={"strategy": "mixed", "config": "mine"}),
            [("mig-config-unknown", "warning")],
        ),
        (_pool(gpu=A100_40, mig={"config": "all-balanced"}), [("gpu-pool-config-invalid", "warning")]),
        (_pool(gpu={"product": "NVIDIA-L4", "count": 0}), [("gpu-pool-config-invalid", "error")]),
        (_pool(nodes=0), [("gpu-pool-config-invalid", "error")]),
        (_pool(sharing={"replicas": 2}), [("gpu-pool-config-invalid", "error")]),
    ],
)
def test_pool_issues(pool: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(i.rule, i.severity) for i in pool_issues(pool)] == expected
