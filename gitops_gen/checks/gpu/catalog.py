"""NVIDIA GPU / MIG facts: the models, their MIG profiles and configs, the resource names.

Every fact here comes from the project's GPU reference (docs/gpu-reference.md, section numbers
in the comments). Facts that the reference marks unverified are flagged at their table
entry. What a node pool supplies, given these facts, is ``supply``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

GPU_RESOURCE = "nvidia.com/gpu"
MIG_PREFIX = "nvidia.com/mig-"
STRATEGIES = ("none", "single", "mixed")


# Profile as a resource-name suffix (``+`` already written as ``.``; section 1.1):
# 1g.5gb, 1g.10gb.me, 2g.48gb.me.all, 1g.24gb.gfx, 1g.24gb-me. Compute-instance
# profiles (1c.3g.20gb) are never advertised, so they do not match.
_MIG_SUFFIX = re.compile(r"[0-9]+g\.[0-9]+gb(?:[.-][a-z]+)*")


@dataclass(frozen=True)
class GpuModel:
    """One GPU model as far as MIG is concerned.

    ``mig`` is "yes" (profiles known, section 3), "no" (no MIG on this model) or
    "unknown" (MIG may exist but the profiles are not in the reference).
    ``profiles`` maps each GPU-instance profile (``+`` form) to its maximum
    instances per GPU, which is what ``all-<profile>`` creates.
    """

    key: str
    title: str
    mig: str
    profiles: Mapping[str, int] = field(default_factory=dict)
    balanced: Mapping[str, int] = field(default_factory=dict)
    note: str = ""


def _seven_slice(
    key: str, title: str, small: str, large: str, two: str, three: str, four: str, seven: str, note: str = ""
) -> GpuModel:
    """A 7-compute-slice part: the column layout of the first table in section 3."""
    profiles = {small: 7, f"{small}+me": 1, large: 4, two: 3, three: 2, four: 1, seven: 1}
    return GpuModel(key, title, "yes", profiles, {small: 2, two: 1, three: 1}, note)


MODELS: dict[str, GpuModel] = {
    m.key: m
    for m in (
        _seven_slice(
            "A100-40GB", "A100 40GB", "1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"
        ),
        _seven_slice(
            "A100-80GB", "A100 80GB", "1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"
        ),
        _seven_slice(
            "H100-80GB", "H100 80GB", "1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"
        ),
        _seven_slice(
            "H100-94GB", "H100 NVL 94GB", "1g.12gb", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"
        ),
        _seven_slice(
            "H100-96GB",
            "H100 96GB / GH200 96GB",
            "1g.12gb",
            "1g.24gb",
            "2g.24gb",
            "3g.48gb",
            "4g.48gb",
            "7g.96gb",
        ),
        _seven_slice(
            "H200-141GB",
            "H200 141GB",
            "1g.18gb",
            "1g.35gb",
            "2g.35gb",
            "3g.71gb",
            "4g.71gb",
            "7g.141gb",
            note="H200 NVL's 1g.35gb maximum (4 assumed) is unverified",
        ),
        _seven_slice(
            "GH200-144GB", "GH200 144GB", "1g.18gb", "1g.36gb", "2g.36gb", "3g.72gb", "4g.72gb", "7g.144gb"
        ),
        _seven_slice("B200", "B200 180GB", "1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb"),
        _seven_slice(
            "GB200", "GB200 186GB", "1g.23gb", "1g.47gb", "2g.47gb", "3g.93gb", "4g.93gb", "7g.186gb"
        ),
        _seven_slice("B300", "B300", "1g.34gb", "1g.67gb", "2g.67gb", "3g.135gb", "4g.135gb", "7g.269gb"),
        _seven_slice("GB300", "GB300", "1g.35gb", "1g.70gb", "2g.70gb", "3g.139gb", "4g.139gb", "7g.278gb"),
        # Four-slice parts (second table of section 3).
        GpuModel(
            "A30",
            "A30 24GB",
            "yes",
            {"1g.6gb": 4, "1g.6gb+me": 1, "2g.12gb": 2, "2g.12gb+me": 1, "4g.24gb": 1},
            {"1g.6gb": 2, "2g.12gb": 1},
        ),
        GpuModel(
            "RTX-PRO-6000-Server",
            "RTX PRO 6000 Blackwell Server Edition",
            "yes",
            {
                "1g.24gb": 4,
                "1g.24gb+gfx": 4,
                "1g.24gb-me": 4,
                "1g.24gb+me.all": 1,
                "2g.48gb": 2,
                "2g.48gb+gfx": 2,
                "2g.48gb-me": 2,
                "2g.48gb+me.all": 1,
                "4g.96gb": 1,
                "4g.96gb+gfx": 1,
            },
            {"1g.24gb": 2, "2g.48gb": 1},
        ),
        # Observed on real nodes (section 2.3) but absent from the MIG tables of section 3.
        GpuModel("T4", "T4", "no"),
        GpuModel("V100-16GB", "V100 16GB", "no"),
        GpuModel("V100-32GB", "V100 32GB", "no"),
        GpuModel("A10", "A10", "no"),
        GpuModel("A40", "A40", "no"),
        GpuModel("L4", "L4", "no"),
        GpuModel("L40", "L40", "no"),
        GpuModel("L40S", "L40S", "no"),
        GpuModel(
            "RTX-PRO-6000-Workstation",
            "RTX PRO 6000 Blackwell Max-Q Workstation Edition",
            "unknown",
            note="MIG profiles of the workstation edition are not in the reference",
        ),
    )
}

# Sanitised NVML names (gpu.product, section 2.2/2.3) -> model. Keys are upper-cased
# and without the "NVIDIA-" prefix, which older drivers did not report (section 2.3).
# Only names seen in the reference; anything else is an unknown model.
_PRODUCTS: dict[str, str] = {
    "TESLA-T4": "T4",
    "TESLA-V100-SXM2-16GB": "V100-16GB",
    "TESLA-V100-PCIE-16GB": "V100-16GB",
    "TESLA-V100-SXM2-32GB": "V100-32GB",
    "A10": "A10",
    "A40": "A40",
    # 40GB and 80GB A100 names follow different patterns (section 2.3).
    "A100-PCIE-40GB": "A100-40GB",
    "A100-SXM4-40GB": "A100-40GB",
    "A100-SXM4-80GB": "A100-80GB",
    "A100-80GB-PCIE": "A100-80GB",
    "L4": "L4",
    "L40": "L40",
    "L40S": "L40S",
    "H100-80GB-HBM3": "H100-80GB",
    "H100-PCIE": "H100-80GB",  # public manifests only (lower confidence)
    "H100-NVL": "H100-94GB",  # public manifests only (lower confidence)
    "H200": "H200-141GB",  # public manifests only (lower confidence)
    "H200-NVL": "H200-141GB",
    "GH200-480GB": "H100-96GB",  # GH200 96GB HBM3 module (section 3, "GH200 96GB (480GB)")
    "B200": "B200",  # public manifests only (lower confidence)
    "RTX-PRO-6000-BLACKWELL-MAX-Q-WORKSTATION-EDITION": "RTX-PRO-6000-Workstation",
}

# Configs from pre-production GB200 values, replaced in mig-parted (section 3 traps).
_RETIRED_CONFIGS = {
    "all-3g.95gb": "all-3g.93gb",
    "all-4g.95gb": "all-4g.93gb",
    "all-7g.189gb": "all-7g.186gb",
}


def model_for_product(product: str | None) -> GpuModel | None:
    """The model behind a bare ``nvidia.com/gpu.product`` value, or None when unknown."""
    if not product:
        return None
    name = product.strip().upper()
    if name.startswith("NVIDIA-"):
        name = name[len("NVIDIA-") :]
    key = _PRODUCTS.get(name)
    return MODELS[key] if key else None


def known_products() -> list[str]:
    """Every gpu.product label the catalog knows, as GPU feature discovery writes them."""
    return [f"NVIDIA-{name}" for name in _PRODUCTS]


def unknown_product(pool: str, product: str) -> str:
    close = difflib.get_close_matches(product.upper(), [p.upper() for p in known_products()], n=3, cutoff=0.5)
    names = {p.upper(): p for p in known_products()}
    hint = f"; closest: {', '.join(names[c] for c in close)}" if close else ""
    return f"pool {pool}: gpu.product {product!r} is not a known NVIDIA product label{hint}"


def resource_suffix(profile: str) -> str:
    """A MIG profile as it appears in resource names and labels: every ``+`` becomes ``.``."""
    return profile.replace("+", ".")


def mig_resource(profile: str) -> str:
    """``1g.10gb+me`` -> ``nvidia.com/mig-1g.10gb.me`` (section 1.1)."""
    return MIG_PREFIX + resource_suffix(profile)


def classify_resource(name: str) -> str | None:
    """What an extended resource name is to us.

    "gpu" (``nvidia.com/gpu``), "mig" (``nvidia.com/mig-<profile>``), "shared"
    (the ``.shared`` rename of either, which needs ``renameByDefault``), "invalid"
    (looks like an NVIDIA GPU resource but the plugin never advertises it), or
    None (not a GPU resource, e.g. an SR-IOV ``nvidia.com/<nic>`` resource).
    """
    if name == GPU_RESOURCE:
        return "gpu"
    if name.endswith(".shared"):
        base = name[: -len(".shared")]
        if base == GPU_RESOURCE or (
            base.startswith(MIG_PREFIX) and _MIG_SUFFIX.fullmatch(base[len(MIG_PREFIX) :])
        ):
            return "shared"
        return "invalid"
    if name.startswith(MIG_PREFIX):
        return "mig" if _MIG_SUFFIX.fullmatch(name[len(MIG_PREFIX) :]) else "invalid"
    if name.startswith(GPU_RESOURCE):
        return "invalid"
    return None


def profile_for_resource(model: GpuModel, resource: str) -> str | None:
    """The model's profile advertised as ``resource`` under ``mixed``, or None."""
    suffix = resource[len(MIG_PREFIX) :] if resource.startswith(MIG_PREFIX) else None
    for profile in model.profiles:
        if resource_suffix(profile) == suffix:
            return profile
    return None


