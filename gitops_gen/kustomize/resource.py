"""A resource in a build: a plain-dict Kubernetes object plus kustomize's bookkeeping.

Kustomize keeps its bookkeeping (previous names, generator behaviour, hash
requests) in internal annotations; we keep it in attributes so the object dict
stays exactly what the user wrote and what gets printed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class ResId(NamedTuple):
    """kustomize's resid.ResId: group, version, kind, name and namespace as written."""

    group: str
    version: str
    kind: str
    name: str
    namespace: str

    def effective_namespace(self) -> str:
        return effective_namespace(self.group, self.version, self.kind, self.namespace)

    def equals(self, other: ResId) -> bool:
        """kustomize's ResId.Equals: same group/version/kind/name and effective namespace."""
        return (
            self.name == other.name
            and self.kind == other.kind
            and self.group == other.group
            and self.version == other.version
            and self.effective_namespace() == other.effective_namespace()
        )

    def __str__(self) -> str:
        gv = f"{self.group}/{self.version}" if self.group else self.version
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{gv}, Kind={self.kind}, {ns}{self.name}"


NOT_NAMESPACEABLE = "_non_namespaceable_"

# Kinds kustomize treats as certainly cluster scoped (kyaml's precomputed table). Unknown kinds,
# custom resources included, count as namespaced, exactly as kustomize does.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("apiregistration.k8s.io/v1beta1", "APIService"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
        ("networking.k8s.io/v1", "IngressClass"),
        ("networking.k8s.io/v1beta1", "IngressClass"),
        ("node.k8s.io/v1", "RuntimeClass"),
        ("node.k8s.io/v1beta1", "RuntimeClass"),
        ("policy/v1beta1", "PodSecurityPolicy"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("scheduling.k8s.io/v1beta1", "PriorityClass"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("storage.k8s.io/v1", "CSINode"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("storage.k8s.io/v1", "VolumeAttachment"),
        ("storage.k8s.io/v1beta1", "CSIDriver"),
        ("storage.k8s.io/v1beta1", "CSINode"),
        ("storage.k8s.io/v1beta1", "StorageClass"),
        ("storage.k8s.io/v1beta1", "VolumeAttachment"),
        ("v1", "ComponentStatus"),
        ("v1", "Namespace"),
        ("v1", "Node"),
        ("v1", "NodeProxyOptions"),
        ("v1", "PersistentVolume"),
    }
)


def join_api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def split_api_version(api_version: str) -> tuple[str, str]:
    """kustomize's ParseGroupVersion: "apps/v1" -> ("apps", "v1"), "v1" -> ("", "v1")."""
    if "/" in api_version:
        group, _, version = api_version.rpartition("/")
        return group, version
    return "", api_version


def is_cluster_scoped(group: str, version: str, kind: str) -> bool:
    return (join_api_version(group, version), kind) in CLUSTER_SCOPED


def effective_namespace(group: str, version: str, kind: str, namespace: str) -> str:
    if is_cluster_scoped(group, version, kind):
        return NOT_NAMESPACEABLE
    if namespace in ("", "default"):
        return "default"
    return namespace


@dataclass(frozen=True)
class Origin:
    """Where a step of the build came from, for provenance.

    ``kind`` is one of: resource, smp, json6902, transformer, generator, merge.
    ``field`` names the kustomization field for transformers (e.g. ``replicas``) and
    ``line`` is the 1-based line of that entry in ``path`` when known.
    ``doc`` is the document index inside ``path`` (multi-document files) and ``patch``
    the patch document itself for smp/json6902 steps (kept so provenance can resolve paths).
    ``chart`` is how a Helm chart rendered an object (``helm.ChartTrace``): provenance traces
    the values key behind a field from it.
    """

    path: str
    kind: str
    field: str = ""
    line: int | None = None
    doc: int = 0
    patch: Any = None
    chart: Any = None


@dataclass
class Step:
    """One recorded mutation: who did it and the object right after."""

    origin: Origin
    obj: dict[str, Any]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


@dataclass(eq=False)
class Resource:
    obj: dict[str, Any]
    origin: Origin
    prev_ids: list[ResId] = field(default_factory=list)
    behavior: str = "create"  # generators: create | merge | replace
    needs_hash: bool = False  # generated ConfigMap/Secret waiting for its name suffix
    history: list[Step] | None = None  # only when the build traces provenance
    # Prefixes/suffixes added to the name, oldest first: kustomize's name-reference fix-up
    # uses them to choose between candidates with the same original name.
    name_prefixes: list[str] = field(default_factory=list)
    name_suffixes: list[str] = field(default_factory=list)
    # Names of the `vars` whose objref picked this resource (kustomize's refVarNames).
    ref_vars: list[str] = field(default_factory=list)
    # Paths of fields written as nothing (`key:`); a strategic-merge patch drops them.
    bare_nulls: list[tuple[Any, ...]] = field(default_factory=list)

    # --- identity -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return _str(self.obj.get("kind"))

    @property
    def api_version(self) -> str:
        return _str(self.obj.get("apiVersion"))

    @property
    def meta(self) -> dict[str, Any]:
        md = self.obj.get("metadata")
        if not isinstance(md, dict):
            md = {}
            self.obj["metadata"] = md
        return md

    @property
    def name(self) -> str:
        md = self.obj.get("metadata")
        return _str(md.get("name")) if isinstance(md, dict) else ""

    @property
    def namespace(self) -> str:
        md = self.obj.get("metadata")
        return _str(md.get("namespace")) if isinstance(md, dict) else ""

    def gvk(self) -> tuple[str, str, str]:
        group, version = split_api_version(self.api_version)
        return group, version, self.kind

    def cur_id(self) -> ResId:
        group, version = split_api_version(self.api_version)
        return ResId(group, version, self.kind, self.name, self.namespace)

    def previous_ids(self) -> list[ResId]:
        """Ids before renames, oldest first; group/version always from the current apiVersion."""
        if not self.prev_ids:
            return []
        group, version = split_api_version(self.api_version)
        return [ResId(group, version, p[2], p[3], p[4]) for p in self.prev_ids]

    def org_id(self) -> ResId:
        if not self.prev_ids:
            return self.cur_id()
        group, version = split_api_version(self.api_version)
        first = self.prev_ids[0]
        return ResId(group, version, first[2], first[3], first[4])

    def all_ids(self) -> list[ResId]:
        """Previous ids, then the current one (kustomize's "any id" matching)."""
        return [*self.previous_ids(), self.cur_id()]

    def store_previous_id(self) -> None:
        """Remember the current id before a rename (kustomize's StorePreviousId).

        kustomize stores the effective namespace, the name and the kind; group and version
        are taken from the current apiVersion when previous ids are read back.
        """
        cur = self.cur_id()
        self.prev_ids.append(cur._replace(namespace=cur.effective_namespace()))

    def is_cluster_scoped(self) -> bool:
        group, version, kind = self.gvk()
        return is_cluster_scoped(group, version, kind)

    # --- copies and provenance --------------------------------------------------------------
    def copy(self) -> Resource:
        return Resource(
            obj=copy.deepcopy(self.obj),
            origin=self.origin,
            prev_ids=list(self.prev_ids),
            behavior=self.behavior,
            needs_hash=self.needs_hash,
            history=None if self.history is None else list(self.history),
            name_prefixes=list(self.name_prefixes),
            name_suffixes=list(self.name_suffixes),
            ref_vars=list(self.ref_vars),
            bare_nulls=list(self.bare_nulls),
        )

    def record(self, origin: Origin, force: bool = False) -> None:
        """Append a provenance step if tracing and the object changed since the last step.

        FORCE records a step even without a change: a patch that re-sets a value to what
        it already was still "set" it, and explain should say so.
        """
        if self.history is None:
            return
        if not force and self.history and self.history[-1].obj == self.obj:
            return
        self.history.append(Step(origin, copy.deepcopy(self.obj)))

    def labels(self) -> dict[str, Any]:
        labels = self.meta.get("labels")
        return labels if isinstance(labels, dict) else {}

    def annotations(self) -> dict[str, Any]:
        ann = self.meta.get("annotations")
        return ann if isinstance(ann, dict) else {}


IdKey = tuple[str, str, str, str, str]


def id_key(res: Resource) -> IdKey:
    """What kustomize's ResId.Equals compares: group, version, kind, name, effective namespace."""
    cur = res.cur_id()
    return cur.group, cur.version, cur.kind, cur.name, cur.effective_namespace()
