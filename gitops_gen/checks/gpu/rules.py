"""The GPU feasibility rules (see ``feasibility`` for how each is decided)."""

from __future__ import annotations

from gitops_gen.checks.model import Rule

_POOLS = "checks.gpu.supply.pool_issues"
_CONTAINERS = "checks.gpu.feasibility.check_cluster"

GPU_POOL_CONFIG_INVALID = Rule(
    "gpu-pool-config-invalid",
    "error",
    "inventory",
    "an impossible node pool: a mig.config the model lacks, MIG on a non-MIG GPU, bad counts "
    "(warning: a MIG config under strategy none, all-enabled under mixed)",
    _POOLS,
)
GPU_MODEL_UNKNOWN = Rule(
    "gpu-model-unknown",
    "warning",
    "inventory",
    "MIG is configured on a GPU whose product or MIG profiles are not known",
    _POOLS,
)
GPU_PRODUCT_UNKNOWN = Rule(
    "gpu-product-unknown",
    "error",
    "inventory",
    "a node pool's gpu.product is not a known NVIDIA product label (the message names the closest)",
    _POOLS,
)
MIG_CONFIG_UNKNOWN = Rule(
    "mig-config-unknown",
    "warning",
    "inventory",
    "a custom mig-parted config whose layout cannot be known",
    _POOLS,
)
GPU_RESOURCE_UNKNOWN = Rule(
    "gpu-resource-unknown",
    "error",
    "rendered object",
    "an nvidia.com/gpu* or nvidia.com/mig-* resource name the device plugin never advertises",
    _CONTAINERS,
)
GPU_RESOURCE_SHARED = Rule(
    "gpu-resource-shared",
    "warning",
    "rendered object",
    "a .shared resource name, which needs renameByDefault (cluster.yaml cannot express it)",
    _CONTAINERS,
)
GPU_QUANTITY_NOT_INTEGER = Rule(
    "gpu-quantity-not-integer",
    "error",
    "rendered object",
    "a GPU quantity that is not a non-negative whole number",
    _CONTAINERS,
)
GPU_REQUEST_NOT_LIMIT = Rule(
    "gpu-request-not-limit",
    "error",
    "rendered object",
    "a GPU request without a limit, or a request different from the limit",
    _CONTAINERS,
)
GPU_MIXED_RESOURCES = Rule(
    "gpu-mixed-resources",
    "warning",
    "rendered object",
    "one container asks for two NVIDIA resource types (only one set is visible)",
    _CONTAINERS,
)
GPU_RESOURCE_NOT_ADVERTISED = Rule(
    "gpu-resource-not-advertised",
    "error",
    "cluster capacity",
    "no selected pool advertises the requested GPU resources on one node",
    _CONTAINERS,
)
MIG_PROFILE_NOT_ON_GPU = Rule(
    "mig-profile-not-on-gpu",
    "error",
    "cluster capacity",
    "the MIG profile does not exist on the selected pools' GPU models",
    _CONTAINERS,
)
MIG_STRATEGY_NOT_MIXED = Rule(
    "mig-strategy-not-mixed",
    "error",
    "cluster capacity",
    "the model has the MIG profile but the pool's strategy is single or none",
    _CONTAINERS,
)
MIG_PROFILE_NOT_CONFIGURED = Rule(
    "mig-profile-not-configured",
    "error",
    "cluster capacity",
    "a mixed pool whose mig.config does not create the requested profile",
    _CONTAINERS,
)
GPU_SELECTOR_NO_POOL = Rule(
    "gpu-selector-no-pool",
    "error",
    "cluster capacity",
    "the nodeSelector or required affinity matches no pool that could supply the resources",
    _CONTAINERS,
)
GPU_SUPPLY_UNKNOWN = Rule(
    "gpu-supply-unknown",
    "warning",
    "cluster capacity",
    "only pools whose GPU resources are unknown could run the pod: not checked further",
    _CONTAINERS,
)
GPU_SELECTOR_UNVERIFIABLE = Rule(
    "gpu-selector-unverifiable",
    "warning",
    "cluster capacity",
    "the selector depends on GPU feature labels that are not modelled (gpu.family, gpu.memory, ...)",
    _CONTAINERS,
)
GPU_POD_TOO_LARGE = Rule(
    "gpu-pod-too-large",
    "error",
    "cluster capacity",
    "the pod's effective GPU request exceeds one node of every selected pool",
    _CONTAINERS,
)
GPU_DAEMONSET_PARTIAL = Rule(
    "gpu-daemonset-partial",
    "warning",
    "cluster capacity",
    "a DaemonSet selects pools some of whose nodes cannot run its pod",
    _CONTAINERS,
)
GPU_SHARED_REQUEST_GT_ONE = Rule(
    "gpu-shared-request-gt-one",
    "warning",
    "cluster capacity",
    "a request above 1 of a time-sliced resource (no extra compute)",
    _CONTAINERS,
)
GPU_CAPACITY_EXCEEDED = Rule(
    "gpu-capacity-exceeded",
    "error",
    "cluster capacity",
    "replicas x per-pod GPUs exceed what the candidate pools supply",
    _CONTAINERS,
)
GPU_CAPACITY_ROLLOUT = Rule(
    "gpu-capacity-rollout",
    "warning",
    "cluster capacity",
    "the pools hold the steady state but not a rolling update's surge (maxSurge, default 25% rounded up) "
    "or an HPA's maxReplicas",
    _CONTAINERS,
)
GPU_CAPACITY_AUTOSCALE = Rule(
    "gpu-capacity-autoscale",
    "warning",
    "cluster capacity",
    "the pools hold the steady state (KServe minReplicas, Knative min-scale, Ray replicas) but not the pods "
    "the workload's own autoscaler may start (maxReplicas, max-scale)",
    _CONTAINERS,
)
GPU_REQUEST_UNCHECKED = Rule(
    "gpu-request-unchecked",
    "warning",
    "rendered object",
    "not checked: NVIDIA resources requested where the workload table (gitops_gen/data/workloads.json) "
    "knows no pod template",
    _CONTAINERS,
)

RULES = (
    GPU_POOL_CONFIG_INVALID,
    GPU_MODEL_UNKNOWN,
    GPU_PRODUCT_UNKNOWN,
    MIG_CONFIG_UNKNOWN,
    GPU_RESOURCE_UNKNOWN,
    GPU_RESOURCE_SHARED,
    GPU_QUANTITY_NOT_INTEGER,
    GPU_REQUEST_NOT_LIMIT,
    GPU_MIXED_RESOURCES,
    GPU_RESOURCE_NOT_ADVERTISED,
    MIG_PROFILE_NOT_ON_GPU,
    MIG_STRATEGY_NOT_MIXED,
    MIG_PROFILE_NOT_CONFIGURED,
    GPU_SELECTOR_NO_POOL,
    GPU_SUPPLY_UNKNOWN,
    GPU_SELECTOR_UNVERIFIABLE,
    GPU_POD_TOO_LARGE,
    GPU_DAEMONSET_PARTIAL,
    GPU_SHARED_REQUEST_GT_ONE,
    GPU_CAPACITY_EXCEEDED,
    GPU_CAPACITY_ROLLOUT,
    GPU_CAPACITY_AUTOSCALE,
    GPU_REQUEST_UNCHECKED,
)
