"""Name-reference fix-up: kubectl-produced cases (nameref_*) plus focused rules on hand-built resources.

The prefix_*/namespace_* cases of test_transformers also end with the fix-up, as a build does.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.builtins.nameref import fix_name_references
from gitops_gen.kustomize.builtins.transformers import apply_name_affix, apply_namespace
from gitops_gen.kustomize.resource import Origin, Resource
from tests.kustomize.builtins.test_transformers import CASES, run_case


@pytest.mark.parametrize("name", [c for c in CASES if c.startswith("nameref_")])
def test_case(name: str) -> None:
    run_case(name)


def res(kind: str, name: str, namespace: str = "", api_version: str = "v1", **fields: Any) -> Resource:
    md = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Resource(
        {"apiVersion": api_version, "kind": kind, "metadata": md, **fields}, Origin("t", "resource")
    )


def deployment(name: str, config: str, namespace: str = "") -> Resource:
    spec = {
        "template": {"spec": {"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": config}}]}]}}
    }
    return res("Deployment", name, namespace, "apps/v1", spec=spec)


def env_from(dep: Resource) -> str:
    name = dep.obj["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    assert isinstance(name, str)
    return name


def rename(r: Resource, new: str) -> None:
    """A rename that is not a prefix/suffix (as a generator hash suffix is)."""
    r.store_previous_id()
    r.obj["metadata"]["name"] = new


def test_only_previous_names_match() -> None:
    # A referral never renamed has no previous id: kustomize leaves the reference alone.
    cm, dep = res("ConfigMap", "cfg"), deployment("d", "cfg")
    fix_name_references([cm, dep])
    assert env_from(dep) == "cfg"
    rename(cm, "cfg-h4sh")
    fix_name_references([cm, dep])
    assert env_from(dep) == "cfg-h4sh"


def test_differently_named_candidates_are_ambiguous() -> None:
    a, b, dep = res("ConfigMap", "cfg"), res("ConfigMap", "cfg", "other"), deployment("d", "cfg")
    rename(a, "cfg-1")
    rename(b, "cfg-2")
    # Different namespaces: only the one in the referrer's namespace is visible.
    fix_name_references([a, b, dep])
    assert env_from(dep) == "cfg-1"
    b.obj["metadata"]["namespace"] = "default"
    with pytest.raises(GitopsGenError, match="found multiple possible referrals"):
        fix_name_references([a, b, deployment("d", "cfg")])


def test_same_named_candidates_take_the_first() -> None:
    a, b = res("ConfigMap", "cfg"), res("ConfigMap", "cfg", "x")
    role = res(
        "ClusterRole",
        "r",
        api_version="rbac.authorization.k8s.io/v1",
        rules=[{"resourceNames": ["cfg", "other"], "verbs": ["get"]}],
    )
    apply_name_affix([a, b], prefix="p-")
    # Two candidates and a referrer without their prefix: the strict affix check drops both.
    fix_name_references([a, b, role])
    assert role.obj["rules"][0]["resourceNames"] == ["cfg", "other"]
    apply_name_affix([a, b, role], prefix="q-")
    fix_name_references([a, b, role])
    assert role.obj["rules"][0]["resourceNames"] == ["q-p-cfg", "other"]


def test_prefix_history_breaks_ties() -> None:
    a, b = res("ConfigMap", "cfg"), res("ConfigMap", "cfg")
    da, db = deployment("d", "cfg"), deployment("e", "cfg")
    apply_name_affix([a, da], prefix="a-")
    apply_name_affix([b, db], prefix="b-")
    apply_name_affix([a, b, da, db], prefix="top-")
    fix_name_references([a, b, da, db])
    assert (env_from(da), env_from(db)) == ("top-a-cfg", "top-b-cfg")


def test_role_ref_kind_is_respected() -> None:
    group = "rbac.authorization.k8s.io/v1"
    role, crole = res("Role", "reader", api_version=group), res("ClusterRole", "reader", api_version=group)
    rb = res(
        "RoleBinding",
        "rb",
        api_version=group,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
    )
    apply_name_affix([role], prefix="ns-")
    apply_name_affix([crole], prefix="cluster-")
    fix_name_references([role, crole, rb])
    assert rb.obj["roleRef"]["name"] == "cluster-reader"


def test_subject_maps_get_name_and_namespace() -> None:
    sa = res("ServiceAccount", "triton")
    crb = res(
        "ClusterRoleBinding",
        "crb",
        api_version="rbac.authorization.k8s.io/v1",
        subjects=[
            {"kind": "ServiceAccount", "name": "triton", "namespace": "default"},
            {"kind": "ServiceAccount", "name": "triton", "namespace": ""},
            {"kind": "ServiceAccount", "name": "triton"},
        ],
    )
    apply_namespace([sa], "serving")
    fix_name_references([sa, crb])
    # "default" finds it by its original namespace; "" matches no namespace; no namespace: any.
    assert crb.obj["subjects"] == [
        {"kind": "ServiceAccount", "name": "triton", "namespace": "serving"},
        {"kind": "ServiceAccount", "name": "triton", "namespace": ""},
        {"kind": "ServiceAccount", "name": "triton", "namespace": "serving"},
    ]


def test_map_without_name_is_an_error() -> None:
    svc = res("Service", "hook")
    hook = res(
        "ValidatingWebhookConfiguration",
        "v",
        api_version="admissionregistration.k8s.io/v1",
        webhooks=[{"name": "w", "clientConfig": {"service": {"namespace": "default"}}}],
    )
    apply_name_affix([svc], prefix="p-")
    with pytest.raises(GitopsGenError, match="no 'name' field"):
        fix_name_references([svc, hook])
