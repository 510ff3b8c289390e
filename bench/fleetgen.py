#!/usr/bin/env python3
"""Deterministic synthetic GPU fleet for the gitops-gen benchmark.

    python bench/fleetgen.py OUT --clusters 50 --apps 40 [--apps-per-cluster 28] [--seed 1]

writes the hand-written half of a fleet repository as docs/design.md section 1 lays it out:
``gitops-gen.yaml``, ``clusters/<cluster>/cluster.yaml`` and ``apps/<app>/{base,company,zone,env,cluster}/``
plus hand-written chain overlays for about a quarter of the apps. The GENERATED files (variants,
``mapping/``, ``sync.yaml``) are left to ``gitops-gen generate``.

The fleet is meant to be clean: every workload's GPU resource and nodeSelector land on a node pool
the cluster declares, and pools are sized to hold the peak validate judges (every HPA at its maximum
plus a rolling update's surge). To get that right the generator
models the effect of each layer (replicas, GPU pool, GPU count) while it writes the patches, and
sizes each cluster's pools from the modelled demand.

Every random choice comes from a generator seeded by (seed, entity), so the same arguments give the
same bytes, and an app or cluster looks the same whatever the fleet's size.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):
    """Block style, key order kept, multi-line strings as `|` literals like a person writes them."""


def _represent_str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(obj: Any) -> str:
    return str(yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096))


def dump_all(docs: Iterable[Any]) -> str:
    return str(
        yaml.dump_all(list(docs), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096)
    )


KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
COMPONENT = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}

PRODUCT = "nvidia.com/gpu.product"
POOL_LABEL = "gpu-pool"
SELECTOR_KEYS = (PRODUCT, POOL_LABEL)
GPU = "nvidia.com/gpu"
MIG_SMALL = "nvidia.com/mig-1g.5gb"
MIG_HALF = "nvidia.com/mig-3g.40gb"
GPU_RESOURCES = (GPU, MIG_SMALL, MIG_HALF)


@dataclass(frozen=True)
class PoolKind:
    """A kind of GPU node pool, and what a workload must ask for to land on it."""

    name: str
    product: str
    gpus: int  # physical GPUs per node
    resource: str  # the extended resource workloads request there
    per_node: int  # units of `resource` one node advertises
    mig: dict[str, str] | None
    selector: dict[str, str]
    instance_type: str


def _pool(
    name: str, product: str, gpus: int, resource: str, per_gpu: int, mig: dict[str, str] | None, itype: str
) -> PoolKind:
    selector = {PRODUCT: product}
    if mig and mig["config"] == "all-balanced":
        # The balanced pool shares its product label with the plain A100 80GB pool: pin it by pool label.
        selector[POOL_LABEL] = name
    return PoolKind(name, product, gpus, resource, gpus * per_gpu, mig, selector, itype)


POOLS: dict[str, PoolKind] = {
    p.name: p
    for p in (
        _pool("a100-80", "NVIDIA-A100-SXM4-80GB", 8, GPU, 1, None, "p4de.24xlarge"),
        _pool("h100", "NVIDIA-H100-80GB-HBM3", 8, GPU, 1, None, "p5.48xlarge"),
        _pool("l40s", "NVIDIA-L40S", 4, GPU, 1, None, "g6e.12xlarge"),
        # all-1g.5gb: 7 slices per A100 40GB; mixed strategy keeps the bare product label.
        _pool("a100-40-mig", "NVIDIA-A100-SXM4-40GB", 8, MIG_SMALL, 7,
              {"strategy": "mixed", "config": "all-1g.5gb"}, "p4d.24xlarge"),
        # all-balanced on A100 80GB: 2x 1g.10gb + 1x 2g.20gb + 1x 3g.40gb per GPU.
        _pool("a100-80-balanced", "NVIDIA-A100-SXM4-80GB", 8, MIG_HALF, 1,
              {"strategy": "mixed", "config": "all-balanced"}, "p4de.24xlarge"),
    )
}  # fmt: skip

DEFAULT_POOL = "a100-80"
# Each zone is one datacenter with one kind of special hardware next to the A100 80GB default pool.
ZONE_HARDWARE = ("a100-80", "h100", "a100-40-mig", "a100-80-balanced", "l40s")
# Dev clusters share GPUs through MIG slices.
DEV_POOL = "a100-40-mig"
# Which special pools an app of each size class moves to when its zone has one.
SUITS = {"large": ("h100",), "medium": ("h100", "a100-80-balanced"), "small": ("a100-40-mig", "l40s")}

COMPANIES = ("bumble", "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne")
ENVS = ("dev", "staging", "prod")
ENV_WEIGHTS = (0.35, 0.2, 0.45)
KUBE_VERSIONS = ("1.29", "1.30", "1.31")
DEFAULT_KUBE = "1.30"
REPO_URL = "https://git.example.com/platform/gpu-fleet.git"

TOPICS = (
    "private", "toxicity", "spam", "nsfw", "face", "ocr", "translate", "summarize", "embed", "rerank",
    "asr", "tts", "caption", "search", "fraud", "lang-id", "sentiment", "pii", "vision", "chat",
    "moderation", "recsys", "ads-ctr", "doc-layout", "code-assist",
)  # fmt: skip
KINDS = ("detector", "classifier", "server", "ranker", "encoder", "generator")
NAMESPACES = ("ml-serving", "trust-safety", "search", "ml-platform")
METRICS_IMAGES = (
    ("quay.io/prometheus/statsd-exporter", "v0.27.1", "statsd-exporter"),
    ("docker.io/otel/opentelemetry-collector", "0.108.0", "otel-collector"),
    ("nvcr.io/nvidia/k8s/dcgm-exporter", "3.3.7-3.5.0-ubuntu22.04", "dcgm-exporter"),
)


@dataclass(frozen=True)
class Server:
    """What the model-server container looks like for one serving stack."""

    name: str
    args: tuple[str, ...]
    http: int
    grpc: int | None
    ready: str
    live: str


SERVERS = (
    Server("triton", ("tritonserver", "--model-repository=/models", "--strict-readiness=true",
                      "--http-port=8000", "--grpc-port=8001"), 8000, 8001, "/v2/health/ready", "/v2/health/live"),
    Server("vllm", ("--model=/models/current", "--port=8000", "--gpu-memory-utilization=0.90",
                    "--max-num-seqs=64"), 8000, None, "/health", "/health"),
    Server("torchserve", ("torchserve", "--start", "--foreground", "--model-store=/models",
                          "--ts-config=/etc/model/config.properties"), 8080, 7070, "/ping", "/ping"),
    Server("custom", ("python", "-m", "serve", "--config=/etc/model/model.yaml"), 8000, None, "/readyz", "/healthz"),
)  # fmt: skip


@dataclass(frozen=True)
class FleetParams:
    clusters: int = 50
    apps: int = 40
    apps_per_cluster: int = 28
    seed: int = 1
    companies: int = 3
    zones: int = 5
    # Share of apps written in the chain style (cluster.yaml names a hand-written overlay).
    chain_share: float = 0.25
    # Share of (cluster, component-style app) pairs with an apps/<app>/cluster/<cluster>/ component.
    cluster_share: float = 0.5


@dataclass
class App:
    name: str
    namespace: str
    size: str  # large | medium | small
    server: Server
    image: str
    tag: str
    replicas: int
    chain: bool
    single_file: bool
    service_account: bool
    hpa: bool
    pdb: bool
    cm_generator: bool
    template_labels: bool
    metrics: tuple[str, str, str]
    weight: float


@dataclass
class Cluster:
    name: str
    company: str
    zone: str
    env: str
    kube: str | None
    engine: str | None
    enabled: list[str]
    disabled: list[str]
    extra_t4: bool
    rng: random.Random


@dataclass
class Effect:
    """What one layer does to an app's modelled state; None leaves a field alone."""

    replicas: int | None = None
    pool: str | None = None
    count: int | None = None


