"""GPU facts (models, MIG profiles and configs, resource names), checked against gpu-reference.md by hand."""

from __future__ import annotations

import pytest

from gitops_gen.checks.gpu.catalog import (
    MODELS,
    classify_resource,
    mig_config_layout,
    mig_resource,
    model_for_product,
)


@pytest.mark.parametrize(
    ("product", "model"),
    [
        # Section 2.3, observed on real nodes.
        ("Tesla-T4", "T4"),
        ("Tesla-V100-SXM2-16GB", "V100-16GB"),
        ("Tesla-V100-SXM2-32GB", "V100-32GB"),
        ("Tesla-V100-PCIE-16GB", "V100-16GB"),
        ("NVIDIA-A10", "A10"),
        ("NVIDIA-A40", "A40"),
        ("NVIDIA-A100-PCIE-40GB", "A100-40GB"),
        ("NVIDIA-A100-SXM4-80GB", "A100-80GB"),
        ("NVIDIA-A100-80GB-PCIe", "A100-80GB"),
        ("NVIDIA-L4", "L4"),
        ("NVIDIA-L40", "L40"),
        ("NVIDIA-L40S", "L40S"),
        ("NVIDIA-H100-80GB-HBM3", "H100-80GB"),
        ("NVIDIA-H200-NVL", "H200-141GB"),
        ("NVIDIA-GH200-480GB", "H100-96GB"),
        ("NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition", "RTX-PRO-6000-Workstation"),
        # Public manifests (lower confidence).
        ("NVIDIA-A100-SXM4-40GB", "A100-40GB"),
        ("NVIDIA-H100-PCIe", "H100-80GB"),
        ("NVIDIA-H100-NVL", "H100-94GB"),
        ("NVIDIA-H200", "H200-141GB"),
        ("NVIDIA-B200", "B200"),
        # Older drivers reported names without the NVIDIA prefix.
        ("A100-SXM4-40GB", "A100-40GB"),
    ],
)
def test_model_for_product(product: str, model: str) -> None:
    found = model_for_product(product)
    assert found is not None and found.key == model


@pytest.mark.parametrize(
    "product", [None, "", "NVIDIA-X9000", "NVIDIA-A100-80GB-PCIe-MIG-1g.10gb", "Tesla-T4-SHARED", "A100"]
)
def test_unknown_products(product: str | None) -> None:
    assert model_for_product(product) is None


@pytest.mark.parametrize(
    ("model", "profile", "maximum"),
    [
        # Section 3 traps: same name, different maximum per model.
        ("A100-40GB", "1g.10gb", 4),
        ("A100-80GB", "1g.10gb", 7),
        ("H100-80GB", "1g.10gb", 7),
        ("H200-141GB", "1g.35gb", 4),
        ("GB300", "1g.35gb", 7),
        ("H100-94GB", "1g.24gb", 4),
        ("H100-96GB", "1g.24gb", 4),
        ("RTX-PRO-6000-Server", "1g.24gb", 4),
        ("B200", "1g.23gb", 7),
        ("GB200", "1g.23gb", 7),
        ("A100-40GB", "1g.5gb", 7),
        ("A100-40GB", "1g.5gb+me", 1),
        ("A100-40GB", "2g.10gb", 3),
        ("A100-40GB", "3g.20gb", 2),
        ("A100-40GB", "4g.20gb", 1),
        ("A100-40GB", "7g.40gb", 1),
        ("GB200", "3g.93gb", 2),
        ("B300", "7g.269gb", 1),
        ("A30", "1g.6gb", 4),
        ("A30", "2g.12gb+me", 1),
        ("RTX-PRO-6000-Server", "1g.24gb+me.all", 1),
        ("RTX-PRO-6000-Server", "2g.48gb-me", 2),
    ],
)
def test_profile_maxima(model: str, profile: str, maximum: int) -> None:
    assert MODELS[model].profiles[profile] == maximum


