"""Table-driven feasibility cases: tests/data/feasibility/<case>/{pools,objects,expected}.yaml.

Expected findings are written by hand from gpu-reference.md; each lists rule,
severity, obj and field exactly, and optionally substrings its message must contain.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_gen.checks.gpu.feasibility import Finding, check_cluster, iter_rules, parse_quantity
from gitops_gen.checks.validate import ObjectMemo

CASES = Path(__file__).parents[2] / "data" / "feasibility"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _load(path: Path) -> Any:
    with path.open() as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)


def _objects(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        docs = list(yaml.load_all(f, Loader=yaml.CSafeLoader))
    out: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, list):
            out.extend(doc)
        elif doc is not None:
            out.append(doc)
    return out


def _key(rule: str, severity: str, obj: Any, field: Any) -> tuple[Any, ...]:
    return (rule, severity, tuple(obj), tuple(field))


def _finding_key(f: Finding) -> tuple[Any, ...]:
    return _key(f.rule, f.severity, f.obj, f.field)


def test_enough_cases() -> None:
    assert len(CASE_NAMES) >= 25


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "with validate's content keys"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_case(case: str, keyed: bool) -> None:
    directory = CASES / case
    pools = _load(directory / "pools.yaml")
    objects = _objects(directory / "objects.yaml")
    expected = _load(directory / "expected.yaml")["findings"]

    # validate hands over each object's marshal bytes: objects naming no nvidia.com/ string are skipped,
    # and each object's workloads are carried to the next cluster, which must find the same.
    memo = ObjectMemo()
    findings = check_cluster(objects, pools, key=memo.key if keyed else None, seen=memo.workloads)
    if keyed:
        assert check_cluster(objects, pools, key=memo.key, seen=memo.workloads) == findings

    got = sorted((_finding_key(f) for f in findings), key=repr)
    want = sorted((_key(e["rule"], e["severity"], e["obj"], e["field"]) for e in expected), key=repr)
    assert got == want, "\n".join(f"{f.rule} {f.obj} {f.field}: {f.message}" for f in findings)
    for entry in expected:
        key = _key(entry["rule"], entry["severity"], entry["obj"], entry["field"])
        messages = [f.message for f in findings if _finding_key(f) == key]
        for needle in entry.get("message", []):
            assert any(needle in m for m in messages), f"{needle!r} not in {messages}"


def test_workloads_carried_between_clusters_take_each_clusters_autoscalers() -> None:
    directory = CASES / "capacity-rollout"
    pools = _load(directory / "pools.yaml")
    objects = _objects(directory / "objects.yaml")
    without_hpas = [o for o in objects if o.get("kind") != "HorizontalPodAutoscaler"]
    assert len(without_hpas) < len(objects)
    alone = check_cluster(without_hpas, pools, key=ObjectMemo().key)
    memo = ObjectMemo()
    with_hpas = check_cluster(objects, pools, key=memo.key, seen=memo.workloads)
    assert memo.workloads
    assert check_cluster(without_hpas, pools, key=memo.key, seen=memo.workloads) == alone != with_hpas


def test_every_rule_is_exercised_by_a_case() -> None:
    used = set()
    for case in CASE_NAMES:
        for entry in _load(CASES / case / "expected.yaml")["findings"]:
            used.add(entry["rule"])
    assert set(iter_rules()) <= used, set(iter_rules()) - used


def test_findings_are_frozen_and_well_formed() -> None:
    directory = CASES / "daemonset-capacity"
    findings = check_cluster(_objects(directory / "objects.yaml"), _load(directory / "pools.yaml"))
    assert findings
    for f in findings:
        assert f.severity in ("error", "warning")
        assert f.rule in set(iter_rules())
        with pytest.raises(AttributeError):
            f.rule = "x"  # type: ignore[misc]


def test_malformed_input_does_not_raise() -> None:
    objects: list[Any] = [
        None,
        "text",
        {"kind": "Deployment", "apiVersion": "apps/v1"},
        {"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"template": {"spec": {"containers": "x"}}}},
        {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [None, {"resources": {"limits": ["nvidia.com/gpu"]}}],
                "nodeSelector": "x",
            },
        },
    ]
    pools: list[Any] = [
        {"name": "p", "nodes": "two", "gpu": "A100"},
        "junk",
        {"name": "q", "nodes": 1, "gpu": {"count": 2}},
    ]
    findings = check_cluster(objects, pools)
    assert [f.rule for f in findings] == ["gpu-pool-config-invalid"]


def test_pod_without_selector_uses_any_pool_and_message_names_pools() -> None:
    pools = [{"name": "big", "nodes": 1, "gpu": {"product": "NVIDIA-L40S", "count": 8}}]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 9}}}]},
    }
    (finding,) = check_cluster([pod], pools)
    assert finding.obj == ("Pod", "", "p")
    assert "big: 8 per node" in finding.message


def test_capacity_with_many_candidate_sets_stays_fast_and_sound() -> None:
    # 14 pools, each workload pinned to one: more candidate sets than the union enumeration limit (10).
    pools = [
        {"name": f"p{i}", "nodes": 1, "labels": {"pool": str(i)}, "gpu": {"product": "NVIDIA-L4", "count": 2}}
        for i in range(14)
    ]
    objects = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"d{i}"},
            "spec": {
                "replicas": 3 if i == 5 else 2,
                "template": {
                    "spec": {
                        "nodeSelector": {"pool": str(i)},
                        "containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}],
                    }
                },
            },
        }
        for i in range(14)
    ]
    findings = check_cluster(objects, pools)
    assert [(f.rule, f.obj[2]) for f in findings if f.rule != "gpu-capacity-rollout"] == [
        ("gpu-capacity-exceeded", "d5")
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (1, Fraction(1)),
        ("1", Fraction(1)),
        ("500m", Fraction(1, 2)),
        ("2000m", Fraction(2)),
        (0.5, Fraction(1, 2)),
        (1.0, Fraction(1)),
        ("1k", Fraction(1000)),
        ("1Ki", Fraction(1024)),
        ("1e3", Fraction(1000)),
        ("1E", Fraction(10**18)),
        (".5", Fraction(1, 2)),
        ("+2", Fraction(2)),
        ("-1", Fraction(-1)),
        ("one", None),
        ("1 GPU", None),
        ("", None),
        (True, None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_parse_quantity(raw: Any, value: Fraction | None) -> None:
    assert parse_quantity(raw) == value


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_parse_quantity_milli_roundtrip(n: int) -> None:
    assert parse_quantity(f"{n}m") == Fraction(n, 1000)
    assert parse_quantity(str(n)) == n