@dataclass
class State:
    replicas: int
    pool: str
    count: int

    def apply(self, effect: Effect | None) -> State:
        if effect is None:
            return self
        return State(
            effect.replicas if effect.replicas is not None else self.replicas,
            effect.pool if effect.pool is not None else self.pool,
            effect.count if effect.count is not None else self.count,
        )


@dataclass
class Fleet:
    files: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, content: str) -> None:
        assert path not in self.files, path
        self.files[path] = content


def _rng(params: FleetParams, *key: object) -> random.Random:
    # str seeds go through sha512: stable across runs and PYTHONHASHSEED.
    return random.Random("/".join([str(params.seed), *map(str, key)]))


def _suffix(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: cluster name suffixes within one zone and env."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def base_state(app: App) -> State:
    return State(app.replicas, DEFAULT_POOL, 2 if app.size == "large" else 1)


def make_apps(params: FleetParams) -> list[App]:
    names = [f"{t}-{k}" for t in TOPICS for k in KINDS]
    _rng(params, "app-names").shuffle(names)
    if params.apps > len(names):
        raise SystemExit(f"fleetgen: at most {len(names)} apps")
    chain_every = round(1 / params.chain_share) if params.chain_share > 0 else 0
    apps = []
    for i, name in enumerate(sorted(names[: params.apps])):
        rng = _rng(params, "app", name)
        apps.append(
            App(
                name=name,
                namespace=rng.choice(NAMESPACES),
                size=rng.choices(("large", "medium", "small"), (0.3, 0.3, 0.4))[0],
                server=rng.choice(SERVERS),
                image=f"registry.example.com/ml/{name}",
                tag=f"v1.{rng.randrange(2, 9)}.{rng.randrange(0, 12)}",
                replicas=rng.choice((1, 1, 2)),
                chain=bool(chain_every) and i % chain_every == chain_every - 1,
                single_file=rng.random() < 0.3,
                service_account=rng.random() < 0.6,
                hpa=rng.random() < 0.4,
                pdb=rng.random() < 0.5,
                cm_generator=rng.random() < 0.6,
                template_labels=rng.random() < 0.3,
                metrics=rng.choice(METRICS_IMAGES),
                # A few platform apps run nearly everywhere; the rest are spread thinner.
                weight=40.0 if rng.random() < 0.15 else rng.uniform(1.0, 6.0),
            )
        )
    return apps


def make_clusters(params: FleetParams, apps: list[App]) -> list[Cluster]:
    zones = [f"zone-{i + 1}" for i in range(params.zones)]
    companies = [COMPANIES[i % len(COMPANIES)] for i in range(min(params.companies, len(COMPANIES)))]
    combos = [(z, e) for z in zones for e in ENVS]
    rng = _rng(params, "cluster-layout")
    counters: dict[tuple[str, str], int] = {}
    clusters = []
    per_cluster = min(params.apps_per_cluster, len(apps))
    for i in range(params.clusters):
        if i < len(combos):
            zone, env = combos[i]
        else:
            zone, env = rng.choice(zones), rng.choices(ENVS, ENV_WEIGHTS)[0]
        n = counters.get((zone, env), 0)
        counters[(zone, env)] = n + 1
        name = f"{zone}-{env}-{_suffix(n)}"
        crng = _rng(params, "cluster", name)
        # Weighted sampling without replacement (Efraimidis-Spirakis keys).
        ranked = sorted(apps, key=lambda a: crng.random() ** (1.0 / a.weight), reverse=True)
        enabled = sorted(a.name for a in ranked[:per_cluster])
        disabled = sorted(a.name for a in ranked[per_cluster : per_cluster + crng.randrange(1, 4)])
        kube = crng.choices((None, *KUBE_VERSIONS), (0.55, 0.15, 0.1, 0.2))[0]
        engine = crng.choices((None, "flux", "argocd"), (0.6, 0.1, 0.3))[0]
        clusters.append(
            Cluster(
                name=name,
                company=companies[zones.index(zone) % len(companies)],
                zone=zone,
                env=env,
                kube=kube,
                engine=engine,
                enabled=enabled,
                disabled=disabled,
                extra_t4=crng.random() < 0.2,
                rng=crng,
            )
        )
    return clusters


def zone_hardware(zone: str) -> str:
    return ZONE_HARDWARE[(int(zone.rsplit("-", 1)[1]) - 1) % len(ZONE_HARDWARE)]


def cluster_pools(cluster: Cluster) -> list[str]:
    pools = [DEFAULT_POOL]
    special = zone_hardware(cluster.zone)
    if special != DEFAULT_POOL:
        pools.append(special)
    if cluster.env == "dev" and DEV_POOL not in pools:
        pools.append(DEV_POOL)
    return pools


# ---------------------------------------------------------------------------------------------
# Layer effects: decided once per (app, layer, value), then written as patches and modelled.


def zone_effect(params: FleetParams, app: App, zone: str) -> Effect | None:
    rng = _rng(params, "zone", app.name, zone)
    hw = zone_hardware(zone)
    if hw in SUITS[app.size] and rng.random() < 0.8:
        # One H100 or one MIG slice replaces the two A100s a large model gets by default.
        return Effect(pool=hw, count=1)
    if rng.random() < 0.35:
        return Effect()  # region settings only
    return None


def env_effect(params: FleetParams, app: App, env: str) -> Effect | None:
    rng = _rng(params, "env", app.name, env)
    if rng.random() < (0.25 if env == "staging" else 0.1):
        return None
    if env == "dev":
        pool = DEV_POOL if app.size == "small" and rng.random() < 0.7 else None
        return Effect(replicas=1, pool=pool, count=1 if pool else None)
    if env == "staging":
        return Effect(replicas=rng.choice((1, 2)))
    return Effect(replicas=rng.randrange(2, 5))


def cluster_effect(params: FleetParams, app: App, cluster: str) -> Effect | None:
    rng = _rng(params, "cluster-layer", app.name, cluster)
    if rng.random() >= params.cluster_share:
        return None
    return Effect(replicas=rng.randrange(1, 4) if rng.random() < 0.3 else None)


def company_has_component(params: FleetParams, app: App, company: str) -> bool:
    return _rng(params, "company", app.name, company).random() < 0.6


# ---------------------------------------------------------------------------------------------
# Manifests.


def _labels(app: App) -> dict[str, str]:
    return {"app": app.name}


def deployment(app: App) -> dict[str, Any]:
    state = base_state(app)
    pool = POOLS[state.pool]
    server = app.server
    ports: list[dict[str, Any]] = [{"name": "http", "containerPort": server.http, "protocol": "TCP"}]
    if server.grpc:
        ports.append({"name": "grpc", "containerPort": server.grpc, "protocol": "TCP"})
    env: list[dict[str, Any]] = [
        {"name": "MODEL_NAME", "value": app.name},
        {"name": "MODEL_CONFIG", "value": "/etc/model/model.yaml"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "LOG_LEVEL",
            "valueFrom": {"configMapKeyRef": {"name": f"{app.name}-config", "key": "LOG_LEVEL"}},
        },
    ]
    gpu = {pool.resource: state.count}
    server_container = {
        "name": "server",
        "image": f"{app.image}:{app.tag}",
        "imagePullPolicy": "IfNotPresent",
        "args": list(server.args),
        "ports": ports,
        "env": env,
        "resources": {
            "requests": {"cpu": "4", "memory": "24Gi", **gpu},
            "limits": {"cpu": "8", "memory": "32Gi", **gpu},
        },
        "readinessProbe": {
            "httpGet": {"path": server.ready, "port": "http"},
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": server.live, "port": "http"},
            "initialDelaySeconds": 60,
            "periodSeconds": 15,
        },
        "startupProbe": {
            "httpGet": {"path": server.ready, "port": "http"},
            "periodSeconds": 10,
            "failureThreshold": 60,
        },
        "volumeMounts": [
            {"name": "model-config", "mountPath": "/etc/model", "readOnly": True},
            {"name": "models", "mountPath": "/models"},
            {"name": "dshm", "mountPath": "/dev/shm"},
        ],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000},
    }
    metrics_image, metrics_tag, metrics_name = app.metrics
    sidecar = {
        "name": "metrics",
        "image": f"{metrics_image}:{metrics_tag}",
        "args": ["--web.listen-address=:9102", f"--job={metrics_name}"],
        "ports": [{"name": "metrics", "containerPort": 9102, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
    }
    pod_spec: dict[str, Any] = {}
    if app.service_account:
        pod_spec["serviceAccountName"] = app.name
    pod_spec.update(
        {
            "terminationGracePeriodSeconds": 60,
            "nodeSelector": dict(pool.selector),
            "tolerations": [{"key": GPU, "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [server_container, sidecar],
            "volumes": [
                {"name": "model-config", "configMap": {"name": f"{app.name}-config"}},
                {"name": "models", "emptyDir": {"sizeLimit": "50Gi"}},
                {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
            ],
        }
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app.name, "labels": _labels(app)},
        "spec": {
            "replicas": state.replicas,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": _labels(app)},
            "template": {
                "metadata": {
                    "labels": _labels(app),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9102"},
                },
                "spec": pod_spec,
            },
        },
    }


def service(app: App) -> dict[str, Any]:
    ports = [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    if app.server.grpc:
        ports.append({"name": "grpc", "port": 9000, "targetPort": "grpc", "protocol": "TCP"})
    ports.append({"name": "metrics", "port": 9102, "targetPort": "metrics", "protocol": "TCP"})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app.name, "labels": _labels(app)},
        "spec": {"type": "ClusterIP", "selector": _labels(app), "ports": ports},
    }


def model_config(app: App) -> str:
    return (
        f"# Serving configuration of {app.name}\n"
        f"model:\n  name: {app.name}\n  backend: {app.server.name}\n  max_batch_size: 16\n"
        f"  dynamic_batching:\n    max_queue_delay_microseconds: 2000\n"
        f"runtime:\n  precision: fp16\n  warmup: true\n"
    )


def base_files(app: App) -> dict[str, str]:
    docs: list[tuple[str, dict[str, Any]]] = [
        ("deployment.yaml", deployment(app)),
        ("service.yaml", service(app)),
    ]
    if not app.cm_generator:
        docs.append(
            (
                "configmap.yaml",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"{app.name}-config", "labels": _labels(app)},
                    "data": {"LOG_LEVEL": "info", "model.yaml": model_config(app)},
                },
            )
        )
    if app.service_account:
        docs.append(
            (
                "serviceaccount.yaml",
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": app.name, "labels": _labels(app)},
                    "automountServiceAccountToken": False,
                },
            )
        )
    if app.hpa:
        docs.append(
            (
                "hpa.yaml",
                {
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": app.name, "labels": _labels(app)},
                    "spec": {
                        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.name},
                        "minReplicas": 1,
                        "maxReplicas": 4,
                        "metrics": [
                            {
                                "type": "Pods",
                                "pods": {
                                    "metric": {"name": "inference_queue_depth"},
                                    "target": {"type": "AverageValue", "averageValue": "10"},
                                },
                            }
                        ],
                    },
                },
            )
        )
    if app.pdb:
        docs.append(
            (
                "pdb.yaml",
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": app.name, "labels": _labels(app)},
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(app)}},
                },
            )
        )
    files: dict[str, str] = {}
    if app.single_file:
        files["manifests.yaml"] = dump_all(doc for _, doc in docs)
        resources = ["manifests.yaml"]
    else:
        for fname, doc in docs:
            files[fname] = dump(doc)
        resources = [fname for fname, _ in docs]
    label_set: dict[str, Any] = {
        "pairs": {"app.kubernetes.io/name": app.name, "app.kubernetes.io/part-of": "ml-inference"}
    }
    if app.template_labels:
        label_set["includeTemplates"] = True
    kust: dict[str, Any] = {
        **KUSTOMIZATION,
        "namespace": app.namespace,
        "labels": [label_set],
        "resources": resources,
    }
    if app.cm_generator:
        files["model.yaml"] = model_config(app)
        kust["configMapGenerator"] = [
            {"name": f"{app.name}-config", "files": ["model.yaml"], "literals": ["LOG_LEVEL=info"]}
        ]
    files["kustomization.yaml"] = f"# Upstream manifests of {app.name}, as shipped.\n" + dump(kust)
    return files


