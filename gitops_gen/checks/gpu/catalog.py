"""NVIDIA GPU / MIG facts and what one node of a declared node pool advertises.

Every fact here comes from /work/shared/gpu-reference.md (section numbers in the
comments). Facts that the reference marks unverified are flagged at their table
entry. Pure functions over the plain ``spec.nodePools[]`` dicts of cluster.yaml.

A pool's *supply* is what the NVIDIA device plugin advertises on one of its nodes
(extended resources) plus the labels GFD / the GPU operator write; when the
inventory does not say enough to know it (unknown GPU model with MIG enabled, a
custom mig-parted config), the supply is marked unknown rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.checks.gpu import rules
from gitops_gen.checks.gpu.nodeselect import label_value
from gitops_gen.repo.yamlio import NodePath

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


@dataclass(frozen=True)
class PoolIssue:
    """A problem in a pool's own declaration; ``field`` is relative to the pool dict."""

    rule: str
    severity: str
    message: str
    field: NodePath


@dataclass(frozen=True)
class PoolSupply:
    """What one node of a pool offers.

    ``resources``: extended resources per node (zero counts omitted).
    ``labels``: node labels (user labels plus GFD / operator ones).
    ``known``: False when the GPU resources cannot be derived from the inventory.
    """

    name: str
    nodes: int
    gpus: int
    replicas: int
    strategy: str
    config: str | None
    model: GpuModel | None
    product: str | None
    layout: MigLayout
    resources: Mapping[str, int]
    labels: Mapping[str, str]
    known: bool
    issues: tuple[PoolIssue, ...]

    def describe(self) -> str:
        """Short human description used in messages, e.g. ``a100 (2 nodes x 8 NVIDIA-A100-..., mixed all-1g.5gb)``."""
        if not self.gpus:
            return f"{self.name} ({self.nodes} node{'s' if self.nodes != 1 else ''}, no GPUs)"
        parts = [self.strategy]
        if self.config:
            parts.append(self.config)
        if self.replicas > 1:
            parts.append(f"time-sliced x{self.replicas}")
        nodes = f"{self.nodes} node{'s' if self.nodes != 1 else ''}"
        return f"{self.name} ({nodes} x {self.gpus} {self.product or 'unknown GPU'}, {' '.join(parts)})"


def pool_node_resources(pool: Mapping[str, Any]) -> dict[str, int]:
    """Extended resources one node of ``pool`` advertises (empty when unknown or none)."""
    return dict(pool_supply(pool).resources)


def pool_node_labels(pool: Mapping[str, Any]) -> dict[str, str]:
    """Labels a node of ``pool`` carries: the pool's ``labels`` plus GFD / operator labels."""
    return dict(pool_supply(pool).labels)


def pool_issues(pool: Mapping[str, Any]) -> list[PoolIssue]:
    """Problems in the pool declaration itself."""
    return list(pool_supply(pool).issues)


