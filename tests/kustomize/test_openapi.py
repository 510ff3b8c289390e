"""The list-merge table: it must match the kubernetes-validate schemas it is built from."""

from __future__ import annotations

import json

import pytest

from gitops_gen.kustomize import openapi
from gitops_gen.kustomize.openapi import (
    GVK_ALIASES,
    KUSTOMIZE_MISSING_FIELDS,
    Node,
    build_table,
    load_definitions,
    patch_meta,
)


def pod_spec(api_version: str = "apps/v1", kind: str = "Deployment") -> Node:
    node = patch_meta(api_version, kind)
    for name in ("spec", "template", "spec"):
        assert node is not None
        node = node.field(name)
    assert node is not None
    return node


def list_meta(node: Node | None, *path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    for step in path:
        assert node is not None, step
        node = node.items() if step == "[]" else node.field(step)
    assert node is not None
    return node.strategy, node.merge_keys


def test_committed_table_matches_schemas() -> None:
    committed = json.loads(openapi.TABLE_PATH.read_text(encoding="utf-8"))
    assert committed == build_table(load_definitions())
    assert committed["schemaVersion"] == openapi.SCHEMA_VERSION


@pytest.mark.parametrize(
    ("path", "strategy", "keys"),
    [
        (("containers",), ("merge",), ("name",)),
        (("initContainers",), ("merge",), ("name",)),
        (("containers", "[]", "env"), ("merge",), ("name",)),
        (("containers", "[]", "ports"), ("merge",), ("containerPort", "protocol")),
        (("containers", "[]", "volumeMounts"), ("merge",), ("mountPath",)),
        (("volumes",), ("merge", "retainKeys"), ("name",)),
        (("imagePullSecrets",), ("merge",), ("name",)),
        (("topologySpreadConstraints",), ("merge",), ("topologyKey", "whenUnsatisfiable")),
        (("tolerations",), (), ()),
        (("containers", "[]", "args"), (), ()),
        (("containers", "[]", "envFrom"), (), ()),
        # Newer than kustomize's built-in v1.21.2 schema, yet present in v1.25.
        (("ephemeralContainers", "[]", "ports"), (), ()),
    ],
)
def test_pod_spec_lists(path: tuple[str, ...], strategy: tuple[str, ...], keys: tuple[str, ...]) -> None:
    assert list_meta(pod_spec(), *path) == (strategy, keys)


def test_metadata_finalizers_are_a_primitive_merge_list() -> None:
    meta = patch_meta("v1", "ConfigMap")
    assert list_meta(meta, "metadata", "finalizers") == (("merge",), ())
    assert meta is not None and meta.field("metadata") is not None


def test_map_values_share_one_schema() -> None:
    limits = list_meta(pod_spec(), "containers", "[]", "resources")
    assert limits == ((), ())
    resources = pod_spec().field("containers")
    assert resources is not None
    node = resources.items()
    assert node is not None
    node = node.field("resources")
    assert node is not None
    node = node.field("limits")
    assert node is not None and node.field("nvidia.com/gpu") is not None
    assert node.field("nvidia.com/mig-1g.5gb") is not None


def test_unknown_kinds_and_fields_have_no_schema() -> None:
    assert patch_meta("serving.kserve.io/v1beta1", "InferenceService") is None
    assert patch_meta("apps/v1", "NoSuchKind") is None
    assert pod_spec().field("noSuchField") is None
    assert pod_spec().items() is None


def test_service_ports_use_port_and_protocol() -> None:
    assert list_meta(patch_meta("v1", "Service"), "spec", "ports") == (("merge",), ("port", "protocol"))


def test_cronjob_paths() -> None:
    cron = patch_meta("batch/v1", "CronJob")
    assert list_meta(cron, "spec", "jobTemplate", "spec", "template", "spec", "containers") == (
        ("merge",),
        ("name",),
    )


def test_aliases_point_at_known_kinds_only_for_removed_versions() -> None:
    table = json.loads(openapi.TABLE_PATH.read_text(encoding="utf-8"))
    for (api_version, kind), target in GVK_ALIASES.items():
        assert f"{api_version}/{kind}" not in table["gvk"], (api_version, kind)
        assert f"{target}/{kind}" in table["gvk"], (target, kind)
        assert patch_meta(api_version, kind) is not None


def test_excluded_fields_really_have_a_merge_strategy_in_the_schema() -> None:
    definitions = load_definitions()
    for owner, field in KUSTOMIZE_MISSING_FIELDS:
        assert "merge" in definitions[owner]["properties"][field]["x-kubernetes-patch-strategy"]
