"""nodeSelector / required node affinity matching (Kubernetes semantics, gpu-reference.md section 5)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_gen.checks.gpu.nodeselect import (
    evaluate,
    first_mismatch,
    has_node_selection,
    matches,
    selector_keys,
)

LABELS = {"pool": "a", "nvidia.com/gpu.count": "8", "nvidia.com/gpu.product": "NVIDIA-L4", "zone": "z1"}
REQ = "requiredDuringSchedulingIgnoredDuringExecution"


def _affinity(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "affinity": {"nodeAffinity": {REQ: {"nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}}}
    }


def _expr(key: str, op: str, *values: Any) -> dict[str, Any]:
    expr: dict[str, Any] = {"key": key, "operator": op}
    if values:
        expr["values"] = list(values)
    return expr


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        (_expr("pool", "In", "a", "b"), True),
        (_expr("pool", "In", "b"), False),
        (_expr("missing", "In", "a"), False),
        (_expr("pool", "NotIn", "b"), True),
        (_expr("pool", "NotIn", "a"), False),
        (_expr("missing", "NotIn", "a"), True),  # absent label satisfies NotIn
        (_expr("pool", "Exists"), True),
        (_expr("missing", "Exists"), False),
        (_expr("pool", "DoesNotExist"), False),
        (_expr("missing", "DoesNotExist"), True),
        (_expr("nvidia.com/gpu.count", "Gt", "4"), True),
        (_expr("nvidia.com/gpu.count", "Gt", "8"), False),
        (_expr("nvidia.com/gpu.count", "Lt", "9"), True),
        (_expr("nvidia.com/gpu.count", "Lt", "8"), False),
        (_expr("nvidia.com/gpu.count", "Gt", 4), True),  # YAML int operand
        (_expr("nvidia.com/gpu.count", "Gt", "4", "5"), False),  # Gt takes exactly one value
        (_expr("nvidia.com/gpu.count", "Gt", "four"), False),
        (_expr("pool", "Gt", "1"), False),  # non-integer label value
        (_expr("missing", "Lt", "1"), False),
        (_expr("pool", "Matches", "a"), False),  # unknown operator
    ],
)
def test_operators(expr: dict[str, Any], result: bool) -> None:
    assert matches(_affinity([expr]), LABELS) is result


def test_node_selector_is_exact_and() -> None:
    assert matches({"nodeSelector": {"pool": "a", "zone": "z1"}}, LABELS)
    assert not matches({"nodeSelector": {"pool": "a", "zone": "z2"}}, LABELS)
    assert not matches({"nodeSelector": {"pool": "A"}}, LABELS)
    assert not matches({"nodeSelector": {"gpu": "true"}}, LABELS)


def test_node_selector_yaml_scalars_compare_as_label_strings() -> None:
    labels = {"spot": "true", "rank": "3"}
    assert matches({"nodeSelector": {"spot": True, "rank": 3}}, labels)


def test_no_selection_matches_everything() -> None:
    assert matches({}, {})
    assert matches({"containers": []}, LABELS)
    assert not has_node_selection({"nodeSelector": {}})
    assert has_node_selection({"nodeSelector": {"a": "b"}})
    assert has_node_selection(_affinity([_expr("a", "Exists")]))


def test_terms_are_ored_and_expressions_anded() -> None:
    spec = _affinity([_expr("pool", "In", "x")], [_expr("pool", "In", "a"), _expr("zone", "In", "z1")])
    assert matches(spec, LABELS)
    spec = _affinity([_expr("pool", "In", "x")], [_expr("pool", "In", "a"), _expr("zone", "In", "z2")])
    assert not matches(spec, LABELS)


def test_node_selector_and_affinity_must_both_match() -> None:
    spec = {"nodeSelector": {"pool": "a"}, **_affinity([_expr("zone", "In", "z2")])}
    assert not matches(spec, LABELS)
    spec = {"nodeSelector": {"pool": "b"}, **_affinity([_expr("zone", "In", "z1")])}
    assert not matches(spec, LABELS)
    spec = {"nodeSelector": {"pool": "a"}, **_affinity([_expr("zone", "In", "z1")])}
    assert matches(spec, LABELS)


def test_empty_and_match_fields_terms() -> None:
    empty_terms = {"affinity": {"nodeAffinity": {REQ: {"nodeSelectorTerms": []}}}}
    assert not matches(empty_terms, LABELS)
    empty_term = {"affinity": {"nodeAffinity": {REQ: {"nodeSelectorTerms": [{}]}}}}
    assert not matches(empty_term, LABELS)
    fields_only = {
        "affinity": {
            "nodeAffinity": {
                REQ: {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
                    ]
                }
            }
        }
    }
    assert matches(fields_only, LABELS)  # matchFields names nodes; ignored
    with_fields = {
        "affinity": {
            "nodeAffinity": {
                REQ: {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [_expr("pool", "In", "b")],
                            "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}],
                        }
                    ]
                }
            }
        }
    }
    assert not matches(with_fields, LABELS)


def test_preferred_affinity_is_ignored() -> None:
    spec = {
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 1, "preference": {"matchExpressions": [_expr("pool", "In", "zzz")]}}
                ]
            }
        }
    }
    assert matches(spec, LABELS)
    assert not has_node_selection(spec)


def test_three_valued_evaluation_with_unknown_keys() -> None:
    def unknown(key: str) -> bool:
        return key.startswith("nvidia.com/")

    spec = {"nodeSelector": {"nvidia.com/gpu.family": "ampere"}}
    assert evaluate(spec, {}, unknown) is None
    assert evaluate(spec, {}) is False
    # A known failing requirement decides regardless of unknown ones.
    spec = {"nodeSelector": {"nvidia.com/gpu.family": "ampere", "pool": "b"}}
    assert evaluate(spec, LABELS, unknown) is False
    # Keys present in the label set are always exact, even if "unknown".
    assert evaluate({"nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"}}, LABELS, unknown) is True
    # One term true wins over an unknown term; unknown beats false.
    spec = _affinity([_expr("nvidia.com/x", "Exists")], [_expr("pool", "In", "a")])
    assert evaluate(spec, LABELS, unknown) is True
    spec = _affinity([_expr("nvidia.com/x", "Exists")], [_expr("pool", "In", "b")])
    assert evaluate(spec, LABELS, unknown) is None


def test_first_mismatch_paths() -> None:
    assert first_mismatch({"nodeSelector": {"pool": "a"}}, LABELS) is None
    m = first_mismatch({"nodeSelector": {"zone": "z1", "pool": "b"}}, LABELS)
    assert m is not None and m.path == ("nodeSelector", "pool")
    assert "'b'" in m.reason and "'a'" in m.reason
    spec = _affinity([_expr("pool", "Exists"), _expr("zone", "NotIn", "z1")], [_expr("pool", "In", "c")])
    m = first_mismatch(spec, LABELS)
    assert m is not None
    assert m.path == ("affinity", "nodeAffinity", REQ, "nodeSelectorTerms", 0, "matchExpressions", 1)
    m = first_mismatch({"affinity": {"nodeAffinity": {REQ: {"nodeSelectorTerms": []}}}}, LABELS)
    assert m is not None and m.path == ("affinity", "nodeAffinity", REQ, "nodeSelectorTerms")


def test_first_mismatch_skips_unknown_keys() -> None:
    spec = {"nodeSelector": {"nvidia.com/gpu.family": "ampere", "pool": "b"}}
    m = first_mismatch(spec, LABELS, lambda k: k.startswith("nvidia.com/"))
    assert m is not None and m.path == ("nodeSelector", "pool")


def test_selector_keys() -> None:
    spec = {"nodeSelector": {"a": "1", "b": "2"}, **_affinity([_expr("b", "Exists"), _expr("c", "Exists")])}
    assert selector_keys(spec) == ["a", "b", "c"]


_label = st.text(alphabet="abcdefgh.-/", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_label, _label, min_size=1, max_size=6), st.data())
def test_selector_from_own_labels_matches_and_changed_value_does_not(
    labels: dict[str, str], data: Any
) -> None:
    chosen = data.draw(st.lists(st.sampled_from(sorted(labels)), min_size=1, unique=True))
    selector = {k: labels[k] for k in chosen}
    assert matches({"nodeSelector": selector}, labels)
    assert matches(_affinity([_expr(k, "In", v) for k, v in selector.items()]), labels)
    changed = dict(selector)
    changed[chosen[0]] = labels[chosen[0]] + "x"
    assert not matches({"nodeSelector": changed}, labels)
    assert matches(_affinity([_expr(chosen[0], "NotIn", changed[chosen[0]])]), labels)
