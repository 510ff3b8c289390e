"""The version matrix reads workloads through kube's walker: the same kinds, pods and containers as validate."""

from __future__ import annotations

from typing import Any

import yaml

from gitops_gen.fleetview.matrix import workload

OBJECTS = """
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  parallelism: 4
  completions: 2                    # caps the pods at once, as validate counts them
  template:
    spec:
      initContainers: [{name: fetch, image: fetch:1}]
      containers:
      - {name: run, image: run:2, resources: {limits: {nvidia.com/gpu: 1}}}
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray}
spec:
  headGroupSpec:
    template:
      spec:
        containers: [{name: head, image: "ray:2.9"}]
  workerGroupSpecs:
  - groupName: gpu
    replicas: 3
    numOfHosts: 2
    template:
      spec:
        containers:
        - {name: worker, image: "ray:2.9-gpu", resources: {limits: {nvidia.com/gpu: 4}}}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llm}
spec:
  predictor:
    minReplicas: 2
    model:
      modelFormat: {name: huggingface}
      image: kserve/huggingfaceserver:v0.14.1
      resources: {limits: {nvidia.com/mig-3g.20gb: 1}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter}
spec:
  template:
    spec:
      containers: [{name: dcgm, image: "dcgm-exporter:3.3"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-workload}
"""


def _row(obj: dict[str, Any]) -> Any:
    found = workload(obj)
    if found is None:
        return None
    return (found.kind, found.replicas, [(c.name, c.tag) for c in found.containers], dict(found.gpu))


def test_workloads_of_builtin_and_custom_kinds() -> None:
    rows = [_row(o) for o in yaml.safe_load_all(OBJECTS)]
    assert rows == [
        ("Job", 2, [("fetch", "1"), ("run", "2")], {"nvidia.com/gpu": 1}),
        ("RayCluster", 6, [("head", "2.9"), ("worker", "2.9-gpu")], {"nvidia.com/gpu": 4}),
        ("InferenceService", 2, [("model", "v0.14.1")], {"nvidia.com/mig-3g.20gb": 1}),
        ("DaemonSet", None, [("dcgm", "3.3")], {}),
        None,
    ]