def pool_label_unknown(supply: PoolSupply, key: str) -> bool:
    """True when a node of the pool may carry ``key`` but the inventory cannot say with which value.

    GFD / NFD write many labels (gpu.family, gpu.memory, cuda.*, NFD features)
    that we do not model. Keys we do model and know to be absent are not unknown:
    ``nvidia.com/mig.strategy`` under ``none``; any ``nvidia.com/`` key on a pool
    without GPUs (no GFD runs there).
    """
    if key in supply.labels:
        return False
    if key.startswith("feature.node.kubernetes.io/"):
        return True
    if not supply.gpus or not key.startswith("nvidia.com/"):
        return False
    if key == "nvidia.com/mig.strategy":
        return supply.strategy != "none"
    if key == "nvidia.com/mig.config":
        # The operator labels MIG-capable nodes all-disabled when the admin did not.
        return supply.model is None or supply.model.mig != "no"
    return True


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pool_supply(pool: Mapping[str, Any]) -> PoolSupply:
    """Everything we derive from one ``spec.nodePools[]`` entry."""
    issues: list[PoolIssue] = []
    name = str(pool.get("name", "?"))
    nodes = _int(pool.get("nodes"))
    if nodes is None or nodes < 1:
        issues.append(
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id, "error", f"pool {name}: nodes must be an integer >= 1", ("nodes",)
            )
        )
        nodes = 0
    raw_labels = pool.get("labels")
    labels = (
        {str(k): label_value(v) for k, v in raw_labels.items()} if isinstance(raw_labels, Mapping) else {}
    )
    gpu = pool.get("gpu")
    mig = pool.get("mig") if isinstance(pool.get("mig"), Mapping) else {}
    sharing = pool.get("sharing") if isinstance(pool.get("sharing"), Mapping) else {}
    assert isinstance(mig, Mapping) and isinstance(sharing, Mapping)

    if not isinstance(gpu, Mapping):
        for key, value in (("mig", mig), ("sharing", sharing)):
            if value:
                issues.append(
                    PoolIssue(
                        rules.GPU_POOL_CONFIG_INVALID.id,
                        "error",
                        f"pool {name}: {key} is set but the pool has no gpu",
                        (key,),
                    )
                )
        return PoolSupply(
            name,
            nodes,
            0,
            1,
            "none",
            None,
            None,
            None,
            MigLayout("disabled"),
            {},
            labels,
            True,
            tuple(issues),
        )

    product = gpu.get("product") if isinstance(gpu.get("product"), str) else None
    count = _int(gpu.get("count"))
    strategy = mig.get("strategy", "none")
    config = mig.get("config") if isinstance(mig.get("config"), str) else None
    replicas = _int(sharing.get("replicas", 1))
    known = True

    if count is None or count < 1:
        issues.append(
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: gpu.count must be an integer >= 1",
                ("gpu", "count"),
            )
        )
        count, known = 0, False
    if strategy not in STRATEGIES:
        issues.append(
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: mig.strategy must be none, single or mixed, not {strategy!r}",
                ("mig", "strategy"),
            )
        )
        strategy, known = "none", False
    if "replicas" in sharing and (replicas is None or replicas < 2):
        # Section 1.2: the plugin rejects time-slicing configs with replicas < 2.
        issues.append(
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: sharing.replicas must be an integer >= 2",
                ("sharing", "replicas"),
            )
        )
    if replicas is None or replicas < 2:
        replicas = 1
    if product and ("-MIG-" in product or product.endswith("-SHARED")):
        issues.append(
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: gpu.product must be the bare model name; GFD adds -MIG-<profile> / -SHARED itself ({product})",
                ("gpu", "product"),
            )
        )
    model = model_for_product(product)
    layout = mig_config_layout(model, config, product or "") if config else MigLayout("disabled")
    if known or layout.status == "invalid":
        # After a bad strategy or count, follow-on warnings would only repeat the problem.
        issues.extend(_layout_issues(name, strategy, config, model, product, layout))
    if strategy != "none" and layout.status in ("invalid", "unknown"):
        known = False

    resources, gpu_labels = _advertised(product, count, replicas, strategy, layout)
    all_labels = dict(labels)
    all_labels.update(gpu_labels)
    if config:
        all_labels["nvidia.com/mig.config"] = config
    if model is not None and model.mig == "yes":
        all_labels["nvidia.com/mig.capable"] = "true"
    if not known:
        resources = {}
    return PoolSupply(
        name,
        nodes,
        count,
        replicas,
        strategy,
        config,
        model,
        product,
        layout,
        resources,
        all_labels,
        known,
        tuple(issues),
    )