def _deployment_patch(
    app: App, spec: dict[str, Any], container: dict[str, Any] | None = None
) -> dict[str, Any]:
    template_spec = dict(spec)
    if container:
        template_spec["containers"] = [{"name": "server", **container}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app.name},
        "spec": {"template": {"spec": template_spec}},
    }


def _gpu_fields(pool_name: str, count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """nodeSelector and limits that move a workload onto POOL whatever pool it was on before."""
    pool = POOLS[pool_name]
    selector = {k: pool.selector.get(k) for k in SELECTOR_KEYS}
    limits = {r: (count if r == pool.resource else None) for r in GPU_RESOURCES}
    return selector, limits


def _gpu_smp(app: App, effect: Effect, extra_env: list[dict[str, Any]]) -> dict[str, Any]:
    """A strategic-merge patch: nulls delete the other pools' selector keys and resources."""
    spec: dict[str, Any] = {}
    container: dict[str, Any] = {}
    if extra_env:
        container["env"] = extra_env
    if effect.pool:
        selector, limits = _gpu_fields(effect.pool, effect.count or 1)
        spec["nodeSelector"] = selector
        container["resources"] = {"limits": limits, "requests": dict(limits)}
    return _deployment_patch(app, spec, container or None)


def _gpu_json6902(app: App, before: State, effect: Effect, region: str) -> str:
    """The same move as a JSON 6902 patch; valid because the zone layer always starts from the base."""
    ops: list[dict[str, Any]] = []
    container = "/spec/template/spec/containers/0"
    if effect.pool:
        old, new = POOLS[before.pool], POOLS[effect.pool]
        for key in SELECTOR_KEYS:
            path = "/spec/template/spec/nodeSelector/" + key.replace("/", "~1")
            if key in new.selector:
                ops.append({"op": "add", "path": path, "value": new.selector[key]})
            elif key in old.selector:
                ops.append({"op": "remove", "path": path})
        for section in ("limits", "requests"):
            base_path = f"{container}/resources/{section}/"
            if old.resource != new.resource:
                ops.append({"op": "remove", "path": base_path + old.resource.replace("/", "~1")})
            ops.append(
                {"op": "add", "path": base_path + new.resource.replace("/", "~1"), "value": effect.count or 1}
            )
    ops.append({"op": "add", "path": f"{container}/env/-", "value": {"name": "REGION", "value": region}})
    return dump(ops)


def company_component(app: App, company: str, kind: dict[str, str]) -> dict[str, str]:
    metrics_image, _, metrics_name = app.metrics
    kust: dict[str, Any] = {**kind}
    if kind is KUSTOMIZATION:
        kust["resources"] = ["../base"]
    kust["labels"] = [{"pairs": {"example.com/company": company}}]
    kust["commonAnnotations"] = {
        "example.com/owner": f"{company}-ml-platform",
        "example.com/oncall": f"{company}-ml-oncall",
    }
    # Each company pulls third-party images through its own mirror.
    kust["images"] = [
        {"name": metrics_image, "newName": f"registry.{company}.internal/mirror/{metrics_name}"}
    ]
    return {"kustomization.yaml": dump(kust)}


def zone_component(params: FleetParams, app: App, zone: str, effect: Effect) -> dict[str, str]:
    rng = _rng(params, "zone-style", app.name, zone)
    kust: dict[str, Any] = {**COMPONENT}
    files: dict[str, str] = {}
    region_env = [{"name": "REGION", "value": zone}]
    if rng.random() < 0.25:
        kust["patches"] = [
            {
                "target": {"group": "apps", "version": "v1", "kind": "Deployment", "name": app.name},
                "patch": _gpu_json6902(app, base_state(app), effect, zone),
            }
        ]
    else:
        files["deployment-patch.yaml"] = dump(_gpu_smp(app, effect, region_env))
        kust["patches"] = [{"path": "deployment-patch.yaml"}]
    files["kustomization.yaml"] = dump(kust)
    return files


def env_tag(app: App, env: str) -> str:
    major, minor, patch = app.tag[1:].split(".")
    if env == "dev":
        return f"v{major}.{int(minor) + 1}.0-rc.{int(patch) % 4 + 1}"
    if env == "staging":
        return f"v{major}.{minor}.{int(patch) + 1}"
    return app.tag


def env_component(params: FleetParams, app: App, env: str, effect: Effect) -> dict[str, str]:
    rng = _rng(params, "env-style", app.name, env)
    kust: dict[str, Any] = {**COMPONENT}
    files: dict[str, str] = {}
    patches: list[dict[str, Any]] = []
    env_vars = [{"name": "DEPLOY_ENV", "value": env}]
    replicas_in_patch = rng.random() < 0.5
    patch = _gpu_smp(app, effect, env_vars)
    if replicas_in_patch and effect.replicas is not None:
        patch["spec"] = {"replicas": effect.replicas, **patch["spec"]}
    files["deployment-patch.yaml"] = dump(patch)
    patches.append({"path": "deployment-patch.yaml"})
    if app.hpa and env == "prod":
        hpa = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": app.name},
            "spec": {"minReplicas": effect.replicas or 2, "maxReplicas": (effect.replicas or 2) * 3},
        }
        files["hpa-patch.yaml"] = dump(hpa)
        patches.append({"path": "hpa-patch.yaml"})
    if app.pdb and env == "dev":
        patches.append(
            {
                "target": {"kind": "PodDisruptionBudget", "name": app.name},
                "patch": dump([{"op": "replace", "path": "/spec/maxUnavailable", "value": "100%"}]),
            }
        )
    kust["patches"] = patches
    if not replicas_in_patch and effect.replicas is not None:
        kust["replicas"] = [{"name": app.name, "count": effect.replicas}]
    kust["images"] = [{"name": app.image, "newTag": env_tag(app, env)}]
    if app.cm_generator:
        level = {"dev": "debug", "staging": "info", "prod": "warning"}[env]
        kust["configMapGenerator"] = [
            {"name": f"{app.name}-config", "behavior": "merge", "literals": [f"LOG_LEVEL={level}"]}
        ]
    files["kustomization.yaml"] = dump(kust)
    return files


