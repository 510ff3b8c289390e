"""`gitops-gen explain`: the chain of files and lines that set one field of a rendered object."""

from __future__ import annotations

import difflib
import re
from typing import Any

from gitops_gen.applied.view import applied_view
from gitops_gen.errors import GitopsGenError, UsageError
from gitops_gen.fleet.render import select_clusters
from gitops_gen.kustomize.build import Engine
from gitops_gen.kustomize.resource import Resource
from gitops_gen.provenance.provenance import (
    MISSING,
    FieldPath,
    Locator,
    Sel,
    Setter,
    chain,
    format_field,
    get,
    leaves,
    parse_field,
    rejoin_keys,
)
from gitops_gen.repo.tree import Tree

_LAYER = re.compile(r"^apps/[^/]+/([^/]+)/([^/]+)/")


def find_object(resources: list[Resource], ref: str) -> Resource:
    """KIND/NAME or KIND/NAMESPACE/NAME; the name may be the final or the original one."""
    parts = ref.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"object {ref!r} must be KIND/NAME or KIND/NAMESPACE/NAME")
    kind, name = parts[0], parts[-1]
    namespace = parts[1] if len(parts) == 3 else None
    matches = [
        r
        for r in resources
        if r.kind.lower() == kind.lower()
        and (namespace is None or r.namespace == namespace)
        and name in (r.name, r.org_id().name)
    ]
    if len(matches) == 1:
        return matches[0]
    names = sorted(f"{r.kind}/{r.namespace + '/' if r.namespace else ''}{r.name}" for r in resources)
    if matches:
        raise UsageError(
            f"{ref} is ambiguous: {', '.join(names[:10])}; add the namespace (KIND/NAMESPACE/NAME)"
        )
    near = difflib.get_close_matches(ref, names, n=3, cutoff=0.3) or names[:5]
    raise UsageError(f"no object {ref} in this cluster; nearby: {', '.join(near)}")


def layer_of(path: str, layers: list[str]) -> str:
    m = _LAYER.match(path)
    if not m:
        return ""
    layer, value = m.groups()
    if layer == "base":
        return "base"
    if layer in (*layers, "cluster"):
        return f"layer {layer}={value}"
    return ""


def describe(setter: Setter) -> str:
    if setter.origin_kind == "transformer":
        return (
            f"{setter.text}   [{setter.field} transformer]"
            if setter.text
            else f"[{setter.field} transformer]"
        )
    if setter.origin_kind == "generator":
        return setter.text or f"[{setter.field or 'generator'}]"
    if setter.origin_kind == "helm-template":
        return f"{setter.text}   [set by template]" if setter.text else "[set by template]"
    if setter.origin_kind == "helm-computed":
        return f"{setter.text}   [{setter.field}, through the template]"
    if setter.origin_kind == "helm-key":
        return f"{setter.text}   [{setter.field}]"
    if setter.origin_kind == "helm-values":
        return f"{setter.text}   [{setter.field}]"
    return setter.text


def explain(tree: Tree, cluster: str, ref: str, field: str) -> dict[str, Any]:
    select_clusters(tree, [cluster])
    engine = Engine(tree, trace=True, warnings=False)
    resources = applied_view(tree, engine, cluster, engine.build(f"mapping/{cluster}")).resources
    res = find_object(resources, ref)
    path = rejoin_keys(res.obj, parse_field(field))
    value = get(res.obj, path)
    if value is MISSING:
        raise UsageError(f"{res.kind}/{res.name} has no field {format_field(path)}{_hint(res.obj, path)}")
    layers = _config_layers(tree)
    locator = Locator(tree)
    entries: list[dict[str, Any]] = []
    sub_paths: list[FieldPath] = (
        [path] if not isinstance(value, dict | list) else [(*path, *rest) for rest in leaves(value)]
    )
    for sub in sub_paths:
        setters = chain(res, sub, locator)
        last = winners(setters)
        for s in reversed(setters):
            status = "overridden" if id(s) not in last else "key" if s.origin_kind == "helm-key" else "wins"
            entries.append(
                {
                    "field": format_field(sub),
                    "file": s.path,
                    "line": s.line,
                    "value": s.value,
                    "source": describe(s),
                    "status": status,
                    "layer": layer_of(s.path, layers),
                    "kind": s.origin_kind,
                }
            )
    return {
        "cluster": cluster,
        "object": f"{res.kind}/{res.name}",
        "namespace": res.namespace,
        "field": format_field(path),
        "value": value,
        "setters": entries,
    }


def winners(setters: list[Setter]) -> set[int]:
    """Ids of the setters whose value survived: the last one, or with a Helm chart, the last per values
    key (a template may join several) and per role (a key may name the field, "helm-key")."""
    last: dict[tuple[bool, str], Setter] = {}
    for s in setters:
        if s.origin_kind.startswith("helm-") or not last:
            last[(s.origin_kind == "helm-key", s.key)] = s
        else:
            last = {(False, ""): s}  # a later patch replaces what the chart rendered
    return {id(s) for s in last.values()}


def _hint(obj: Any, path: FieldPath) -> str:
    """What exists where the path stops matching: the keys of a map, or the entries of a list."""
    for depth in range(len(path)):
        if get(obj, path[: depth + 1]) is MISSING:
            parent = get(obj, path[:depth]) if depth else obj
            step = path[depth]
            if isinstance(parent, dict):
                return f"; fields at {format_field(path[:depth]) or 'the top'}: {', '.join(sorted(map(str, parent))[:12])}"
            if isinstance(parent, list):
                key = step.key if isinstance(step, Sel) else "name"
                names = [str(i.get(key)) for i in parent if isinstance(i, dict) and key in i]
                entries = f"{key} in {', '.join(names)}" if names else f"{len(parent)} entries"
                return f"; {format_field(path[:depth])} has {entries}"
            return ""
    return ""


def _config_layers(tree: Tree) -> list[str]:
    try:
        from gitops_gen.fleet.inventory import load_fleet

        return list(load_fleet(tree).config.layers)
    except GitopsGenError:  # a broken inventory only costs the layer names in the output
        return []
