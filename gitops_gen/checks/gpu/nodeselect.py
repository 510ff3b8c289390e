"""Does a pod's nodeSelector / required node affinity select a node with these labels?

Kubernetes semantics (gpu-reference.md section 5): ``nodeSelector`` is an AND of
exact matches; ``nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution``
ORs its ``nodeSelectorTerms`` and ANDs the ``matchExpressions`` inside a term;
when both are set both must hold. ``preferred...`` affinity never prevents
scheduling, so it is ignored.

``matchFields`` (only ``metadata.name`` exists) selects individual nodes, which a
node-pool inventory cannot name: its requirements are ignored, i.e. treated as
satisfied, and a term made only of ``matchFields`` matches.

Evaluation is three-valued so that callers can say which label keys they cannot
know (labels written by GFD or the kubelet that the inventory does not model):
a requirement on such a key is ``None`` (unknown) and the result is ``True``,
``False`` or ``None`` (would match if the unknown labels are favourable).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_gen.repo.yamlio import NodePath

UnknownKey = Callable[[str], bool]

_REQUIRED: NodePath = ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
# Kubernetes parses Gt/Lt operands with strconv.ParseInt: optional sign, digits only.
_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Mismatch:
    """The first requirement that rules a node out.

    ``path`` is relative to the pod spec, e.g. ``("nodeSelector", "pool")`` or
    ``("affinity", "nodeAffinity", ..., "nodeSelectorTerms", 0, "matchExpressions", 1)``.
    """

    path: NodePath
    reason: str


def label_value(value: Any) -> str:
    """A YAML scalar as the string a Kubernetes label would hold (``true`` not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _never(_key: str) -> bool:
    return False


def matches(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """True when a node with exactly ``labels`` satisfies the pod's node selection."""
    return evaluate(pod_spec, labels) is True


def has_node_selection(pod_spec: Mapping[str, Any]) -> bool:
    """True when the pod restricts nodes at all (nodeSelector or required affinity)."""
    return bool(_node_selector(pod_spec)) or _required_terms(pod_spec) is not None


def evaluate(
    pod_spec: Mapping[str, Any], labels: Mapping[str, str], unknown: UnknownKey = _never
) -> bool | None:
    """Three-valued match: ``None`` when the answer depends on keys for which ``unknown(key)``.

    A key present in ``labels`` is always evaluated exactly; ``unknown`` is only
    consulted for keys the label set lacks.
    """
    return _and(_evaluate_parts(pod_spec, labels, unknown))


def first_mismatch(
    pod_spec: Mapping[str, Any], labels: Mapping[str, str], unknown: UnknownKey = _never
) -> Mismatch | None:
    """Why the node is ruled out: the first definitely failing requirement, or None when it is not.

    nodeSelector entries are checked first; for affinity, the first failing
    expression of the first term (all terms fail when the node is ruled out).
    """
    if evaluate(pod_spec, labels, unknown) is not False:
        return None
    for key, want in _node_selector(pod_spec).items():
        if _selector_entry(str(key), want, labels, unknown) is False:
            have = labels.get(str(key))
            got = "absent" if have is None else f"{have!r}"
            return Mismatch(
                ("nodeSelector", str(key)), f"nodeSelector {key}={label_value(want)!r}, node has {got}"
            )
    terms = _required_terms(pod_spec)
    if terms is None:
        return None  # unreachable: evaluate() was False
    if not terms:
        return Mismatch((*_REQUIRED, "nodeSelectorTerms"), "nodeSelectorTerms is empty and matches no node")
    for ti, term in enumerate(terms):
        for ei, expr in enumerate(_expressions(term)):
            if _requirement(expr, labels, unknown) is False:
                path: NodePath = (*_REQUIRED, "nodeSelectorTerms", ti, "matchExpressions", ei)
                return Mismatch(path, _describe(expr, labels))
        if _term(term, labels, unknown) is False:
            return Mismatch((*_REQUIRED, "nodeSelectorTerms", ti), "empty nodeSelectorTerm matches no node")
    return None


def selector_keys(pod_spec: Mapping[str, Any]) -> list[str]:
    """Every label key the pod's required node selection mentions, in order, without repeats."""
    keys: list[str] = [str(k) for k in _node_selector(pod_spec)]
    for term in _required_terms(pod_spec) or []:
        for expr in _expressions(term):
            key = expr.get("key")
            if isinstance(key, str):
                keys.append(key)
    return list(dict.fromkeys(keys))


def _evaluate_parts(
    pod_spec: Mapping[str, Any], labels: Mapping[str, str], unknown: UnknownKey
) -> list[bool | None]:
    parts = [_selector_entry(str(k), v, labels, unknown) for k, v in _node_selector(pod_spec).items()]
    terms = _required_terms(pod_spec)
    if terms is not None:
        parts.append(_or([_term(t, labels, unknown) for t in terms]))
    return parts


def _node_selector(pod_spec: Mapping[str, Any]) -> Mapping[str, Any]:
    selector = pod_spec.get("nodeSelector")
    return selector if isinstance(selector, Mapping) else {}


def _required_terms(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The required terms, or None when there is no required node affinity."""
    node: Any = pod_spec
    for key in _REQUIRED:
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return None
    terms = node.get("nodeSelectorTerms")
    if not isinstance(terms, list):
        # An empty required selector is rejected by the API server; matching nothing is its intent.
        return []
    return [t if isinstance(t, Mapping) else {} for t in terms]


def _expressions(term: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    exprs = term.get("matchExpressions")
    if not isinstance(exprs, list):
        return []
    return [e if isinstance(e, Mapping) else {} for e in exprs]


def _selector_entry(key: str, want: Any, labels: Mapping[str, str], unknown: UnknownKey) -> bool | None:
    if key in labels:
        return labels[key] == label_value(want)
    return None if unknown(key) else False


def _term(term: Mapping[str, Any], labels: Mapping[str, str], unknown: UnknownKey) -> bool | None:
    exprs = _expressions(term)
    fields = term.get("matchFields")
    if not exprs:
        # Kubernetes: an empty term matches nothing; a matchFields-only term names nodes we cannot see.
        return isinstance(fields, list) and bool(fields)
    return _and([_requirement(e, labels, unknown) for e in exprs])


def _requirement(expr: Mapping[str, Any], labels: Mapping[str, str], unknown: UnknownKey) -> bool | None:
    key = expr.get("key")
    op = expr.get("operator")
    raw = expr.get("values")
    values = [label_value(v) for v in raw] if isinstance(raw, list) else []
    if not isinstance(key, str):
        return False
    if key not in labels and unknown(key):
        return None
    have = labels.get(key)
    if op == "In":
        return have is not None and have in values
    if op == "NotIn":
        return have is None or have not in values
    if op == "Exists":
        return have is not None
    if op == "DoesNotExist":
        return have is None
    if op in ("Gt", "Lt"):
        if have is None or len(values) != 1 or not _INT.fullmatch(have) or not _INT.fullmatch(values[0]):
            return False
        return int(have) > int(values[0]) if op == "Gt" else int(have) < int(values[0])
    return False  # unknown operator: the API server rejects it, so no node can match


def _describe(expr: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    key = expr.get("key")
    have = labels.get(key) if isinstance(key, str) else None
    got = "absent" if have is None else f"{have!r}"
    values = expr.get("values")
    shown = f" {[label_value(v) for v in values]}" if isinstance(values, list) else ""
    return f"{key} {expr.get('operator')}{shown}, node has {got}"


def _and(parts: list[bool | None]) -> bool | None:
    if any(p is False for p in parts):
        return False
    return None if any(p is None for p in parts) else True


def _or(parts: list[bool | None]) -> bool | None:
    if any(p is True for p in parts):
        return True
    return None if any(p is None for p in parts) else False