def cluster_component(app: App, cluster: str, effect: Effect) -> dict[str, str]:
    kust: dict[str, Any] = {**COMPONENT, "labels": [{"pairs": {"fleet.example.com/cluster": cluster}}]}
    patch = _deployment_patch(app, {}, {"env": [{"name": "CLUSTER_NAME", "value": cluster}]})
    if effect.replicas is not None:
        patch["spec"] = {"replicas": effect.replicas, **patch["spec"]}
    kust["patches"] = [{"path": "deployment-patch.yaml"}]
    return {"kustomization.yaml": dump(kust), "deployment-patch.yaml": dump(patch)}


def chain_overlay(
    params: FleetParams, app: App, company: str, zone: str, env: str
) -> tuple[dict[str, str], State]:
    """apps/<app>/<zone>-<env>/: the original design's chain, `../<company>` then `../base`."""
    state = base_state(app)
    z, e = zone_effect(params, app, zone) or Effect(), env_effect(params, app, env) or Effect()
    final = state.apply(z).apply(e)
    patch = _deployment_patch(
        app, {}, {"env": [{"name": "REGION", "value": zone}, {"name": "DEPLOY_ENV", "value": env}]}
    )
    patch["spec"] = {"replicas": final.replicas, **patch["spec"]}
    if final.pool != state.pool or final.count != state.count:
        selector, limits = _gpu_fields(final.pool, final.count)
        tspec = patch["spec"]["template"]["spec"]
        tspec["nodeSelector"] = selector
        tspec["containers"][0]["resources"] = {"limits": limits, "requests": dict(limits)}
    kust: dict[str, Any] = {**KUSTOMIZATION, "resources": [f"../{company}"]}
    # Older overlays still use the deprecated field; kustomize accepts both.
    if _rng(params, "chain-style", app.name, zone, env).random() < 0.5:
        kust["patchesStrategicMerge"] = ["deployment-patch.yaml"]
    else:
        kust["patches"] = [{"path": "deployment-patch.yaml"}]
    kust["images"] = [{"name": app.image, "newTag": env_tag(app, env)}]
    files = {"kustomization.yaml": dump(kust), "deployment-patch.yaml": dump(patch)}
    return files, final


