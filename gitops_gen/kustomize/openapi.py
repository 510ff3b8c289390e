"""List-merge metadata of the Kubernetes API, as strategic merge needs it.

kustomize v5.5 (kyaml v0.18.1) walks the built-in OpenAPI schema of
Kubernetes v1.21.2 while merging: a list is merged element by element only
when its schema says ``x-kubernetes-patch-strategy`` contains ``merge``; the
merge keys are ``x-kubernetes-list-map-keys`` when present, else
``x-kubernetes-patch-merge-key``, else none (a list of primitives merged as a
set). Every other list is replaced, and so is every list kustomize has no
schema for (custom resources, fields newer than its schema).

We read the same facts from the JSON schemas shipped by ``kubernetes-validate``
and keep a compact table in ``gitops_gen/data/patchmeta.json`` so that loading
is one small ``json.load``. Regenerate it with::

    .venv/bin/python -m gitops_gen.kustomize.openapi --regen

``SCHEMA_VERSION`` is the oldest schema kubernetes-validate ships, the closest
to kustomize's own v1.21.2. Two hand-kept lists bridge the remaining gap:
``KUSTOMIZE_MISSING_FIELDS`` (merge lists that appeared after v1.21, which
kustomize therefore replaces) and ``GVK_ALIASES`` (beta API versions kustomize
still knows but v1.25 dropped; their list metadata equals the GA version's).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "v1.25.0"
KUSTOMIZE_VERSION = "v1.21.2"  # the one Kubernetes schema kustomize v5.5 has built in
TABLE_PATH = Path(__file__).parent / "data" / "patchmeta.json"

# (definition, field): lists with a merge strategy in the v1.25 schema that are
# absent from Kubernetes v1.21.2, so kustomize has no schema and replaces them.
KUSTOMIZE_MISSING_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("io.k8s.api.core.v1.EphemeralContainer", "ports"),
        ("io.k8s.api.networking.v1.NetworkPolicyStatus", "conditions"),
        (
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
            "x-kubernetes-validations",
        ),
    }
)

# apiVersion/kind known to Kubernetes v1.21.2 (hence to kustomize) but removed
# before v1.25 -> the apiVersion whose schema stands in for it.
GVK_ALIASES: dict[tuple[str, str], str] = {
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ): "admissionregistration.k8s.io/v1",
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ): "admissionregistration.k8s.io/v1",
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): "apiextensions.k8s.io/v1",
    ("apiregistration.k8s.io/v1beta1", "APIService"): "apiregistration.k8s.io/v1",
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): "autoscaling/v2",
    ("batch/v1beta1", "CronJob"): "batch/v1",
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): "certificates.k8s.io/v1",
    ("coordination.k8s.io/v1beta1", "Lease"): "coordination.k8s.io/v1",
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): "discovery.k8s.io/v1",
    ("events.k8s.io/v1beta1", "Event"): "events.k8s.io/v1",
    ("extensions/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("networking.k8s.io/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("networking.k8s.io/v1beta1", "IngressClass"): "networking.k8s.io/v1",
    ("node.k8s.io/v1beta1", "RuntimeClass"): "node.k8s.io/v1",
    ("policy/v1beta1", "PodDisruptionBudget"): "policy/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "Role"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "rbac.authorization.k8s.io/v1",
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): "scheduling.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "CSIDriver"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "CSINode"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "StorageClass"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): "storage.k8s.io/v1",
}

# A compact schema ("spec") is a definition name (a reference) or a dict:
#   "f": {field: spec}      properties
#   "a": spec               additionalProperties (the schema of every map value)
#   "i": spec               items, present only for arrays
#   "s": "merge,retainKeys" x-kubernetes-patch-strategy (arrays only)
#   "k": [key, ...]         merge keys as kustomize derives them (arrays only)
Spec = str | dict[str, Any]


class Node:
    """The schema of one field: walk down by name, read a list's merge rules.

    Nodes are shared and memoise their lookups: walking the same schema path
    again (every merge of every resource does) costs one dict lookup per step.
    """

    __slots__ = (
        "_fields",
        "_items",
        "_items_known",
        "_spec",
        "_types",
        "is_merge_list",
        "merge_keys",
        "strategy",
    )

    strategy: tuple[str, ...]
    """Patch strategies of a list, e.g. ('merge', 'retainKeys'); () when none."""
    merge_keys: tuple[str, ...]
    """Keys identifying list elements; () for a primitive (set-like) merge list."""
    is_merge_list: bool
    """kustomize merges the list element-wise (else it replaces it)."""

    def __init__(self, spec: dict[str, Any], types: dict[str, dict[str, Any]]):
        self._spec = spec
        self._types = types
        self._fields: dict[Any, Node | None] = {}
        self._items: Node | None = None
        self._items_known = False
        raw = spec.get("s")
        self.strategy = tuple(raw.split(",")) if raw else ()
        self.merge_keys = tuple(spec.get("k", ()))
        self.is_merge_list = "merge" in self.strategy

    def _wrap(self, spec: Spec) -> Node:
        while isinstance(spec, str):
            spec = self._types[spec]
        return _node(spec, self._types)

    def field(self, name: str) -> Node | None:
        """Schema of field NAME; map-typed objects give their value schema for any key."""
        try:
            return self._fields[name]
        except KeyError:
            pass
        props = self._spec.get("f")
        if props is not None and name in props:
            found: Node | None = self._wrap(props[name])
        else:
            extra = self._spec.get("a")
            found = None if extra is None else self._wrap(extra)
        self._fields[name] = found
        return found

    def items(self) -> Node | None:
        """Schema of the elements when this is an array, else None."""
        if not self._items_known:
            items = self._spec.get("i")
            self._items = None if items is None else self._wrap(items)
            self._items_known = True
        return self._items

    def __repr__(self) -> str:
        return f"Node(fields={sorted(self._spec.get('f', {}))!r}, strategy={self.strategy!r}, keys={self.merge_keys!r})"


# One Node per (types table, resolved spec): the key's objects are kept alive by
# the Node itself, so their ids cannot be reused while the entry exists.
_NODES: dict[tuple[int, int], Node] = {}


def _node(spec: dict[str, Any], types: dict[str, dict[str, Any]]) -> Node:
    key = (id(types), id(spec))
    node = _NODES.get(key)
    if node is None:
        node = _NODES[key] = Node(spec, types)
    return node


@cache
def _table() -> dict[str, Any]:
    with TABLE_PATH.open(encoding="utf-8") as fh:
        table: dict[str, Any] = json.load(fh)
    return table


# A kustomization's `openapi: {path: ...}` schema, while a build uses it: it replaces the builtin one.
_CUSTOM: ContextVar[dict[str, Any] | None] = ContextVar("custom_openapi", default=None)


@contextmanager
def custom_schema(table: dict[str, Any] | None) -> Iterator[None]:
    """Strategic merges inside use TABLE (from ``custom_table``) instead of the Kubernetes schema."""
    token = _CUSTOM.set(table)
    try:
        yield
    finally:
        _CUSTOM.reset(token)


def custom_table(document: Any, display: str) -> dict[str, Any]:
    """The table of a custom schema file: a swagger document whose definitions kustomize indexes.

    kyaml then knows only these definitions (and its own for kustomization files): builtin
    kinds have no merge keys, so their lists are replaced.
    """
    from gitops_gen.errors import GitopsGenError

    if not isinstance(document, dict):
        raise GitopsGenError("invalid schema file: not a swagger document", display)
    if document.get("paths"):
        raise GitopsGenError(
            "not supported: an openapi schema with paths (kustomize reads namespace scopes from them)",
            display,
        )
    definitions = document.get("definitions") or {}
    if not isinstance(definitions, dict) or not all(isinstance(d, dict) for d in definitions.values()):
        raise GitopsGenError("invalid schema file: definitions must be a map of schemas", display)
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if not isinstance(gvk, dict) or not all(isinstance(gvk.get(k), str) for k in ("version", "kind")):
                raise GitopsGenError(
                    f"invalid schema file: {name}: bad x-kubernetes-group-version-kind", display
                )
            gvk.setdefault("group", "")
    table = build_table(definitions)
    types = table["types"]

    def resolved(spec: Any) -> Any:
        # A reference to a definition the file lacks leads nowhere (no schema), as in kyaml.
        if isinstance(spec, str):
            return spec if spec in types else {}
        if isinstance(spec, dict):
            return {k: resolved(v) if k in ("a", "i") else v for k, v in spec.items()} | (
                {"f": {n: resolved(v) for n, v in spec["f"].items()}} if "f" in spec else {}
            )
        return spec

    table["types"] = {name: resolved(spec) for name, spec in types.items()}
    return table


def patch_meta(api_version: str, kind: str) -> Node | None:
    """Merge metadata of a top-level object; None when kustomize has no schema for it."""
    custom = _CUSTOM.get()
    if custom is not None:
        name = custom["gvk"].get(f"{api_version}/{kind}")
        return None if name is None else _node(custom["types"][name], custom["types"])
    return _builtin_meta(api_version, kind)


@cache
def _builtin_meta(api_version: str, kind: str) -> Node | None:
    table = _table()
    api_version = GVK_ALIASES.get((api_version, kind), api_version)
    name = table["gvk"].get(f"{api_version}/{kind}")
    if name is None:
        return None
    return _node(table["types"][name], table["types"])


# --- regeneration from kubernetes-validate -----------------------------------


def _schema_dir() -> Path:
    import kubernetes_validate

    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"{SCHEMA_VERSION}-local"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _types_of(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _merge_keys(schema: dict[str, Any]) -> list[str]:
    # Same precedence as kyaml's PatchStrategyAndKeyList.
    if "x-kubernetes-patch-strategy" not in schema:
        return []
    if "x-kubernetes-list-map-keys" in schema:
        return list(schema["x-kubernetes-list-map-keys"])
    if "x-kubernetes-patch-merge-key" in schema:
        return [schema["x-kubernetes-patch-merge-key"]]
    return []


def compact(schema: dict[str, Any], owner: str = "", field: str = "") -> Spec:
    """The compact form of one JSON schema node (see ``Spec``)."""
    if "$ref" in schema:
        # kyaml resolves a reference and keeps only the target's own data.
        return _ref_name(schema["$ref"])
    out: dict[str, Any] = {}
    if "properties" in schema:
        out["f"] = {name: compact(sub, owner, name) for name, sub in schema["properties"].items()}
    if isinstance(schema.get("additionalProperties"), dict):
        out["a"] = compact(schema["additionalProperties"])
    if "array" in _types_of(schema) and isinstance(schema.get("items"), dict):
        out["i"] = compact(schema["items"])
        if (owner, field) not in KUSTOMIZE_MISSING_FIELDS and "x-kubernetes-patch-strategy" in schema:
            out["s"] = schema["x-kubernetes-patch-strategy"]
            keys = _merge_keys(schema)
            if keys:
                out["k"] = keys
    return out


def build_table(definitions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole compact table from the ``$defs`` of a kubernetes-validate schema."""
    types: dict[str, Any] = {}
    gvk: dict[str, str] = {}
    for name in sorted(definitions):
        schema = definitions[name]
        spec = compact(schema, name)
        types[name] = spec if isinstance(spec, dict) else {"f": {}}
        for g in schema.get("x-kubernetes-group-version-kind", []):
            api_version = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
            gvk[f"{api_version}/{g['kind']}"] = name
    return {"schemaVersion": SCHEMA_VERSION, "gvk": dict(sorted(gvk.items())), "types": types}


def load_definitions() -> dict[str, dict[str, Any]]:
    with (_schema_dir() / "_definitions.json").open(encoding="utf-8") as fh:
        definitions: dict[str, dict[str, Any]] = json.load(fh)["$defs"]
    return definitions


def regenerate() -> None:
    table = build_table(load_definitions())
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    tmp = TABLE_PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(TABLE_PATH)


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit("usage: python -m gitops_gen.kustomize.openapi --regen")
    regenerate()
