"""Differential test: random strategic-merge patches of a GPU Deployment, ours vs kubectl kustomize."""

from __future__ import annotations

import copy
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.smp import apply_patch
from tests.conftest import kubectl_kustomize, requires_kubectl

BASE_TEXT = (Path(__file__).parents[1] / "data" / "smp" / "replicas-and-image" / "base.yaml").read_text(
    encoding="utf-8"
)
BASE: dict[str, Any] = yaml.load(BASE_TEXT, Loader=yaml.CSafeLoader)

CONTAINERS = ["server", "dcgm-exporter", "triton-proxy", "profiler"]
ENV_NAMES = ["MODEL_NAME", "LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "NCCL_DEBUG"]
GPU_RESOURCES = ["nvidia.com/gpu", "nvidia.com/mig-1g.5gb", "nvidia.com/mig-3g.20gb", "cpu", "memory"]
SELECTOR_KEYS = ["nvidia.com/gpu.product", "pool", "nvidia.com/mig.config"]
GPU_PRODUCTS = ["NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3", "Tesla-T4"]


PORTS: list[dict[str, Any]] = [
    {"containerPort": 8080, "name": "web"},
    {"containerPort": 8080, "protocol": "TCP", "name": "web-tcp"},
    {"containerPort": 8081, "protocol": "TCP", "name": "grpc2"},
    {"containerPort": 9000, "name": "extra"},
]
MOUNTS: list[dict[str, Any]] = [
    {"mountPath": "/models", "readOnly": False},
    {"name": "cache", "mountPath": "/cache"},
    {"mountPath": "/dev/shm", "$patch": "delete"},
]


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, or None meaning 'leave the field out of the patch'."""
    return st.one_of(st.none(), strategy)


env_entry = st.builds(
    lambda name, action, value: {"name": name, **action(value)},
    st.sampled_from(ENV_NAMES),
    st.sampled_from(
        [
            lambda v: {"value": v},
            lambda v: {"$patch": "delete"},
            lambda v: {"value": None},
        ]
    ),
    st.sampled_from(["debug", "1", "INFO", "private-detector-v4"]),
)

resource_map = st.dictionaries(
    st.sampled_from(GPU_RESOURCES), st.one_of(st.none(), st.integers(1, 4), st.just("8Gi")), max_size=3
)


@st.composite
def container_patch(draw: st.DrawFn, name: str) -> dict[str, Any]:
    patch: dict[str, Any] = {"name": name}
    if draw(st.integers(0, 9)) == 0:
        patch["$patch"] = "delete"
        return patch
    image = draw(optional(st.sampled_from(["img:1", "registry.example.com/private-detector:2.5.0"])))
    if image is not None:
        patch["image"] = image
    env = draw(optional(st.lists(env_entry, max_size=3, unique_by=lambda e: e["name"])))
    if env is not None:
        patch["env"] = env
    limits = draw(optional(resource_map))
    requests = draw(optional(resource_map))
    if limits is not None or requests is not None:
        patch["resources"] = {k: v for k, v in (("limits", limits), ("requests", requests)) if v is not None}
    ports = draw(optional(st.lists(st.sampled_from(PORTS).map(copy.deepcopy), max_size=2, unique_by=str)))
    if ports is not None:
        patch["ports"] = ports
    mounts = draw(optional(st.lists(st.sampled_from(MOUNTS).map(copy.deepcopy), max_size=2, unique_by=str)))
    if mounts is not None:
        patch["volumeMounts"] = mounts
    args = draw(optional(st.lists(st.sampled_from(["--port", "9090", "--fp16"]), max_size=3)))
    if args is not None:
        patch["args"] = args
    return patch


@st.composite
def deployment_patch(draw: st.DrawFn) -> dict[str, Any]:
    pod: dict[str, Any] = {}
    names = draw(st.lists(st.sampled_from(CONTAINERS), max_size=3, unique=True))
    if names:
        directive = draw(st.sampled_from([[], [], [], [{"$patch": "replace"}]]))
        pod["containers"] = directive + [draw(container_patch(n)) for n in names]
    selector = draw(
        optional(
            st.dictionaries(
                st.sampled_from(SELECTOR_KEYS), st.one_of(st.none(), st.sampled_from(GPU_PRODUCTS))
            )
        )
    )
    if selector is not None:
        pod["nodeSelector"] = selector
    tolerations = draw(
        optional(
            st.one_of(
                st.none(),
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "key": st.sampled_from(["nvidia.com/gpu", "dedicated"]),
                            "operator": st.just("Exists"),
                        }
                    ),
                    max_size=2,
                ),
            )
        )
    )
    if tolerations is not None or draw(st.booleans()):
        pod["tolerations"] = tolerations
    secrets = draw(
        optional(st.lists(st.sampled_from(["registry-creds", "nvcr-creds"]), unique=True, max_size=2))
    )
    if secrets is not None:
        pod["imagePullSecrets"] = [{"name": s} for s in secrets]
    spec: dict[str, Any] = {"template": {"spec": pod}}
    replicas = draw(optional(st.integers(0, 8)))
    if replicas is not None:
        spec["replicas"] = replicas
    metadata: dict[str, Any] = {"name": "private-detector", "namespace": "ml"}
    finalizers = draw(
        optional(st.lists(st.sampled_from(["example.com/keep", "example.com/gpu"]), max_size=2))
    )
    if finalizers is not None:
        metadata["finalizers"] = finalizers
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def oracle(patch: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "base.yaml").write_text(BASE_TEXT, encoding="utf-8")
        (root / "patch.yaml").write_text(yaml.safe_dump(patch, sort_keys=False), encoding="utf-8")
        (root / "kustomization.yaml").write_text(
            "resources:\n- base.yaml\npatches:\n- path: patch.yaml\n", encoding="utf-8"
        )
        return kubectl_kustomize(root)


@requires_kubectl
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deployment_patch())
def test_random_patches_match_kubectl(patch: dict[str, Any]) -> None:
    proc = oracle(patch)
    if proc.returncode != 0:
        try:
            apply_patch(BASE, patch)
        except GitopsGenError:
            return
        raise AssertionError(f"kubectl failed but we did not:\n{proc.stderr}")
    expected = [d for d in yaml.load_all(proc.stdout, Loader=yaml.CSafeLoader) if d is not None]
    got = apply_patch(BASE, patch)
    assert ([got] if got is not None else []) == expected