def _layout_issues(
    name: str,
    strategy: str,
    config: str | None,
    model: GpuModel | None,
    product: str | None,
    layout: MigLayout,
) -> list[PoolIssue]:
    where: NodePath = ("mig", "config")
    if layout.status == "invalid":
        return [PoolIssue(rules.GPU_POOL_CONFIG_INVALID.id, "error", f"pool {name}: {layout.reason}", where)]
    if strategy == "none":
        if layout.status == "enabled" or (layout.status == "unknown" and config):
            return [
                PoolIssue(
                    rules.GPU_POOL_CONFIG_INVALID.id,
                    "warning",
                    f"pool {name}: mig.config {config} enables MIG but mig.strategy is none, so the device plugin "
                    "ignores MIG and advertises whole GPUs as nvidia.com/gpu; set mig.strategy single or mixed",
                    ("mig", "strategy"),
                )
            ]
        return []
    if layout.status == "unknown":
        rule = rules.GPU_MODEL_UNKNOWN.id if model is None or model.mig == "unknown" else rules.MIG_CONFIG_UNKNOWN.id
        where = ("gpu", "product") if model is None else where
        return [
            PoolIssue(
                rule, "warning", f"pool {name}: {layout.reason}; its GPU resources are not checked", where
            )
        ]
    if layout.status != "enabled":
        return []
    profiles = [resource_suffix(p) for p in layout.devices]
    if strategy == "single" and len(profiles) != 1:
        what = "creates no MIG devices" if not profiles else f"mixes MIG profiles ({', '.join(profiles)})"
        return [
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: mig.config {config} {what}, which is invalid under mig.strategy single (all MIG devices "
                f"on a node must be identical); the plugin advertises nothing and GFD labels the node "
                f"{product or '<model>'}-MIG-INVALID; use mig.strategy mixed or an all-<profile> config",
                where,
            )
        ]
    if strategy == "mixed" and not profiles:
        return [
            PoolIssue(
                rules.GPU_POOL_CONFIG_INVALID.id,
                "warning",
                f"pool {name}: mig.config {config} enables MIG without MIG devices, so the GPUs advertise nothing",
                where,
            )
        ]
    return []


def _advertised(
    product: str | None, count: int, replicas: int, strategy: str, layout: MigLayout
) -> tuple[dict[str, int], dict[str, str]]:
    """Resources per node and GFD/operator labels (sections 1.1, 1.2, 2.1, 2.2, 4)."""
    shared = "-SHARED" if replicas > 1 else ""
    sharing = "time-slicing" if replicas > 1 else "none"
    labels: dict[str, str] = {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.sharing-strategy": sharing}
    if strategy != "none":
        labels["nvidia.com/mig.strategy"] = strategy

    def whole_gpus() -> tuple[dict[str, int], dict[str, str]]:
        labels.update({"nvidia.com/gpu.count": str(count), "nvidia.com/gpu.replicas": str(replicas)})
        if product:
            labels["nvidia.com/gpu.product"] = product + shared
        return ({GPU_RESOURCE: count * replicas} if count else {}), labels

    # Under none the plugin ignores MIG mode; an unknown layout means MIG is on in a way we cannot see.
    if strategy == "none" or layout.status == "disabled":
        return whole_gpus()
    if layout.status != "enabled":
        return {}, labels
    devices = {p: n for p, n in layout.devices.items() if n > 0}
    if strategy == "single":
        if len(devices) != 1:
            labels.update({"nvidia.com/gpu.count": "0", "nvidia.com/gpu.replicas": "0"})
            if product:
                labels["nvidia.com/gpu.product"] = f"{product}-MIG-INVALID"
            return {}, labels
        ((profile, per_gpu),) = devices.items()
        total = count * per_gpu
        labels.update({"nvidia.com/gpu.count": str(total), "nvidia.com/gpu.replicas": str(replicas)})
        if product:
            labels["nvidia.com/gpu.product"] = f"{product}-MIG-{resource_suffix(profile)}{shared}"
        return ({GPU_RESOURCE: total * replicas} if total else {}), labels
    # mixed: gpu.* labels describe the physical (MIG-enabled) GPUs with replicas 0; one resource per profile.
    labels.update({"nvidia.com/gpu.count": str(count), "nvidia.com/gpu.replicas": "0"})
    if product:
        labels["nvidia.com/gpu.product"] = product
    resources: dict[str, int] = {}
    for profile, per_gpu in devices.items():
        name = mig_resource(profile)
        total = count * per_gpu
        if total:
            resources[name] = total * replicas
        labels[f"{name}.count"] = str(total)
        labels[f"{name}.replicas"] = str(replicas)
        if product:
            labels[f"{name}.product"] = f"{product}-MIG-{resource_suffix(profile)}{shared}"
    return resources, labels
