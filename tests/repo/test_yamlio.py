"""The loader: go-yaml v3 scalar resolution, errors with positions, safety limits."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.repo import emit, yamlio
from tests.conftest import kubectl_kustomize, requires_kubectl

DATA = Path(__file__).parents[1] / "data" / "yamlio"
SCALARS: list[tuple[str, Any]] = [tuple(x) for x in json.loads((DATA / "scalars.json").read_text("utf-8"))]
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text("utf-8"))
EMIT_INPUTS = sorted((Path(__file__).parents[1] / "data" / "emit").glob("*/input.yaml"))


def _key(i: int) -> str:
    # Letters only: go-yaml v2 sorts these like Python does.
    return "k" + "".join(chr(ord("a") + int(d)) for d in f"{i:03d}")


@pytest.mark.parametrize(("text", "expected"), SCALARS, ids=[s[0] or "<empty>" for s in SCALARS])
def test_scalar_resolution(text: str, expected: Any) -> None:
    value = yamlio.load_documents(f"v: {text}\n", "s.yaml")[0]["v"]
    assert value == expected
    assert type(value) is type(expected)


@requires_kubectl
def test_scalar_table_prints_like_kubectl() -> None:
    """The table above, fed to kubectl: our value printed must equal kubectl's output."""
    usable = [(t, e) for t, e in SCALARS if not (isinstance(e, float) and e != e)]
    spec = "".join(f"  {_key(i)}: {text}\n" for i, (text, _) in enumerate(usable))
    doc = f"apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n{spec}"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "r.yaml").write_text(doc, encoding="utf-8")
        Path(tmp, "kustomization.yaml").write_text("resources:\n- r.yaml\n")
        proc = kubectl_kustomize(Path(tmp))
    assert proc.returncode == 0, proc.stderr
    ours = {
        "apiVersion": "example.com/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": {_key(i): expected for i, (_, expected) in enumerate(usable)},
    }
    assert emit.dump(ours) == proc.stdout


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_errors_have_positions(case: dict[str, Any]) -> None:
    with pytest.raises(GitopsGenError) as info:
        yamlio.load_documents(case["input"].encode("utf-8"), "bad.yaml")
    err = info.value
    assert (err.path, err.line, err.col) == ("bad.yaml", case["line"], case["col"])
    assert case["message"] in err.message
    assert "\n" not in str(err)


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_line_loader_reports_the_same_errors(case: dict[str, Any]) -> None:
    with pytest.raises(GitopsGenError) as info:
        yamlio.load_with_lines(case["input"], "bad.yaml")
    assert (info.value.line, info.value.col) == (case["line"], case["col"])


def test_merge_keys_are_not_duplicates() -> None:
    text = "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  a: 3\n"
    assert yamlio.load_documents(text, "m.yaml")[0]["m"] == {"a": 3, "b": 2}


def test_merge_list_first_wins_and_explicit_keys_win() -> None:
    text = "x: &x {k: 1, a: 1}\ny: &y {k: 2, b: 2}\nm:\n  <<: [*x, *y]\n  b: 3\n"
    assert yamlio.load_documents(text, "m.yaml")[0]["m"] == {"k": 1, "a": 1, "b": 3}


def test_merged_anchor_checked_for_duplicates_once() -> None:
    text = "c: &c {k: 1}\nx:\n  a: &b {<<: *c, k: 2}\nd: {<<: *b}\n"
    doc = yamlio.load_documents(text, "m.yaml")[0]
    assert doc["x"]["a"] == {"k": 2} and doc["d"] == {"k": 2}


def test_aliases_give_independent_objects() -> None:
    doc = yamlio.load_documents("a: &a {x: [1]}\nb: *a\n", "a.yaml")[0]
    doc["a"]["x"].append(2)
    assert doc["b"] == {"x": [1]}


def test_alias_bomb_rejected_fast() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} [{refs}]")
    start = time.perf_counter()
    with pytest.raises(GitopsGenError, match="excessive aliasing") as info:
        yamlio.load_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - start < 2
    assert info.value.line is not None


def test_moderate_aliasing_is_fine() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a, *a]\n"
    assert yamlio.load_documents(text, "ok.yaml")[0]["b"] == [[1, 2, 3]] * 4


def test_huge_input_rejected() -> None:
    big = b"a: " + b"x" * (yamlio.MAX_INPUT_BYTES + 1) + b"\n"
    with pytest.raises(GitopsGenError, match="too large") as info:
        yamlio.load_documents(big, "big.yaml")
    assert info.value.path == "big.yaml"


def test_invalid_utf8_has_a_position() -> None:
    with pytest.raises(GitopsGenError) as info:
        yamlio.load_documents(b"a: 1\nb: \xff\n", "u.yaml")
    assert (info.value.line, info.value.col) == (2, 4)


def test_empty_and_null_documents_are_skipped() -> None:
    text = "---\n---\na: 1\n---\n# c\n---\nnull\n---\n~\n---\n{}\n...\n"
    assert yamlio.load_documents(text, "d.yaml") == [{"a": 1}, {}]
    assert yamlio.load_documents("", "d.yaml") == []


def test_str_and_bytes_inputs_agree() -> None:
    text = "a: é\nb: [1, 0x10]\n"
    assert yamlio.load_documents(text, "x") == yamlio.load_documents(text.encode("utf-8"), "x")


@pytest.mark.parametrize("path", EMIT_INPUTS, ids=[p.parent.name for p in EMIT_INPUTS])
def test_line_loader_gives_same_data(path: Path) -> None:
    raw = path.read_bytes()
    docs, maps = yamlio.load_with_lines(raw, str(path))
    assert docs == yamlio.load_documents(raw, str(path))
    assert len(maps) == len(docs)
    for doc, lines in zip(docs, maps, strict=True):
        assert () in lines
        for node_path in lines:
            _follow(doc, node_path)  # every recorded path exists in the data


def _follow(value: Any, node_path: tuple[Any, ...]) -> Any:
    for step in node_path:
        value = value[step]
    return value


def test_line_positions() -> None:
    text = (
        "# header\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: cm\n"
        "data:\n"
        "  a: |\n"
        "    x\n"
        "  list:\n"
        "  - one\n"
        "  -   two\n"
        "  - k: v\n"
        "    j: [p, q]\n"
        "---\n"
        "b: 1\n"
    )
    docs, maps = yamlio.load_with_lines(text, "p.yaml")
    first = maps[0]
    assert first[()] == (2, 1)
    assert first[("metadata",)] == (4, 1)
    assert first[("metadata", "name")] == (5, 3)
    assert first[("data", "a")] == (7, 3)
    assert first[("data", "list", 0)] == (10, 5)
    assert first[("data", "list", 1)] == (11, 7)
    assert first[("data", "list", 2)] == (12, 5)
    assert first[("data", "list", 2, "k")] == (12, 5)
    assert first[("data", "list", 2, "j", 1)] == (13, 12)
    assert maps[1] == {(): (15, 1), ("b",): (15, 1)}
    assert docs[1] == {"b": 1}


def test_line_map_keys_are_resolved_keys() -> None:
    _, maps = yamlio.load_with_lines("0x10: a\n'y': b\nbase: &b {k: 1}\nm:\n  <<: *b\n", "k.yaml")
    assert maps[0][(16,)] == (1, 1)
    assert maps[0][("y",)] == (2, 1)
    assert maps[0][("m", "k")] == (3, 11)  # a merged key points at its source
