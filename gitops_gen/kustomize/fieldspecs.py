"""kustomize's builtin field specs (v5.5) as data, and a walker over plain dicts.

A field spec names a slash-separated path inside objects of some group/version/kind;
empty group/version/kind select anything. Lists along the path are crossed
transparently (every element is visited with the rest of the path); a ``[]`` suffix
on a path element says the field is expected to be a list and is never created.
``create`` asks the walker to make missing fields (maps along the way).

The tables transcribe the facts of kustomize's builtin configuration (which kinds
and paths each transformer touches) into our own data; order inside a table only
matters where kustomize's does (noted below).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import split_api_version
from gitops_gen.kustomize.types import ORDER_FIRST, ORDER_LAST


@dataclass(frozen=True)
class Gvk:
    """A group/version/kind selector; empty parts are wildcards (kustomize's Gvk.IsSelected)."""

    group: str = ""
    version: str = ""
    kind: str = ""

    def selects(self, group: str, version: str, kind: str) -> bool:
        return (
            (not self.group or self.group == group)
            and (not self.version or self.version == version)
            and (not self.kind or self.kind == kind)
        )

    def sort_key(self) -> tuple[int, str]:
        """kustomize's Gvk.IsLessThan: the legacy kind order first, then group_version_kind."""
        stable = f"{self.group or '~G'}_{self.version or '~V'}_{self.kind or '~K'}"
        return KIND_ORDER.get(self.kind, 0), stable


@dataclass(frozen=True)
class FieldSpec:
    path: str
    gvk: Gvk = Gvk()
    create: bool = False

    def selects_obj(self, obj: dict[str, Any]) -> bool:
        api_version = obj.get("apiVersion")
        group, version = split_api_version(api_version if isinstance(api_version, str) else "")
        kind = obj.get("kind")
        return self.gvk.selects(group, version, kind if isinstance(kind, str) else "")


# kustomize's legacy resource order (kinds first / last); used for sorting back references.
KIND_ORDER: dict[str, int] = {
    **{k: i - len(ORDER_FIRST) for i, k in enumerate(ORDER_FIRST)},
    **{k: i + 1 for i, k in enumerate(ORDER_LAST)},
}


def _fs(path: str, kind: str = "", group: str = "", version: str = "", create: bool = False) -> FieldSpec:
    return FieldSpec(path, Gvk(group, version, kind), create)


# ---------------------------------------------------------------------------------------------- labels
# Labels on object metadata and on the metadata of every pod/claim template kustomize knows.
METADATA_LABELS: tuple[FieldSpec, ...] = (
    _fs("metadata/labels", create=True),
    _fs("spec/template/metadata/labels", "ReplicationController", version="v1", create=True),
    _fs("spec/template/metadata/labels", "Deployment", create=True),
    _fs("spec/template/metadata/labels", "ReplicaSet", create=True),
    _fs("spec/template/metadata/labels", "DaemonSet", create=True),
    _fs("spec/template/metadata/labels", "StatefulSet", "apps", create=True),
    _fs("spec/volumeClaimTemplates[]/metadata/labels", "StatefulSet", "apps", create=True),
    _fs("spec/template/metadata/labels", "Job", "batch", create=True),
    _fs("spec/jobTemplate/metadata/labels", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/labels", "CronJob", "batch", create=True),
)

# Affinity / topology label selectors of Deployments and StatefulSets: updated, never created.
_POD_SELECTOR_TERMS = (
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
    "podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
    "labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
    "podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
    "labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)

# commonLabels, and labels[] entries with includeSelectors: selectors too.
COMMON_LABELS: tuple[FieldSpec, ...] = (
    _fs("spec/selector", "Service", version="v1", create=True),
    _fs("spec/selector", "ReplicationController", version="v1", create=True),
    _fs("spec/selector/matchLabels", "Deployment", create=True),
    *(_fs(p, "Deployment", "apps") for p in _POD_SELECTOR_TERMS),
    _fs("spec/selector/matchLabels", "ReplicaSet", create=True),
    _fs("spec/selector/matchLabels", "DaemonSet", create=True),
    _fs("spec/selector/matchLabels", "StatefulSet", "apps", create=True),
    *(_fs(p, "StatefulSet", "apps") for p in _POD_SELECTOR_TERMS),
    _fs("spec/selector/matchLabels", "Job", "batch"),
    _fs("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
    _fs("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
    _fs("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    *METADATA_LABELS,
)

# labels[] entries with includeTemplates (and not includeSelectors).
TEMPLATE_LABELS: tuple[FieldSpec, ...] = METADATA_LABELS

# labels[] entries with neither flag.
ONLY_METADATA_LABELS: tuple[FieldSpec, ...] = (_fs("metadata/labels", create=True),)

# ----------------------------------------------------------------------------------------- annotations
COMMON_ANNOTATIONS: tuple[FieldSpec, ...] = (
    _fs("metadata/annotations", create=True),
    _fs("spec/template/metadata/annotations", "ReplicationController", version="v1", create=True),
    _fs("spec/template/metadata/annotations", "Deployment", create=True),
    _fs("spec/template/metadata/annotations", "ReplicaSet", create=True),
    _fs("spec/template/metadata/annotations", "DaemonSet", create=True),
    _fs("spec/template/metadata/annotations", "StatefulSet", create=True),
    _fs("spec/template/metadata/annotations", "Job", "batch", create=True),
    _fs("spec/jobTemplate/metadata/annotations", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/annotations", "CronJob", "batch", create=True),
)

# ------------------------------------------------------------------------------------------- namespace
# metadata/namespace itself is handled apart (cluster-scoped kinds are skipped); the Namespace
# rename only applies to objects whose apiVersion is exactly "v1".
NAMESPACE: tuple[FieldSpec, ...] = (
    _fs("metadata/name", "Namespace", create=True),
    _fs("spec/service/namespace", "APIService", "apiregistration.k8s.io", create=True),
    _fs(
        "spec/conversion/webhook/clientConfig/service/namespace",
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
    ),
)

# ---------------------------------------------------------------------------------------- prefix/suffix
NAME: tuple[FieldSpec, ...] = (_fs("metadata/name"),)
# Kinds never prefixed/suffixed, matched against the resource's original id.
AFFIX_SKIP: tuple[Gvk, ...] = (
    Gvk(kind="CustomResourceDefinition"),
    Gvk(group="apiregistration.k8s.io", kind="APIService"),
    Gvk(kind="Namespace"),
)

# -------------------------------------------------------------------------------------- images/replicas
IMAGES: tuple[FieldSpec, ...] = (
    _fs("spec/containers[]/image", create=True),
    _fs("spec/initContainers[]/image", create=True),
    _fs("spec/template/spec/containers[]/image", create=True),
    _fs("spec/template/spec/initContainers[]/image", create=True),
)

# Sorted by GVK as kustomize's merged config is (its "no match" error lists them in this order).
REPLICAS: tuple[FieldSpec, ...] = tuple(
    sorted(
        (
            _fs("spec/replicas", kind, create=True)
            for kind in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
        ),
        key=lambda spec: spec.gvk.sort_key(),
    )
)

# ------------------------------------------------------------------------------------- var references
# Where kustomize substitutes $(VAR): container args/command/env values/mount paths of every pod
# owner, NFS servers, a few Ingress and Service fields, and metadata labels/annotations.
_CONTAINER_VARS = ("args", "command", "env/value", "volumeMounts/mountPath")


def _var_paths(prefix: str, volumes: str) -> list[str]:
    paths = [f"{prefix}{c}/{f}" for c in ("containers", "initContainers") for f in _CONTAINER_VARS]
    return [*paths, volumes]


VAR_REFERENCE: tuple[FieldSpec, ...] = (
    *(
        _fs(p, "CronJob")
        for p in _var_paths(
            "spec/jobTemplate/spec/template/spec/", "spec/jobTemplate/spec/template/volumes/nfs/server"
        )
    ),
    *(
        _fs(p, "DaemonSet")
        for p in _var_paths("spec/template/spec/", "spec/template/spec/volumes/nfs/server")
    ),
    *(
        _fs(p, "Deployment")
        for p in _var_paths("spec/template/spec/", "spec/template/spec/volumes/nfs/server")
    ),
    _fs("spec/template/metadata/annotations", "Deployment"),
    _fs("spec/rules/host", "Ingress"),
    _fs("spec/tls/hosts", "Ingress"),
    _fs("spec/tls/secretName", "Ingress"),
    *(_fs(p, "Job") for p in _var_paths("spec/template/spec/", "spec/template/spec/volumes/nfs/server")),
    *(_fs(p, "Pod") for p in _var_paths("spec/", "spec/volumes/nfs/server")),
    *(
        _fs(p, "ReplicaSet")
        for p in _var_paths("spec/template/spec/", "spec/template/spec/volumes/nfs/server")
    ),
    _fs("spec/ports/port", "Service"),
    _fs("spec/ports/targetPort", "Service"),
    *(
        _fs(p, "StatefulSet")
        for p in _var_paths("spec/template/spec/", "spec/volumeClaimTemplates/spec/nfs/server")
    ),
    _fs("spec/nfs/server", "PersistentVolume"),
    _fs("metadata/labels"),
    _fs("metadata/annotations"),
)

# ------------------------------------------------------------------------------------- name references
_WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job")


def _pod_paths(ref: str, volume: str, key_ref: str, env_from: str, pull_secrets: bool) -> list[str]:
    """Pod-spec relative paths that name a ConfigMap or Secret."""
    paths = [
        f"volumes/{ref}/{volume}",
        f"containers/env/valueFrom/{key_ref}/name",
        f"initContainers/env/valueFrom/{key_ref}/name",
        f"containers/envFrom/{env_from}/name",
        f"initContainers/envFrom/{env_from}/name",
    ]
    if pull_secrets:
        paths.append("imagePullSecrets/name")
    paths.append(f"volumes/projected/sources/{ref}/name")
    return paths


def _in_pods(
    paths: Iterable[str], workloads: Iterable[str], pod_version: str = "v1", pod_template: bool = True
) -> list[FieldSpec]:
    """The same pod-spec paths in Pods, PodTemplates, the given workloads and CronJobs."""
    paths = list(paths)
    out = [_fs(f"spec/{p}", "Pod", version=pod_version) for p in paths]
    if pod_template:
        out += [_fs(f"template/spec/{p}", "PodTemplate") for p in paths]
    for kind in workloads:
        out += [_fs(f"spec/template/spec/{p}", kind) for p in paths]
    out += [_fs(f"spec/jobTemplate/spec/template/spec/{p}", "CronJob") for p in paths]
    return out


_CM_PATHS = _pod_paths("configMap", "name", "configMapKeyRef", "configMapRef", pull_secrets=False)
_SECRET_PATHS = _pod_paths("secret", "secretName", "secretKeyRef", "secretRef", pull_secrets=True)
_HPA = _fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler")
_RULES = [_fs("rules/resourceNames", "Role"), _fs("rules/resourceNames", "ClusterRole")]
_POD_OWNERS = ("StatefulSet", "Deployment", "ReplicationController", "Job", "DaemonSet")


def _pod_field(path: str) -> list[FieldSpec]:
    """A pod-spec field in Pods, the workloads that embed a pod template, and CronJobs."""
    return [
        _fs(f"spec/{path}", "Pod"),
        *(_fs(f"spec/template/spec/{path}", kind) for kind in _POD_OWNERS),
        _fs(f"spec/jobTemplate/spec/template/spec/{path}", "CronJob"),
    ]


_RBAC = "rbac.authorization.k8s.io"
_ADMISSION = "admissionregistration.k8s.io"

# (referral kind, fields of referrers that hold its name), before kustomize's sort by referral GVK.
_NAME_REFERENCES: list[tuple[Gvk, list[FieldSpec]]] = [
    (Gvk(kind="Deployment"), [_HPA]),
    (Gvk(kind="ReplicationController"), [_HPA]),
    (Gvk(kind="ReplicaSet"), [_HPA]),
    (Gvk(kind="StatefulSet"), [_HPA]),
    (
        Gvk(version="v1", kind="ConfigMap"),
        [
            *_in_pods(_CM_PATHS, _WORKLOADS),
            _fs("spec/configSource/configMap", "Node"),
            *_RULES,
            _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", "Ingress"),
        ],
    ),
    (
        Gvk(version="v1", kind="Secret"),
        [
            *_in_pods(_SECRET_PATHS, _WORKLOADS),
            _fs("spec/tls/secretName", "Ingress"),
            _fs("metadata/annotations/ingress.kubernetes.io\\/auth-secret", "Ingress"),
            _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", "Ingress"),
            _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", "Ingress"),
            _fs("imagePullSecrets/name", "ServiceAccount"),
            *(
                _fs(f"parameters/{p}", "StorageClass")
                for p in ("secretName", "adminSecretName", "userSecretName", "secretRef")
            ),
            *_RULES,
            _fs(
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                "Service",
                "serving.knative.dev",
                "v1",
            ),
            _fs("spec/azureFile/secretName", "PersistentVolume"),
        ],
    ),
    (
        Gvk(version="v1", kind="Service"),
        [
            _fs("spec/serviceName", "StatefulSet", "apps"),
            _fs("spec/rules/http/paths/backend/serviceName", "Ingress"),
            _fs("spec/backend/serviceName", "Ingress"),
            _fs("spec/rules/http/paths/backend/service/name", "Ingress"),
            _fs("spec/defaultBackend/service/name", "Ingress"),
            _fs("spec/service/name", "APIService", "apiregistration.k8s.io"),
            # Whole {name, namespace} maps: the namespace is rewritten too.
            _fs("webhooks/clientConfig/service", "ValidatingWebhookConfiguration", _ADMISSION),
            _fs("webhooks/clientConfig/service", "MutatingWebhookConfiguration", _ADMISSION),
        ],
    ),
    (Gvk(group=_RBAC, kind="Role"), [_fs("roleRef/name", "RoleBinding", _RBAC)]),
    (
        Gvk(group=_RBAC, kind="ClusterRole"),
        [
            _fs("roleRef/name", "RoleBinding", _RBAC),
            _fs("roleRef/name", "ClusterRoleBinding", _RBAC),
        ],
    ),
    (
        Gvk(version="v1", kind="ServiceAccount"),
        [
            _fs("subjects", "RoleBinding", _RBAC),
            _fs("subjects", "ClusterRoleBinding", _RBAC),
            *_pod_field("serviceAccountName"),
        ],
    ),
    (Gvk(version="v1", kind="PersistentVolumeClaim"), _pod_field("volumes/persistentVolumeClaim/claimName")),
    (
        Gvk(version="v1", kind="PersistentVolume"),
        [
            _fs("spec/volumeName", "PersistentVolumeClaim"),
            _fs("rules/resourceNames", "ClusterRole"),
        ],
    ),
    (
        Gvk("storage.k8s.io", "v1", "StorageClass"),
        [
            _fs("spec/storageClassName", "PersistentVolume"),
            _fs("spec/storageClassName", "PersistentVolumeClaim"),
            _fs("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"),
        ],
    ),
    (Gvk("scheduling.k8s.io", "v1", "PriorityClass"), _pod_field("priorityClassName")),
    # kustomize writes this group with its version ("networking.k8s.io/v1"), so it never
    # selects a real IngressClass: ingressClassName is never updated. Kept as kustomize has it.
    (Gvk("networking.k8s.io/v1", "v1", "IngressClass"), [_fs("spec/ingressClassName", "Ingress")]),
    (
        Gvk(group=_ADMISSION, kind="ValidatingAdmissionPolicy"),
        [
            _fs("spec/policyName", "ValidatingAdmissionPolicyBinding", _ADMISSION),
        ],
    ),
]


def _dedupe(specs: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    """kustomize's FsSlice.MergeOne: drop a spec whose path equals an earlier one it selects."""
    out: list[FieldSpec] = []
    for spec in specs:
        if not any(
            o.path == spec.path and spec.gvk.selects(o.gvk.group, o.gvk.version, o.gvk.kind) for o in out
        ):
            out.append(spec)
    return tuple(out)


# Sorted like kustomize's merged transformer config: back references by referral GVK.
NAME_REFERENCES: tuple[tuple[Gvk, tuple[FieldSpec, ...]], ...] = tuple(
    (gvk, _dedupe(specs)) for gvk, specs in sorted(_NAME_REFERENCES, key=lambda item: item[0].sort_key())
)


# ---------------------------------------------------------------------------------------------- walker
MAP = "map"
SCALAR = "scalar"

# Called with the mapping that holds the field and the field's key; the field exists then.
Setter = Callable[[dict[str, Any], str], None]


@lru_cache(maxsize=1024)
def split_path(path: str) -> tuple[str, ...]:
    """kyaml's PathSplitter: '/'-separated, a leading '/' allowed, '\\/' escapes a slash."""
    parts = path.split("/")
    if len(parts) > 1 and parts[0] == "":
        parts = parts[1:]
    out = [parts[0]]
    for part in parts[1:]:
        if out[-1].endswith("\\"):
            out[-1] = out[-1][:-1] + "/" + part
        else:
            out.append(part)
    return tuple(out)


def describe(obj: dict[str, Any]) -> str:
    md = obj.get("metadata")
    md = md if isinstance(md, dict) else {}
    ns = md.get("namespace")
    name = md.get("name")
    where = f"{ns}/{name}" if ns else f"{name}"
    return f"{obj.get('kind')} {where}"


def apply_fieldspec(
    obj: dict[str, Any],
    spec: FieldSpec,
    setter: Setter,
    create_kind: str | None = None,
    check_gvk: bool = True,
) -> None:
    """Call SETTER on every field SPEC's path reaches in OBJ (kustomize's fieldspec filter).

    With ``spec.create`` and a CREATE_KIND, missing fields are created: maps along the
    path and a CREATE_KIND value at the end. A null found where the path wants a map,
    list or scalar becomes an empty one of that kind, as kustomize does.
    """
    if check_gvk and not spec.selects_obj(obj):
        return
    try:
        _walk(obj, split_path(spec.path), spec.create and create_kind is not None, create_kind, setter)
    except _WalkError as err:
        raise GitopsGenError(f"considering field '{spec.path}' of object {describe(obj)}: {err}") from None


class _WalkError(Exception):
    pass


def _empty(kind: str | None) -> Any:
    return {} if kind == MAP else [] if kind == "seq" else ""


def _walk(node: Any, path: tuple[str, ...], create: bool, create_kind: str | None, setter: Setter) -> None:
    if node is None:
        return
    if isinstance(node, list):
        for item in node:
            _walk(item, path, create, create_kind, setter)
        return
    if not isinstance(node, dict):
        raise _WalkError("expected sequence or mapping node")
    head = path[0]
    is_seq = head.endswith("[]")
    name = head[:-2] if is_seq else head
    if not name:
        raise _WalkError("cannot set or create an empty field name")
    last = len(path) == 1
    kind: str | None
    if not create or is_seq:
        kind = "seq" if is_seq else None
        if name not in node:
            return
    else:
        kind = create_kind if last else MAP
        if name not in node:
            node[name] = _empty(kind)
    if node[name] is None and kind is not None:
        node[name] = _empty(kind)
    if last:
        setter(node, name)
    else:
        _walk(node[name], path[1:], create, create_kind, setter)


# ------------------------------------------------------------------------------ transformer configurations
CONFIG_KEYS = (
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "templateLabels",
    "volumeClaimTemplateLabels",
    "commonAnnotations",
    "nameReference",
    "varReference",
    "images",
    "replicas",
)

NameReferences = tuple[tuple[Gvk, tuple[FieldSpec, ...]], ...]


class VarDef(NamedTuple):
    """One `vars` entry: the object it reads (by GVK, name and optional namespace) and which field."""

    name: str
    group: str
    version: str
    kind: str
    obj_name: str
    namespace: str
    field_path: str


@dataclass(frozen=True)
class Config:
    """kustomize's TransformerConfig: the builtin field specs plus what `configurations` files add.

    A kustomization's transformers see the merge of the builtin specs, its own configuration
    files, those of everything it accumulated (resources, components); the top-level
    name-reference fix-up sees the whole build's.
    """

    name_prefix: tuple[FieldSpec, ...] = NAME
    name_suffix: tuple[FieldSpec, ...] = NAME
    namespace: tuple[FieldSpec, ...] = NAMESPACE
    common_labels: tuple[FieldSpec, ...] = COMMON_LABELS
    labels: tuple[FieldSpec, ...] = ONLY_METADATA_LABELS
    template_labels: tuple[FieldSpec, ...] = TEMPLATE_LABELS
    common_annotations: tuple[FieldSpec, ...] = COMMON_ANNOTATIONS
    name_reference: NameReferences = NAME_REFERENCES
    var_reference: tuple[FieldSpec, ...] = VAR_REFERENCE
    images: tuple[FieldSpec, ...] = IMAGES
    replicas: tuple[FieldSpec, ...] = REPLICAS

    # `vars` declared so far (kustomize keeps them in the same accumulator): (name, objref, fieldPath).
    vars: tuple[VarDef, ...] = ()

    def merge(self, other: Config) -> Config:
        if other.vars:
            names = {v.name for v in self.vars}
            for var in other.vars:
                if var.name in names:
                    raise GitopsGenError(f"var '{var.name}' already encountered")
                names.add(var.name)
        if other is self or other == DEFAULT_CONFIG:
            return self
        if self == DEFAULT_CONFIG:
            return other
        changes: dict[str, Any] = {"vars": self.vars + other.vars} if other.vars else {}
        for name in _FS_FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                changes[name] = merge_specs(mine, theirs)
        if self.name_reference != other.name_reference:
            changes["name_reference"] = merge_name_references(self.name_reference, other.name_reference)
        return replace(self, **changes) if changes else self


_FS_FIELDS = (
    "name_prefix",
    "name_suffix",
    "namespace",
    "common_labels",
    "labels",
    "template_labels",
    "common_annotations",
    "var_reference",
    "images",
    "replicas",
)
DEFAULT_CONFIG = Config()


def merge_specs(base: tuple[FieldSpec, ...], extra: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    """kustomize's FsSlice.MergeAll: a spec an existing one covers (same path, selected GVK) is not added;
    new specs go last, which only matters for the order of error messages."""
    out = list(base)
    for spec in extra:
        same = [
            o
            for o in out
            if o.path == spec.path and o.gvk.selects(spec.gvk.group, spec.gvk.version, spec.gvk.kind)
        ]
        if same:
            if same[0].create != spec.create:
                raise GitopsGenError(f"conflicting fieldspecs for path {spec.path!r}")
            continue
        out.append(spec)
    return tuple(out)


def merge_name_references(base: NameReferences, extra: NameReferences) -> NameReferences:
    """kustomize's nbrSlice.mergeAll: referrers of an equal referral GVK are merged, new ones appended."""
    out = [(gvk, specs) for gvk, specs in base]
    for gvk, specs in extra:
        for i, (have, have_specs) in enumerate(out):
            if have == gvk:
                out[i] = (have, merge_specs(have_specs, specs))
                break
        else:
            out.append((gvk, tuple(specs)))
    return tuple(sorted(out, key=lambda item: item[0].sort_key()))


_SPEC_KEYS = ("path", "group", "version", "kind", "create")


def _parse_spec(entry: Any, where: str, keys: tuple[str, ...] = _SPEC_KEYS) -> FieldSpec:
    if not isinstance(entry, dict):
        raise GitopsGenError(f"{where}: field specs must be mappings")
    for key, value in entry.items():
        if key not in keys:
            raise GitopsGenError(f"{where}: unknown field {key!r}")
        want = bool if key == "create" else str
        if value is not None and not isinstance(value, want) and key != "fieldSpecs":
            raise GitopsGenError(f"{where}: {key} must be a {'boolean' if want is bool else 'string'}")
    text = {k: entry.get(k) or "" for k in ("path", "group", "version", "kind")}
    return FieldSpec(
        text["path"], Gvk(text["group"], text["version"], text["kind"]), bool(entry.get("create"))
    )


def parse_specs(value: Any, where: str) -> list[FieldSpec]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GitopsGenError(f"{where} must be a list")
    return [_parse_spec(entry, where) for entry in value]


def parse_config(data: Any, where: str) -> Config:
    """One `configurations` file (kustomize decodes it strictly) merged onto the builtin config."""
    if data is None:
        return DEFAULT_CONFIG
    if not isinstance(data, dict):
        raise GitopsGenError(f"{where}: a transformer configuration must be a mapping")
    changes: dict[str, Any] = {}
    attrs = dict(
        zip(
            CONFIG_KEYS,
            (
                "name_prefix",
                "name_suffix",
                "namespace",
                "common_labels",
                "labels",
                "template_labels",
                None,
                "common_annotations",
                "name_reference",
                "var_reference",
                "images",
                "replicas",
            ),
            strict=True,
        )
    )
    for key, value in data.items():
        if key not in attrs:
            raise GitopsGenError(f"{where}: unknown field {key!r} in transformer configuration")
        attr = attrs[key]
        if key == "nameReference":
            refs: list[tuple[Gvk, tuple[FieldSpec, ...]]] = []
            for entry in value or []:
                ref = _parse_spec(
                    entry, f"{where}: nameReference", ("group", "version", "kind", "fieldSpecs")
                )
                refs.append((ref.gvk, tuple(parse_specs(entry.get("fieldSpecs"), f"{where}: fieldSpecs"))))
            changes["name_reference"] = merge_name_references(NAME_REFERENCES, tuple(refs))
        elif attr is not None:
            changes[attr] = merge_specs(getattr(DEFAULT_CONFIG, attr), parse_specs(value, f"{where}: {key}"))
    return replace(DEFAULT_CONFIG, **changes)
