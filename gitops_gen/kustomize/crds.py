"""The kustomization `crds` field: OpenAPI definitions that teach the transformers about custom kinds.

A `crds` file is not a CustomResourceDefinition manifest: kustomize v5.5 reads it as a map
from Go type name to ``{Schema, Dependencies}`` (what openapi-gen writes). Each type whose
schema has apiVersion, kind and metadata properties is a kind (the type name's last dotted
part); its properties, followed through ``$ref`` into other types of the file, add field specs
where they carry kustomize's extensions:

- ``x-kubernetes-annotation``: commonAnnotations set it;
- ``x-kubernetes-label-selector``: commonLabels set it;
- ``x-kubernetes-identity``: namePrefix renames it;
- ``x-kubernetes-object-ref-api-version`` + ``-kind`` (+ ``-name-key``, default ``name``): a name
  reference to that kind, fixed up when the referred object is renamed.

Anything else in a file that is a map of such entries is ignored, as kustomize ignores it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.fieldspecs import (
    DEFAULT_CONFIG,
    Config,
    FieldSpec,
    Gvk,
    merge_name_references,
    merge_specs,
)
from gitops_gen.repo import yamlio

ANNOTATION = "x-kubernetes-annotation"
LABEL_SELECTOR = "x-kubernetes-label-selector"
IDENTITY = "x-kubernetes-identity"
REF_VERSION = "x-kubernetes-object-ref-api-version"
REF_KIND = "x-kubernetes-object-ref-kind"
REF_NAME_KEY = "x-kubernetes-object-ref-name-key"
# Deeper than any real schema; kustomize itself recurses without a bound.
MAX_DEPTH = 64


def _field(node: dict[str, Any], name: str) -> Any:
    """encoding/json matches struct fields case-insensitively; an exact match wins."""
    if name in node:
        return node[name]
    lowered = name.lower()
    return next((v for k, v in node.items() if isinstance(k, str) and k.lower() == lowered), None)


def parse(raw: bytes, display: str) -> dict[str, dict[str, Any]]:
    """The type name -> schema map of one file (JSON when it starts with '{', else YAML)."""
    where = f"unable to parse open API definition from {display!r}"
    if raw[:1] == b"{":
        try:
            data = json.loads(raw)
        except ValueError as err:
            raise GitopsGenError(f"{where}: {err}", display) from None
    else:
        docs = yamlio.load_documents(raw, display)
        data = docs[0] if docs else None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, dict | None) for v in data.values()):
        raise GitopsGenError(
            f"{where}: not a map of Go type names to OpenAPI definitions (kustomize reads no "
            "CustomResourceDefinition manifests here)",
            display,
        )
    out: dict[str, dict[str, Any]] = {}
    for name, definition in data.items():
        schema = _field(definition or {}, "Schema")
        out[str(name)] = schema if isinstance(schema, dict) else {}
    return out


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    props = _field(schema, "properties")
    return props if isinstance(props, dict) else {}


def _extension(prop: dict[str, Any], key: str) -> str | None:
    """spec.Extensions.GetString: the extension's value when it is a string."""
    value = next((v for k, v in prop.items() if isinstance(k, str) and k.lower() == key), None)
    return value if isinstance(value, str) else None


def config_of(types: dict[str, dict[str, Any]]) -> Config:
    """The field specs the definitions add, on top of kustomize's builtin ones."""
    found: dict[str, list[FieldSpec]] = {"annotations": [], "labels": [], "prefix": []}
    refs: list[tuple[Gvk, tuple[FieldSpec, ...]]] = []
    for name, schema in types.items():
        props = _properties(schema)
        if not all(k in props for k in ("kind", "apiVersion", "metadata")):
            continue
        kind = Gvk(kind=name.split(".")[-1])
        _walk(types, name, kind, (), found, refs, 0)
    changes: dict[str, Any] = {}
    for attr, key in (
        ("common_annotations", "annotations"),
        ("common_labels", "labels"),
        ("name_prefix", "prefix"),
    ):
        if found[key]:
            changes[attr] = merge_specs(getattr(DEFAULT_CONFIG, attr), found[key])
    if refs:
        changes["name_reference"] = merge_name_references(DEFAULT_CONFIG.name_reference, tuple(refs))
    return replace(DEFAULT_CONFIG, **changes) if changes else DEFAULT_CONFIG


def _walk(
    types: dict[str, dict[str, Any]],
    name: str,
    kind: Gvk,
    path: tuple[str, ...],
    found: dict[str, list[FieldSpec]],
    refs: list[tuple[Gvk, tuple[FieldSpec, ...]]],
    depth: int,
) -> None:
    schema = types.get(name)
    if schema is None or depth > MAX_DEPTH:
        return
    for prop_name, prop in _properties(schema).items():
        if not isinstance(prop, dict):
            continue
        here = (*path, str(prop_name))
        spec = FieldSpec("/".join(here), kind)
        if _extension(prop, ANNOTATION) is not None:
            found["annotations"].append(spec)
        if _extension(prop, LABEL_SELECTOR) is not None:
            found["labels"].append(spec)
        if _extension(prop, IDENTITY) is not None:
            found["prefix"].append(spec)
        version, ref_kind = _extension(prop, REF_VERSION), _extension(prop, REF_KIND)
        if version is not None and ref_kind is not None:
            key = _extension(prop, REF_NAME_KEY) or "name"
            refs.append((Gvk(version=version, kind=ref_kind), (FieldSpec("/".join((*here, key)), kind),)))
        ref = _field(prop, "$ref")
        if isinstance(ref, str) and ref:
            _walk(types, ref, kind, here, found, refs, depth + 1)
