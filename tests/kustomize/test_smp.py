"""Strategic merge against outputs recorded from kubectl kustomize (tests/data/smp/).

Each case directory holds base.yaml, patch.yaml and what the oracle printed
for ``resources: [base.yaml]`` + ``patches: [{path: patch.yaml}]``:
expected.yaml, or expected.error when kustomize refused the patch.
Regenerate with ``tests/data/smp/regen.py``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.openapi import patch_meta
from gitops_gen.kustomize.smp import QuotedStr, apply_patch, element_setter, merge, raw_text

DATA = Path(__file__).parents[1] / "data" / "smp"
CASES = sorted(p.parent.name for p in DATA.glob("*/patch.yaml"))


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def expected_docs(case: str) -> list[dict[str, Any]]:
    text = (DATA / case / "expected.yaml").read_text(encoding="utf-8")
    return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        assert (DATA / case / "expected.yaml").exists() != (DATA / case / "expected.error").exists(), case


@pytest.mark.parametrize("case", CASES)
def test_case_matches_kubectl(case: str) -> None:
    base, patch = load(DATA / case / "base.yaml"), load(DATA / case / "patch.yaml")
    if (DATA / case / "expected.error").exists():
        with pytest.raises(GitopsGenError):
            apply_patch(base, patch)
        return
    got = apply_patch(base, patch)
    # Python list equality checks element order, which is what kustomize decides;
    # map key order is the serialiser's business (kustomize sorts keys).
    assert ([got] if got is not None else []) == expected_docs(case)


@pytest.mark.parametrize("case", CASES)
def test_case_does_not_mutate_inputs(case: str) -> None:
    base, patch = load(DATA / case / "base.yaml"), load(DATA / case / "patch.yaml")
    base_before, patch_before = copy.deepcopy(base), copy.deepcopy(patch)
    with contextlib.suppress(GitopsGenError):
        merge(base, patch, patch_meta(base["apiVersion"], base["kind"]))
    assert base == base_before
    assert patch == patch_before


@pytest.mark.parametrize("case", CASES)
def test_case_consume_base_matches_default(case: str) -> None:
    # The recorded cases include untouched subtrees kyaml still rewrites
    # (untouched-*), which the fast path must notice.
    base, patch = load(DATA / case / "base.yaml"), load(DATA / case / "patch.yaml")
    meta = patch_meta(base["apiVersion"], base["kind"])
    want = _outcome(lambda: merge(base, patch, meta))
    patch_before = copy.deepcopy(patch)
    got = _outcome(lambda: merge(copy.deepcopy(base), patch, meta, consume_base=True))
    assert got == want
    assert patch == patch_before
    if isinstance(got, dict):
        assert _shared_nodes(got) == 0


def _dump_all() -> Any:
    try:
        emit = importlib.import_module("gitops_gen.repo.emit")
    except ModuleNotFoundError:
        return None
    return getattr(emit, "dump_all", None)


@pytest.mark.parametrize("case", [c for c in CASES if (DATA / c / "expected.yaml").exists()])
def test_case_text_matches_kubectl(case: str) -> None:
    dump_all = _dump_all()
    if dump_all is None:
        pytest.skip("gitops_gen.repo.emit.dump_all (the kustomize-style serialiser) does not exist yet")
    base, patch = load(DATA / case / "base.yaml"), load(DATA / case / "patch.yaml")
    got = apply_patch(base, patch)
    docs = [got] if got is not None else []
    assert dump_all(docs) == (DATA / case / "expected.yaml").read_text(encoding="utf-8")


def test_merge_returns_none_when_patch_deletes_object() -> None:
    base = load(DATA / "delete-whole-object" / "base.yaml")
    assert merge(base, {"$patch": "delete"}, None) is None


def test_explicit_meta_overrides_lookup() -> None:
    # Without schema (a custom kind) lists are replaced; with Deployment meta, merged.
    base = {
        "apiVersion": "example.com/v1",
        "kind": "Gpu",
        "spec": {"containers": [{"name": "a", "image": "x"}]},
    }
    patch = {"spec": {"containers": [{"name": "b", "image": "y"}]}}
    assert merge(base, patch, None)["spec"]["containers"] == [{"name": "b", "image": "y"}]
    pod_spec = patch_meta("v1", "Pod")
    assert merge(base, patch, pod_spec)["spec"]["containers"] == [
        {"name": "b", "image": "y"},
        {"name": "a", "image": "x"},
    ]


def test_unknown_directive_is_an_error() -> None:
    base = load(DATA / "replicas-and-image" / "base.yaml")
    with pytest.raises(GitopsGenError, match="unknown patch strategy 'bogus'"):
        merge(base, {"spec": {"$patch": "bogus"}}, None)


def test_kind_mismatch_error_names_field() -> None:
    base = load(DATA / "scalar-to-map" / "base.yaml")
    with pytest.raises(GitopsGenError, match=r"spec\.replicas: expected ScalarNode but got MappingNode"):
        merge(base, load(DATA / "scalar-to-map" / "patch.yaml"), None)


def test_apply_patch_keeps_target_identity() -> None:
    base = load(DATA / "replicas-and-image" / "base.yaml")
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other", "namespace": "x"}}
    got = apply_patch(base, patch)
    assert got is not None
    assert (got["metadata"]["name"], got["metadata"]["namespace"]) == ("private-detector", "ml")
    renamed = apply_patch(base, patch, allow_name_change=True)
    assert renamed is not None and renamed["metadata"]["name"] == "other"


@pytest.mark.parametrize(
    ("value", "text"), [(None, "null"), (True, "true"), (8080, "8080"), ("TCP", "TCP"), ({}, ""), ([1], "")]
)
def test_raw_text(value: Any, text: str) -> None:
    assert raw_text(value) == text


def test_element_setter_drops_empty_elements_and_appends() -> None:
    seq: list[Any] = [{"name": "a"}, {}, None, {"name": "b", "v": 1}]
    element_setter(seq, {"name": "b", "v": 2}, ["name"], ["b"])
    assert seq == [{"name": "a"}, {"name": "b", "v": 2}]
    element_setter(seq, {"name": "c"}, ["name"], ["c"])
    assert seq == [{"name": "a"}, {"name": "b", "v": 2}, {"name": "c"}]


def test_quoted_base_scalar_turns_patch_number_into_string() -> None:
    # Recorded by kubectl in quoted-base-scalar-style; here the loader tells us the style.
    base = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": QuotedStr("x")}}
    got = merge(base, {"data": {"a": 5}}, None)
    assert got is not None and got["data"]["a"] == "5"
    assert merge({**base, "data": {"a": "x"}}, {"data": {"a": 5}}, None) == {**base, "data": {"a": 5}}


def test_shared_subtrees_in_the_patch_act_like_copies() -> None:
    # Parsed YAML never shares nodes; a caller's dict may. Eliding `$patch` from
    # one occurrence must not disarm the other.
    delete = {"mountPath": "/dev/shm", "$patch": "delete"}
    base = load(DATA / "volumemounts-merge" / "base.yaml")
    shared = {"spec": {"template": {"spec": {"containers": [
        {"name": "server", "volumeMounts": [delete]},
        {"name": "dcgm-exporter", "volumeMounts": [delete]},
    ]}}}}  # fmt: skip
    copied = copy.deepcopy(shared)
    copied["spec"]["template"]["spec"]["containers"][1]["volumeMounts"] = [dict(delete)]
    assert merge(base, shared, None) == merge(base, copied, None)


# --- the fast path (consume_base=True) against the reference walk ----------------

# Values that collide with merge keys and directives of the recorded cases, so that
# mutations reach kyaml's odd corners: duplicate keys, keys of the wrong kind,
# empty keys, null and empty elements, stray `$patch`es.
KEY_VALUES: list[Any] = [
    "server",
    "dcgm-exporter",
    "MODEL_NAME",
    "models",
    "/models",
    8080,
    "8080",
    9400,
    "TCP",
    "UDP",
    "",
    "1",
    1,
    True,
    "true",
    None,
    {},
    [],
    QuotedStr("2"),
]
FIELDS = ["name", "containerPort", "protocol", "mountPath", "key", "value", "image", "$patch", "limits"]
DIRECTIVES = ["delete", "replace", "merge"]


def _slots(tree: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of TREE, the root's own fields included."""
    out: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            stack.append(value)
    return out