# ---------------------------------------------------------------------------------------------
# Inventory.


def peak_pods(app: App, state: State, env: Effect | None) -> int:
    """Pods at the worst moment validate's rollout check judges: the HPA's maximum (base 4; prod's patch
    sets three times its replicas) or the replicas, plus the rolling update's surge of one pod."""
    steady = state.replicas
    if app.hpa:
        steady = max(steady, 4, 3 * ((env.replicas if env else None) or 2))
    return steady + 1


def cluster_yaml(cluster: Cluster, apps: dict[str, App], demand: dict[str, int]) -> str:
    rng = cluster.rng
    pools: list[dict[str, Any]] = []
    for name in cluster_pools(cluster):
        kind = POOLS[name]
        need = math.ceil(demand.get(name, 0) * 1.1 / kind.per_node)
        nodes = max(2 if name == DEFAULT_POOL else 1, need) + rng.randrange(0, 2)
        pool: dict[str, Any] = {
            "name": f"gpu-{name}",
            "nodes": nodes,
            "gpu": {"product": kind.product, "count": kind.gpus},
        }
        if kind.mig:
            pool["mig"] = dict(kind.mig)
        elif rng.random() < 0.3:
            pool["mig"] = {"strategy": "none"}
        pool["labels"] = {POOL_LABEL: name, "node.kubernetes.io/instance-type": kind.instance_type}
        pools.append(pool)
    if cluster.extra_t4:
        pools.append(
            {
                "name": "gpu-t4-shared",
                "nodes": rng.randrange(2, 6),
                "gpu": {"product": "Tesla-T4", "count": 4},
                "sharing": {"replicas": 4},
                "labels": {POOL_LABEL: "t4-shared", "node.kubernetes.io/instance-type": "g4dn.12xlarge"},
            }
        )
    pools.append(
        {
            "name": "cpu",
            "nodes": rng.randrange(3, 9),
            "labels": {"pool": "cpu", "node.kubernetes.io/instance-type": "m6i.4xlarge"},
        }
    )
    app_entries: list[Any] = []
    entries = [(n, True) for n in cluster.enabled] + [(n, False) for n in cluster.disabled]
    for name, enabled in sorted(entries):
        entry: dict[str, Any] = {"name": name}
        if apps[name].chain:
            entry["overlay"] = f"{cluster.zone}-{cluster.env}"
        if not enabled:
            entry["enabled"] = False
        app_entries.append(entry if len(entry) > 1 else name)
    spec: dict[str, Any] = {"layers": {"company": cluster.company, "zone": cluster.zone, "env": cluster.env}}
    if cluster.kube:
        spec["kubernetesVersion"] = cluster.kube
    if cluster.engine:
        spec["gitops"] = {"engine": cluster.engine}
    spec["nodePools"] = pools
    spec["apps"] = app_entries
    doc = {
        "apiVersion": "gitops-gen/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": cluster.name},
        "spec": spec,
    }
    return f"# Inventory of {cluster.name} ({cluster.company}, {cluster.zone}, {cluster.env}).\n" + dump(doc)


