"""Every namespaced object must land in a namespace (rule ``namespace-missing``).

kustomize-controller refuses a namespaced object without ``metadata.namespace`` unless the
Flux Kustomization sets ``targetNamespace`` ("namespace not specified"); Argo CD puts such
objects in ``destination.namespace``, and without one the sync fails. Scope comes from
``kube.namespaced``: the Kubernetes schemas for built-in kinds, CRDs among the rendered
objects (their ``spec.scope``) and the workload table for custom resources. A custom resource
of unknown scope is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops_gen import kube
from gitops_gen.checks import k8sschema
from gitops_gen.checks.gpu.feasibility import Finding
from gitops_gen.checks.model import Rule

NAMESPACE_MISSING = Rule(
    "namespace-missing",
    "error",
    "rendered object",
    "a namespaced object renders without a namespace and the sync object gives none (Flux: "
    "'namespace not specified')",
    "checks.namespaces.namespace_findings",
)
RULES = (NAMESPACE_MISSING,)


def namespace_findings(
    objects: Sequence[Mapping[str, Any]],
    version: str | None,
    sync_namespace: str | None,
    crds: Mapping[tuple[str, str], bool],
) -> list[Finding]:
    """A finding per namespaced object of OBJECTS without a namespace, unless the sync object gives one."""
    if sync_namespace:
        return []
    out = []
    for obj in objects:
        meta = obj.get("metadata")
        if not isinstance(meta, Mapping) or meta.get("namespace"):
            continue
        builtin = k8sschema.known_kind(version, obj)
        if kube.namespaced(obj, crds, builtin) is not True:
            continue
        kind, name = str(obj.get("kind")), str(meta.get("name", ""))
        out.append(
            Finding(
                NAMESPACE_MISSING.id,
                "error",
                f"{kind}/{name} is namespaced but has no namespace, and the sync object gives none (Flux: "
                "'namespace not specified'): set namespace in gitops-gen.yaml or the cluster's app entry, or "
                "metadata.namespace in the overlay",
                (kind, "", name),
                ("metadata", "name"),
            )
        )
    return out
