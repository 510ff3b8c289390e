"""The emitter against kubectl kustomize, byte for byte.

Every ``tests/data/emit/<case>/expected.yaml`` was printed by ``kubectl
kustomize`` (see ``tests/data/emit/regen.py``) for a kustomization whose only
resource is ``input.yaml``.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_gen.errors import GitopsGenError
from gitops_gen.repo import emit, yamlio
from tests.conftest import kubectl_kustomize, requires_kubectl

DATA = Path(__file__).parents[1] / "data" / "emit"
CASES = sorted(p.name for p in DATA.iterdir() if (p / "input.yaml").is_file())


def _kustomize_text(resource: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "resource.yaml").write_text(resource, encoding="utf-8")
        Path(tmp, "kustomization.yaml").write_text("resources:\n- resource.yaml\n")
        proc = kubectl_kustomize(Path(tmp))
    return proc.returncode, proc.stdout


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_case_matches_kubectl(case: str) -> None:
    raw = (DATA / case / "input.yaml").read_bytes()
    expected = (DATA / case / "expected.yaml").read_bytes().decode("utf-8")
    assert emit.dump_all(yamlio.load_documents(raw, f"{case}/input.yaml")) == expected


@pytest.mark.parametrize("case", CASES)
def test_line_loader_gives_the_same_output(case: str) -> None:
    raw = (DATA / case / "input.yaml").read_bytes()
    docs, maps = yamlio.load_with_lines(raw, case)
    assert len(maps) == len(docs)
    assert emit.dump_all(docs) == (DATA / case / "expected.yaml").read_text(encoding="utf-8")


def test_dump_all_joins_like_kustomize() -> None:
    a = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    assert emit.dump_all([]) == ""
    assert emit.dump_all([a]) == emit.dump(a)
    assert emit.dump_all([a, a]) == emit.dump(a) + "---\n" + emit.dump(a)
    assert emit.join_documents([emit.dump(a), emit.dump(a)]) == emit.dump_all([a, a])


def test_dump_is_stable_under_key_insertion_order() -> None:
    a = {"b": 1, "a": {"y": [1, {"q": 1, "p": 2}], "x": "1"}}
    b = {"a": {"x": "1", "y": [1, {"p": 2, "q": 1}]}, "b": 1}
    assert emit.dump(a) == emit.dump(b)


@pytest.mark.parametrize(
    ("spec_yaml", "fragment"),
    [
        ("x: .inf", "infinity"),
        ("x: .nan", "NaN"),
        ("1: a", "string keys"),
        ("true: a", "string keys"),
        ('x: "a\\x7fb"', "rejects its characters"),
        ('x: "a\\x90b"', "rejects its characters"),
    ],
)
def test_unprintable_values_fail_like_kustomize(spec_yaml: str, fragment: str) -> None:
    text = f"apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  {spec_yaml}\n"
    docs = yamlio.load_documents(text, "r.yaml")
    with pytest.raises(GitopsGenError, match=fragment):
        emit.dump(docs[0])


@requires_kubectl
@pytest.mark.parametrize("spec_yaml", ["x: .inf", "x: .nan", "1: a", "true: a", 'x: "a\\x7fb"'])
def test_kubectl_also_fails_on_unprintable_values(spec_yaml: str) -> None:
    code, _ = _kustomize_text(
        f"apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n  {spec_yaml}\n"
    )
    assert code != 0


@pytest.mark.parametrize("size", [0, 1, 20, 51, 52, 53, 104, 105, 300])
def test_encode_base64_lines_shape(size: int) -> None:
    raw = bytes(range(256))[:size] * 1 if size <= 256 else b"q" * size
    out = emit.encode_base64_lines(raw)
    flat = out.replace("\n", "")
    assert len(flat) == 4 * math.ceil(size / 3)
    if len(flat) < 70:
        assert "\n" not in out
    else:
        lines = out.split("\n")
        assert lines[-1] == ""
        assert all(len(line) == 70 for line in lines[:-2]) and 0 < len(lines[-2]) <= 70


@requires_kubectl
@pytest.mark.parametrize("value", ["short", "q" * 52, "q" * 53, "q" * 100, "é" * 40])
def test_encode_base64_lines_matches_secret_generator(value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "kustomization.yaml").write_text(
            "generatorOptions:\n  disableNameSuffixHash: true\n"
            f"secretGenerator:\n- name: s\n  literals:\n  - k={value}\n",
            encoding="utf-8",
        )
        proc = kubectl_kustomize(Path(tmp))
    assert proc.returncode == 0, proc.stderr
    secret = yamlio.load_documents(proc.stdout, "out")[0]
    assert secret["data"]["k"] == emit.encode_base64_lines(value.encode("utf-8"))
    assert emit.dump(secret) == proc.stdout


# Keys without digits: go-yaml v2 orders those consistently (digit runs make
# its order non-transitive, and kustomize's own output then varies run to run).
_KEY_TOKENS = [
    "y",
    "n",
    "on",
    "true",
    "null",
    "~",
    "",
    "a: b",
    "#x",
    " k",
    "-",
    "k-",
    "a.b",
    "a/b",
    "_x",
    "é",
]
_TEXT_TOKENS = [
    "yes", "no", "1.30", "080", "0x10", "12:30", "1e3", "2024-01-01", "null", "~", "-", "- x", ": x", "a: b",
    "#c", "a #c", "*x", "&a", "!t", "|", ">", "'", '"', "%", "@", "`", "{}", "[]", ",", "?", "---", "...",
    " ", "  ", "\n", "\n\n", "\t", "é", "日本", "😀", "\u00a0", "x" * 90, "word " * 20, "1_0", "+1", ".5",
]  # fmt: skip
_ALPHABET = st.characters(
    codec="utf-8",
    exclude_categories=["Cs"],
    exclude_characters="\x7f\x85\u2028\u2029\ufeff\ufffe\uffff" + "".join(chr(c) for c in range(0x80, 0xA0)),
)
_texts = st.one_of(
    st.sampled_from(_TEXT_TOKENS),
    st.text(_ALPHABET, max_size=12),
    st.lists(st.sampled_from(_TEXT_TOKENS), min_size=2, max_size=6).map("".join),
)
_keys = st.one_of(
    st.sampled_from(_KEY_TOKENS), st.text(st.sampled_from("abcXYZ-._/ :#é"), min_size=1, max_size=8)
)
_scalars = st.one_of(
    _texts,
    st.booleans(),
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=20,
)


def _things(specs: list[Any]) -> str:
    """Several objects in one stream (one kubectl run checks them all); names keep their order."""
    objs = [
        {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": f"t{i}"}, "spec": spec}
        for i, spec in enumerate(specs)
    ]
    return "---\n".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


@requires_kubectl
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(_keys, _values, min_size=1, max_size=6), min_size=6, max_size=6))
def test_random_objects_match_kubectl(specs: list[dict[str, Any]]) -> None:
    text = _things(specs)
    code, out = _kustomize_text(text)
    assert code == 0
    assert emit.dump_all(yamlio.load_documents(text, "r.yaml")) == out