def config_yaml() -> str:
    doc = {
        "apiVersion": "gitops-gen/v1alpha1",
        "kind": "Config",
        "layers": ["company", "zone", "env"],
        "kubernetesVersion": DEFAULT_KUBE,
        "gitops": {"engine": "flux", "repoURL": REPO_URL, "branch": "main"},
    }
    return "# Synthetic GPU fleet written by bench/fleetgen.py.\n" + dump(doc)


def build_fleet(params: FleetParams) -> dict[str, str]:
    """Every hand-written file of the fleet, repo-relative POSIX path -> text."""
    apps = make_apps(params)
    by_name = {a.name: a for a in apps}
    clusters = make_clusters(params, apps)
    fleet = Fleet()
    fleet.add("gitops-gen.yaml", config_yaml())

    def add_dir(prefix: str, files: dict[str, str]) -> None:
        for fname, text in files.items():
            fleet.add(f"{prefix}/{fname}", text)

    for app in apps:
        add_dir(f"apps/{app.name}/base", base_files(app))

    # Components exist only for layer values some cluster actually runs the app with.
    zone_fx: dict[tuple[str, str], Effect | None] = {}
    env_fx: dict[tuple[str, str], Effect | None] = {}
    companies_done: set[tuple[str, str]] = set()
    chains_done: set[tuple[str, str]] = set()
    demand: dict[str, dict[str, int]] = {}
    for cluster in clusters:
        need = demand.setdefault(cluster.name, {})
        for name in cluster.enabled + cluster.disabled:
            app = by_name[name]
            enabled = name in cluster.enabled
            if app.chain:
                if (app.name, cluster.company) not in companies_done:
                    companies_done.add((app.name, cluster.company))
                    add_dir(
                        f"apps/{app.name}/{cluster.company}",
                        company_component(app, cluster.company, KUSTOMIZATION),
                    )
                files, state = chain_overlay(params, app, cluster.company, cluster.zone, cluster.env)
                overlay = f"{cluster.zone}-{cluster.env}"
                if (app.name, overlay) not in chains_done:
                    chains_done.add((app.name, overlay))
                    add_dir(f"apps/{app.name}/{overlay}", files)
            else:
                if not enabled:
                    continue
                key = (app.name, cluster.company)
                if key not in companies_done:
                    companies_done.add(key)
                    if company_has_component(params, app, cluster.company):
                        add_dir(
                            f"apps/{app.name}/company/{cluster.company}",
                            company_component(app, cluster.company, COMPONENT),
                        )
                zkey, ekey = (app.name, cluster.zone), (app.name, cluster.env)
                if zkey not in zone_fx:
                    zfx = zone_fx[zkey] = zone_effect(params, app, cluster.zone)
                    if zfx is not None:
                        add_dir(
                            f"apps/{app.name}/zone/{cluster.zone}",
                            zone_component(params, app, cluster.zone, zfx),
                        )
                if ekey not in env_fx:
                    efx = env_fx[ekey] = env_effect(params, app, cluster.env)
                    if efx is not None:
                        add_dir(
                            f"apps/{app.name}/env/{cluster.env}", env_component(params, app, cluster.env, efx)
                        )
                cfx = cluster_effect(params, app, cluster.name)
                if cfx is not None:
                    add_dir(
                        f"apps/{app.name}/cluster/{cluster.name}", cluster_component(app, cluster.name, cfx)
                    )
                state = base_state(app).apply(zone_fx[zkey]).apply(env_fx[ekey]).apply(cfx)
            if enabled:
                need[state.pool] = (
                    need.get(state.pool, 0)
                    + peak_pods(app, state, env_fx.get((app.name, cluster.env))) * state.count
                )

    for cluster in clusters:
        fleet.add(
            f"clusters/{cluster.name}/cluster.yaml", cluster_yaml(cluster, by_name, demand[cluster.name])
        )
    return dict(sorted(fleet.files.items()))