def models_with_profile(suffix: str) -> list[GpuModel]:
    """Models that have a profile written ``suffix`` in resource-name form."""
    return [m for m in MODELS.values() if any(resource_suffix(p) == suffix for p in m.profiles)]


@dataclass(frozen=True)
class MigLayout:
    """What a mig-parted config does to every GPU of a node (section 4).

    ``status``: "disabled" (MIG off), "enabled" (MIG on with ``devices`` per GPU,
    possibly none for ``all-enabled``), "invalid" (the config does not exist for
    this model), "unknown" (cannot be known from the inventory). ``reason``
    explains the last two.
    """

    status: str
    devices: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""


def mig_config_layout(model: GpuModel | None, config: str, product: str = "") -> MigLayout:
    """The per-GPU layout of mig-parted config ``config`` on ``model``."""
    shown = product or (model.title if model else "this GPU")
    if config == "all-disabled":
        return MigLayout("disabled")
    if model is None:
        return MigLayout(
            "unknown", reason=f"GPU model of {shown!r} is unknown, MIG layout of {config} cannot be checked"
        )
    if model.mig == "no":
        return MigLayout("invalid", reason=f"{shown} does not support MIG, but mig.config is {config}")
    if config == "all-enabled":
        return MigLayout("enabled")
    if model.mig == "unknown":
        return MigLayout(
            "unknown", reason=f"MIG profiles of {shown} are unknown to gitops-gen ({model.note})"
        )
    if config == "all-balanced":
        return MigLayout("enabled", dict(model.balanced))
    if config.startswith("all-"):
        suffix = config[len("all-") :]
        for profile, count in model.profiles.items():
            if resource_suffix(profile) == suffix:
                return MigLayout("enabled", {profile: count})
        if _MIG_SUFFIX.fullmatch(suffix):
            return MigLayout("invalid", reason=_no_such_config(model, shown, config, suffix))
    return MigLayout(
        "unknown", reason=f"{config} is not a default mig-parted config, so its layout is unknown"
    )


def _no_such_config(model: GpuModel, shown: str, config: str, suffix: str) -> str:
    hint = ""
    if config in _RETIRED_CONFIGS:
        hint = f"; {config} is a pre-production GB200 value, use {_RETIRED_CONFIGS[config]}"
    else:
        others = [m.title for m in models_with_profile(suffix)]
        if others:
            hint = f"; it exists on {', '.join(others)}"
    profiles = ", ".join(resource_suffix(p) for p in model.profiles)
    return f"mig.config {config} does not exist for {shown} (its profiles: {profiles}){hint}"
