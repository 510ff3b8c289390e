"""Kubernetes object schemas per version (kubernetes-validate's strict schemas) and our sync.yaml schemas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.checks import k8sschema
from gitops_gen.checks.k8sschema import ObjectValidator, resolve_version, schema_file
from gitops_gen.fleet.generate import render_sync
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import DiskTree

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "1Gi"}},
                    }
                ]
            },
        },
    },
}


def deployment(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(DEPLOYMENT)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    for key, value in changes.items():
        if key == "replicas":
            obj["spec"]["replicas"] = value
        else:
            container[key] = value
    return obj


def test_shipped_versions_are_the_installed_strict_schema_dirs() -> None:
    shipped = k8sschema.shipped_versions()
    assert (1, 30) in shipped and shipped == tuple(sorted(shipped))


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("apps/v1", "Deployment", "deployment-apps-v1.json"),
        ("v1", "Service", "service-v1.json"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterrole-rbac-v1.json"),
        ("networking.k8s.io/v1", "Ingress", "ingress-networking-v1.json"),
        ("batch/v1", "CronJob", "cronjob-batch-v1.json"),
        ("apps.example.com/v1", "Deployment", None),  # a custom resource that reuses a kind name
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization", None),
        ("", "Deployment", None),
    ],
)
def test_schema_file(api_version: str, kind: str, expected: str | None) -> None:
    assert schema_file(api_version, kind) == expected


def test_resolve_version_exact_below_above_and_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    low, high = k8sschema.shipped_versions()[0], k8sschema.shipped_versions()[-1]
    assert resolve_version("1.30") == ("1.30", None)
    below, note = resolve_version("1.19")
    assert below == f"{low[0]}.{low[1]}" and note is not None and "older" in note
    above, note = resolve_version(f"1.{high[1] + 5}")
    assert above == f"{high[0]}.{high[1]}" and note is not None and "newer" in note
    assert resolve_version("banana")[0] is None
    monkeypatch.setattr(k8sschema, "shipped_versions", lambda: ((1, 28), (1, 30)))
    version, note = resolve_version("1.29")
    assert version == "1.28" and note is not None and "1.28" in note


def test_valid_object_has_no_errors() -> None:
    assert ObjectValidator().errors("1.30", deployment()) == []


@pytest.mark.parametrize(
    ("obj", "path", "fragment"),
    [
        (deployment(replicas="two"), ("spec", "replicas"), "spec.replicas: expected integer"),
        (
            deployment(imagePullPolicy=3),
            ("spec", "template", "spec", "containers", 0, "imagePullPolicy"),
            "expected string",
        ),
        (deployment(colour="red"), ("spec", "template", "spec", "containers", 0, "colour"), "unknown field"),
        (
            deployment(resources={"limits": {"memory": ["1Gi"]}}),
            ("spec", "template", "spec", "containers", 0, "resources", "limits", "memory"),
            "expected string or number",
        ),
    ],
)
def test_errors_name_the_field(obj: dict[str, Any], path: tuple[Any, ...], fragment: str) -> None:
    errors = ObjectValidator().errors("1.30", obj)
    assert [e.path for e in errors] == [path]
    assert fragment in errors[0].message


def test_a_field_exists_only_in_newer_versions() -> None:
    obj = deployment(resizePolicy=[{"resourceName": "cpu", "restartPolicy": "NotRequired"}])
    checker = ObjectValidator()
    assert checker.errors("1.30", obj) == []
    assert [e.message for e in checker.errors("1.25", obj)] == [
        "spec.template.spec.containers[0].resizePolicy: unknown field"
    ]


def test_each_distinct_object_is_validated_once_per_version() -> None:
    checker = ObjectValidator()
    for _ in range(3):
        checker.errors("1.30", deployment())
        checker.errors("1.30", deployment(replicas=5))
    checker.errors("1.31", deployment())
    assert checker.validated == 3


def test_custom_resources_without_schema_are_skipped() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": [1]}}
    assert ObjectValidator().errors("1.30", cr) == []


FLUX: dict[str, Any] = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "c1", "namespace": "flux-system"},
    "spec": {
        "interval": "10m",
        "path": "./mapping/c1",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    },
}
ARGO: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "c1", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "destination": {"name": "c1"},
        "source": {
            "repoURL": "https://git.example.com/fleet.git",
            "targetRevision": "main",
            "path": "mapping/c1",
        },
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
    },
}


def test_sync_objects_use_our_own_schemas() -> None:
    checker = ObjectValidator()
    # Checked whatever the Kubernetes version, also without one (sync.yaml).
    assert checker.errors(None, FLUX) == [] and checker.errors("1.30", ARGO) == []
    bad = copy.deepcopy(FLUX)
    bad["spec"]["interval"] = "ten minutes"
    del bad["spec"]["prune"]
    bad["spec"]["sourceRef"]["kind"] = "HelmRepository"
    messages = sorted(e.message for e in checker.errors(None, bad))
    assert len(messages) == 3
    assert messages[0].startswith("spec.interval: ") and "spec.prune: missing required field" in messages
    assert any(m.startswith("spec.sourceRef.kind: must be one of") for m in messages)
    worse = copy.deepcopy(ARGO)
    worse["spec"]["destination"] = {"cluster": "c1"}
    assert [e.path for e in checker.errors(None, worse)] == [
        ("spec", "destination"),
        ("spec", "destination", "cluster"),
    ]


def test_generated_sync_files_validate() -> None:
    tree = DiskTree(Path(__file__).parents[1] / "data" / "validate" / "base-fleet")
    fleet = load_fleet(tree)
    engines = set()
    checker = ObjectValidator()
    for cluster in fleet.clusters.values():
        doc = yamlio.load_documents(render_sync(fleet.config, cluster), "sync.yaml")[0]
        engines.add(doc["kind"])
        assert checker.errors(None, doc) == []
    assert engines == {"Kustomization", "Application"}


def test_sub_objects_known_valid_are_not_walked_again_and_errors_stay_exact() -> None:
    """The $ref memo only skips sub-objects that validated cleanly before: an error in a shared
    container must still be found, with the same message as a validator that never saw it valid."""
    warm = ObjectValidator()
    good = deployment()
    assert warm.errors("1.30", good) == []
    bad = deployment(imagePullPolicy=7, replicas=3)  # the container now differs: walked again
    relabelled = copy.deepcopy(good)
    relabelled["metadata"]["labels"]["tier"] = "gpu"  # the whole object differs, the pod spec does not
    assert warm.errors("1.30", relabelled) == []
    fresh = ObjectValidator()
    k8sschema._VALID.clear()
    expected = fresh.errors("1.30", bad)
    assert expected and any("imagePullPolicy" in e.message for e in expected)
    assert warm.errors("1.30", good) == []
    assert ObjectValidator().errors("1.30", bad) == expected
