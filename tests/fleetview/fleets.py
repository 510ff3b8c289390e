"""Small fleets written into a temporary directory for the fleet-view tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops_gen.fleet.generate import apply_plan, plan
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo.tree import DiskTree

CONFIG = {
    "apiVersion": "gitops-gen/v1alpha1",
    "kind": "Config",
    "layers": ["env"],
    "kubernetesVersion": "1.30",
    "gitops": {"engine": "flux"},
}


def deployment(
    name: str,
    replicas: int,
    limits: dict[str, Any] | None = None,
    kind: str = "Deployment",
    selector: dict[str, str] | None = None,
    strategy: dict[str, Any] | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "containers": [
            {"name": "main", "image": image or f"{name}:1.0", "resources": {"limits": limits or {}}}
        ]
    }
    if selector:
        pod["nodeSelector"] = selector
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
    }
    if kind != "DaemonSet":
        spec["replicas"] = replicas
    if strategy is not None:
        spec["updateStrategy" if kind == "DaemonSet" else "strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def write_fleet(
    root: Path,
    clusters: dict[str, tuple[str, list[dict[str, Any]], list[Any]]],
    apps: dict[str, list[dict[str, Any]]],
    cluster_vars: dict[str, dict[str, str]] | None = None,
) -> Path:
    """CLUSTERS: name -> (env, nodePools, spec.apps); APPS: name -> base objects; CLUSTER_VARS: spec.vars per
    cluster. Generated files written."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "gitops-gen.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    for name, (env, pools, entries) in clusters.items():
        doc = {
            "apiVersion": "gitops-gen/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": name},
            "spec": {"layers": {"env": env}, "nodePools": pools, "apps": entries},
        }
        if cluster_vars and name in cluster_vars:
            doc["spec"]["vars"] = cluster_vars[name]
        (root / "clusters" / name).mkdir(parents=True)
        (root / "clusters" / name / "cluster.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    for name, objects in apps.items():
        base = root / "apps" / name / "base"
        base.mkdir(parents=True)
        files = []
        for i, obj in enumerate(objects):
            files.append(f"o{i}.yaml")
            (base / f"o{i}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
        kust = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": files}
        (base / "kustomization.yaml").write_text(yaml.safe_dump(kust, sort_keys=False))
    tree = DiskTree(root)
    apply_plan(root, plan(tree, load_fleet(tree)))
    return root
