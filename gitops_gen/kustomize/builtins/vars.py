"""kustomize's (deprecated) `vars`: $(NAME) in the varReference fields becomes a field of another object.

A kustomization's vars are declared after its transformers ran: each is tied then to the one
object its objref names (by any of its ids); at the very end of the top-level build, after
name references were fixed, every var's field is read from that object and substituted.
"""

from __future__ import annotations

import re
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize import fieldspecs as fsp
from gitops_gen.kustomize.fieldspecs import VarDef, apply_fieldspec
from gitops_gen.kustomize.resource import NOT_NAMESPACEABLE, Resource, split_api_version

VAR_KEYS = {"name", "objref", "fieldref"}
OBJREF_KEYS = {"apiVersion", "group", "version", "kind", "name", "namespace"}


def _fold(node: Any, keys: set[str]) -> Any:
    """Go's JSON decoding matches field names case-insensitively (`fieldpath` is `fieldPath`)."""
    if not isinstance(node, dict):
        return node
    canonical = {k.lower(): k for k in keys}
    return {canonical.get(k.lower(), k) if isinstance(k, str) else k: v for k, v in node.items()}


def parse_vars(entries: list[Any]) -> tuple[VarDef, ...]:
    out = []
    for i, entry in enumerate(entries):
        entry = _fold(entry, VAR_KEYS)
        if not isinstance(entry, dict) or set(entry) - VAR_KEYS:
            raise GitopsGenError(f"vars[{i}] must be a mapping of name, objref and fieldref")
        ref = _fold(entry.get("objref") or {}, OBJREF_KEYS)
        if not isinstance(ref, dict) or set(ref) - OBJREF_KEYS:
            raise GitopsGenError(f"vars[{i}].objref must be a mapping of {', '.join(sorted(OBJREF_KEYS))}")
        group, version = str(ref.get("group") or ""), str(ref.get("version") or "")
        if ref.get("apiVersion"):
            group, version = split_api_version(str(ref["apiVersion"]))
        field_ref = _fold(entry.get("fieldref") or {}, {"fieldPath"})
        field_path = field_ref.get("fieldPath") if isinstance(field_ref, dict) else None
        out.append(
            VarDef(
                str(entry.get("name") or ""),
                group,
                version,
                str(ref.get("kind") or ""),
                str(ref.get("name") or ""),
                str(ref.get("namespace") or ""),
                str(field_path or "metadata.name"),
            )
        )
    return tuple(out)


def attach(resources: list[Resource], declared: tuple[VarDef, ...]) -> None:
    """kustomize's MergeVars: tie each var to the one object its objref names, if there is one now."""
    for var in declared:
        exact_namespace = bool(var.namespace) or var.kind in NOT_NAMESPACEABLE
        matched = [
            res
            for res in resources
            if any(
                i.group == var.group
                and i.version == var.version
                and i.kind == var.kind
                and i.name == var.obj_name
                and (not exact_namespace or i.effective_namespace() == (var.namespace or "default"))
                for i in res.all_ids()
            )
        ]
        if len(matched) > 1:
            raise GitopsGenError(
                f"found {len(matched)} resId matches for var {var.name} (unable to disambiguate)"
            )
        if matched:
            matched[0].ref_vars.append(var.name)


_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")


def _field_value(obj: Any, path: str) -> Any:
    """kyaml's GetFieldValue: dot-separated, `name[N]` or a bare number indexes a list."""
    parts: list[str] = []
    for part in path.split("."):
        m = _INDEXED.match(part)
        if m:
            parts.extend(p for p in (m.group(1), m.group(2)) if p)
        else:
            parts.append(part)
    node = obj
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(path)
    if node is None:
        raise KeyError(path)
    return node


def resolve(resources: list[Resource], config: fsp.Config) -> None:
    """kustomize's ResolveVars: substitute every declared var in the varReference fields."""
    if not config.vars:
        return
    values: dict[str, Any] = {}
    for var in config.vars:
        holder = next((r for r in resources if var.name in r.ref_vars), None)
        if holder is None:
            raise GitopsGenError(
                f"var '{var.name}' cannot be mapped to a field in the set of known resources"
            )
        try:
            values[var.name] = _field_value(holder.obj, var.field_path)
        except KeyError:
            raise GitopsGenError(
                f"field specified in var '{var.name}' ({var.field_path}) not found in corresponding resource"
            ) from None
    for res in resources:
        for spec in config.var_reference:
            apply_fieldspec(res.obj, spec, _setter(values))


def _setter(values: dict[str, Any]) -> fsp.Setter:
    def setter(parent: dict[str, Any], key: str) -> None:
        node = parent[key]
        if isinstance(node, str):
            parent[key] = expand(node, values)
        elif isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str):
                    node[k] = expand(v, values)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if not isinstance(item, str):
                    raise GitopsGenError("invalid value type expect a string")
                node[i] = expand(item, values)

    return setter


def _primitive(values: dict[str, Any], name: str) -> Any:
    value = values.get(name)
    if isinstance(value, str | int | float | bool) and name in values:
        return value
    return f"$({name})"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def expand(text: str, values: dict[str, Any]) -> Any:
    """kustomize's DoReplacements: $(NAME) is replaced, $$ is a literal $; a field that is exactly
    one $(NAME) takes the value with its type (a number stays a number)."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            mapped = _primitive(values, name)
            if text == f"$({name})":
                return mapped
            out.append(_text(mapped))
            i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)