def _containers(tree: Any) -> list[Any]:
    return [tree, *(c[k] for c, k in _slots(tree) if isinstance(c[k], dict | list))]


@st.composite
def _mutated(draw: st.DrawFn, tree: Any, other: Any) -> Any:
    """TREE (a fresh copy) with a few random edits; OTHER lends it elements."""
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(0, 5))):
        node = draw(st.sampled_from(_containers(tree)))
        value = draw(st.sampled_from(KEY_VALUES))
        if isinstance(node, list):
            action = draw(st.sampled_from(["dup", "drop", "insert", "swap", "directive", "borrow"]))
            if node and action == "dup":
                node.insert(draw(st.integers(0, len(node))), copy.deepcopy(draw(st.sampled_from(node))))
            elif node and action == "drop":
                node.pop(draw(st.integers(0, len(node) - 1)))
            elif node and action == "swap":
                i, j = draw(st.integers(0, len(node) - 1)), draw(st.integers(0, len(node) - 1))
                node[i], node[j] = node[j], node[i]
            elif action == "directive":
                node.insert(draw(st.integers(0, len(node))), {"$patch": draw(st.sampled_from(DIRECTIVES))})
            elif action == "borrow":
                donors = [c for c in _containers(other) if isinstance(c, list) and c]
                if donors:
                    node.append(copy.deepcopy(draw(st.sampled_from(draw(st.sampled_from(donors))))))
            else:
                node.insert(draw(st.integers(0, len(node))), copy.deepcopy(value))
        else:
            action = draw(st.sampled_from(["set", "set", "drop", "directive"]))
            key = draw(st.sampled_from(FIELDS + list(node)))
            if action == "drop":
                node.pop(key, None)
            elif action == "directive":
                node["$patch"] = draw(st.sampled_from(DIRECTIVES))
            else:
                node[key] = copy.deepcopy(value)
    return tree


@st.composite
def _inputs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    case = draw(st.sampled_from(CASES))
    base, patch = load(DATA / case / "base.yaml"), load(DATA / case / "patch.yaml")
    return draw(_mutated(base, patch)), draw(_mutated(patch, base))


def _outcome(run: Any) -> Any:
    try:
        return run()
    except GitopsGenError as exc:
        return ("error", str(exc))


def _shared_nodes(tree: Any) -> int:
    ids = [id(c) for c in _containers(tree)]
    return len(ids) - len(set(ids))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_inputs())
def test_consume_base_matches_reference_walk(inputs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, patch = inputs
    meta = patch_meta(str(base.get("apiVersion")), str(base.get("kind")))
    base_before, patch_before = copy.deepcopy(base), copy.deepcopy(patch)
    want = _outcome(lambda: merge(base, patch, meta))
    assert (base, patch) == (base_before, patch_before)  # the default never mutates its inputs
    handed_over = copy.deepcopy(base)
    got = _outcome(lambda: merge(handed_over, patch, meta, consume_base=True))
    assert got == want
    assert patch == patch_before
    if isinstance(got, dict):
        # Like the reference's final copy: no node in two places (the base has none).
        assert _shared_nodes(got) == 0
        assert _shared_nodes(want) == 0