def test_profile_absent_where_the_reference_says() -> None:
    assert "1g.5gb" not in MODELS["A100-80GB"].profiles
    assert "3g.95gb" not in MODELS["GB200"].profiles  # pre-production value
    assert MODELS["L4"].mig == "no" and not MODELS["L4"].profiles


@pytest.mark.parametrize(
    ("model", "config", "status", "devices"),
    [
        ("A100-40GB", "all-1g.5gb", "enabled", {"1g.5gb": 7}),
        ("A100-40GB", "all-1g.5gb.me", "enabled", {"1g.5gb+me": 1}),
        ("A100-40GB", "all-1g.10gb", "enabled", {"1g.10gb": 4}),
        ("A100-80GB", "all-1g.10gb", "enabled", {"1g.10gb": 7}),
        ("H100-80GB", "all-1g.10gb", "enabled", {"1g.10gb": 7}),
        ("A100-40GB", "all-balanced", "enabled", {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}),
        ("H200-141GB", "all-balanced", "enabled", {"1g.18gb": 2, "2g.35gb": 1, "3g.71gb": 1}),
        ("A30", "all-balanced", "enabled", {"1g.6gb": 2, "2g.12gb": 1}),
        ("RTX-PRO-6000-Server", "all-balanced", "enabled", {"1g.24gb": 2, "2g.48gb": 1}),
        ("RTX-PRO-6000-Server", "all-1g.24gb-me", "enabled", {"1g.24gb-me": 4}),
        ("RTX-PRO-6000-Server", "all-2g.48gb.me.all", "enabled", {"2g.48gb+me.all": 1}),
        ("RTX-PRO-6000-Server", "all-1g.24gb.gfx", "enabled", {"1g.24gb+gfx": 4}),
        ("A100-40GB", "all-enabled", "enabled", {}),
        ("A100-40GB", "all-disabled", "disabled", {}),
        ("L4", "all-disabled", "disabled", {}),
        ("L4", "all-1g.5gb", "invalid", {}),
        ("H100-80GB", "all-1g.5gb", "invalid", {}),
        ("GB200", "all-3g.95gb", "invalid", {}),
        ("A100-40GB", "custom-config", "unknown", {}),
        ("RTX-PRO-6000-Workstation", "all-1g.24gb", "unknown", {}),
        ("RTX-PRO-6000-Workstation", "all-enabled", "enabled", {}),
    ],
)
def test_mig_config_layout(model: str, config: str, status: str, devices: dict[str, int]) -> None:
    layout = mig_config_layout(MODELS[model], config)
    assert (layout.status, dict(layout.devices)) == (status, devices)


def test_layout_of_unknown_model() -> None:
    assert mig_config_layout(None, "all-1g.5gb").status == "unknown"
    assert mig_config_layout(None, "all-disabled").status == "disabled"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("nvidia.com/gpu", "gpu"),
        ("nvidia.com/mig-1g.5gb", "mig"),
        ("nvidia.com/mig-1g.10gb.me", "mig"),
        ("nvidia.com/mig-2g.48gb.me.all", "mig"),
        ("nvidia.com/mig-1g.24gb-me", "mig"),
        ("nvidia.com/gpu.shared", "shared"),
        ("nvidia.com/mig-1g.5gb.shared", "shared"),
        ("nvidia.com/mig-1c.3g.20gb", "invalid"),
        ("nvidia.com/mig-1g", "invalid"),
        ("nvidia.com/gpus", "invalid"),
        ("nvidia.com/foo.shared", "invalid"),
        ("nvidia.com/mlnx_sriov_rdma", None),
        ("amd.com/gpu", None),
        ("cpu", None),
    ],
)
def test_classify_resource(name: str, kind: str | None) -> None:
    assert classify_resource(name) == kind


def test_mig_resource_name_replaces_plus() -> None:
    assert mig_resource("1g.10gb+me") == "nvidia.com/mig-1g.10gb.me"
    assert mig_resource("1g.24gb-me") == "nvidia.com/mig-1g.24gb-me"
