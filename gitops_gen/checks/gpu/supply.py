"""What one node of a declared node pool supplies, and what is wrong with a pool's declaration.

A pool's *supply* is what the NVIDIA device plugin advertises on one of its nodes
(extended resources) plus the labels GFD / the GPU operator write; when the
inventory does not say enough to know it (unknown GPU model with MIG enabled, a
custom mig-parted config), the supply is marked unknown rather than guessed.
Pure functions over the plain ``spec.nodePools[]`` dicts of cluster.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_gen.checks.gpu import rules
from gitops_gen.checks.gpu.catalog import (
    GPU_RESOURCE,
    STRATEGIES,
    GpuModel,
    MigLayout,
    mig_config_layout,
    mig_resource,
    model_for_product,
    resource_suffix,
    unknown_product,
)
from gitops_gen.checks.gpu.nodeselect import label_value
from gitops_gen.repo.yamlio import NodePath


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
                rules.GPU_POOL_CONFIG_INVALID.id,
                "error",
                f"pool {name}: nodes must be an integer >= 1",
                ("nodes",),
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
    if product is not None and model_for_product(product) is None and "-MIG-" not in product.upper():
        issues.append(
            PoolIssue(
                rules.GPU_PRODUCT_UNKNOWN.id, "error", unknown_product(name, product), ("gpu", "product")
            )
        )

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
        rule = (
            rules.GPU_MODEL_UNKNOWN.id
            if model is None or model.mig == "unknown"
            else rules.MIG_CONFIG_UNKNOWN.id
        )
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
