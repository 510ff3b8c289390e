"""kustomize's resource selection (``ResMap.Select``): patch targets and label/annotation selectors.

Its own module because the engine and the builtins (replacements) both select, and neither
should import the other for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.resource import Resource


def string_map(mapping: dict[str, Any]) -> dict[str, str]:
    """Label and annotation values as kustomize's map[string]string decoding produces them."""
    out = {}
    for k, v in mapping.items():
        if isinstance(v, bool):
            out[str(k)] = "true" if v else "false"
        elif v is None:
            out[str(k)] = ""
        else:
            out[str(k)] = str(v)
    return out


# The fields of a kustomize selector (patch target, replacement select/reject), in kustomize's order.
SELECTOR_KEYS = ("group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")


def select(ra: list[Resource], target: dict[str, Any]) -> list[Resource]:
    """kustomize's ResMap.Select for a patch target (anchored regexes, label/annotation selectors)."""
    unknown = set(target) - set(SELECTOR_KEYS)
    if unknown:
        raise GitopsGenError(f"unknown field {sorted(unknown)[0]!r} in patch target")

    def rx(key: str) -> re.Pattern[str] | None:
        value = target.get(key)
        if value in (None, ""):
            return None
        try:
            return re.compile(f"(?:{value})")
        except re.error as e:
            raise GitopsGenError(f"bad regular expression in target.{key}: {e}") from None

    group, version, kind, name, ns = rx("group"), rx("version"), rx("kind"), rx("name"), rx("namespace")
    labels = parse_selector(target.get("labelSelector"))
    annotations = parse_selector(target.get("annotationSelector"))
    out = []
    for res in ra:
        cur, org = res.cur_id(), res.org_id()
        if ns is not None and not (
            ns.fullmatch(org.effective_namespace()) or ns.fullmatch(cur.effective_namespace())
        ):
            continue
        if name is not None and not (name.fullmatch(org.name) or name.fullmatch(cur.name)):
            continue
        g, v, k = res.gvk()
        if (
            (group is not None and not group.fullmatch(g))
            or (version is not None and not version.fullmatch(v))
            or (kind is not None and not kind.fullmatch(k))
        ):
            continue
        if labels is not None and not labels(string_map(res.labels())):
            continue
        if annotations is not None and not annotations(string_map(res.annotations())):
            continue
        out.append(res)
    return out


_REQ = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<nkey>[^\s,=!()]+)"
    r"|(?P<key>[^\s,=!()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<set>[^)]*)\))?)\s*(?:,|$)"
)


Requirement = Callable[[dict[str, str]], bool]


def _requirement(key: str, op: str, values: frozenset[str]) -> Requirement:
    def check(labels: dict[str, str]) -> bool:
        if op == "exists":
            return key in labels
        if op == "!exists":
            return key not in labels
        if op in ("=", "in"):
            return labels.get(key) in values
        return labels.get(key) not in values  # != and notin

    return check


def parse_selector(text: Any) -> Requirement | None:
    """A Kubernetes label selector string ("a=b,c!=d,e in (x,y),!f,g") as a predicate."""
    if text in (None, ""):
        return None
    if not isinstance(text, str):
        raise GitopsGenError("label/annotation selector must be a string")
    reqs: list[Requirement] = []
    pos = 0
    while pos < len(text):
        m = _REQ.match(text, pos)
        if not m or m.end() == pos:
            raise GitopsGenError(f"unable to parse selector {text!r}")
        pos = m.end()
        if m.group("nkey"):
            reqs.append(_requirement(m.group("nkey"), "!exists", frozenset()))
        elif m.group("op"):
            op = "!=" if m.group("op") == "!=" else "="
            reqs.append(_requirement(m.group("key"), op, frozenset({m.group("val")})))
        elif m.group("setop"):
            values = frozenset(v.strip() for v in m.group("set").split(",") if v.strip())
            reqs.append(_requirement(m.group("key"), m.group("setop"), values))
        else:
            reqs.append(_requirement(m.group("key"), "exists", frozenset()))
    return lambda labels: all(r(labels) for r in reqs)