def write_fleet(files: dict[str, str], out: Path) -> None:
    made: set[str] = set()
    for rel, text in files.items():
        parent = os.path.dirname(rel)
        if parent not in made:
            (out / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        with open(out / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="directory to write the fleet into (must be empty or absent)")
    parser.add_argument("--clusters", type=int, default=FleetParams.clusters)
    parser.add_argument("--apps", type=int, default=FleetParams.apps)
    parser.add_argument("--apps-per-cluster", type=int, default=FleetParams.apps_per_cluster)
    parser.add_argument("--seed", type=int, default=FleetParams.seed)
    parser.add_argument("--companies", type=int, default=FleetParams.companies)
    parser.add_argument("--zones", type=int, default=FleetParams.zones)
    parser.add_argument("--cluster-share", type=float, default=FleetParams.cluster_share,
                        help="share of (cluster, app) pairs with a cluster-layer component")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    if args.clusters < 1 or args.apps < 1 or args.apps_per_cluster < 1:
        parser.error("--clusters, --apps and --apps-per-cluster must be at least 1")
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        if not args.force:
            parser.error(f"{out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    params = FleetParams(
        clusters=args.clusters,
        apps=args.apps,
        apps_per_cluster=args.apps_per_cluster,
        seed=args.seed,
        companies=args.companies,
        zones=args.zones,
        cluster_share=args.cluster_share,
    )
    files = build_fleet(params)
    out.mkdir(parents=True, exist_ok=True)
    write_fleet(files, out)
    size = sum(len(t.encode()) for t in files.values())
    print(
        f"fleetgen: wrote {len(files)} files ({size / 1e6:.2f} MB) for {args.clusters} clusters x {args.apps} apps into {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
