"""configMapGenerator / secretGenerator / generatorOptions against kubectl kustomize's output.

Each folder under tests/data/generators/ is a kustomization (sometimes over a base) whose
expected.yaml, or expected_error.txt, was written by `kubectl kustomize` (regen.py there).
Cases made only of resources + generators are rebuilt here with generate/absorb/
add_hash_suffixes and their ConfigMaps/Secrets compared as data; every hashed name in every
expected.yaml (transformer cases included) must carry content_hash() of the printed object.
"""

from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.builtins.generators import (
    GeneratorError,
    absorb,
    add_hash_suffixes,
    content_hash,
    encode_base64,
    generate,
    go_json,
    merge_options,
    parse_env,
    parse_file_source,
    parse_literal,
)
from gitops_gen.kustomize.resource import Origin, Resource
from tests.conftest import kubectl_kustomize, requires_kubectl

DATA = Path(__file__).parents[2] / "data" / "generators"
CASES = sorted(p for p in DATA.iterdir() if (p / "kustomization.yaml").is_file())
GENERATED_KINDS = ("ConfigMap", "Secret")
# Fields the harness below can rebuild without the rest of the engine.
HARNESS_FIELDS = {"resources", "configMapGenerator", "secretGenerator", "generatorOptions"}
HASHED_NAME = re.compile(r"-([0-9a-z]{10})$")


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def load_docs(path: Path) -> list[Any]:
    return [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) if d]


def harness_can_build(directory: Path) -> bool:
    kust = load_yaml(directory / "kustomization.yaml")
    if set(kust) - HARNESS_FIELDS:
        return False
    return all(
        harness_can_build(directory / e) for e in kust.get("resources") or [] if (directory / e).is_dir()
    )


def accumulate(directory: Path) -> list[Resource]:
    """A minimal accumulateTarget: resources (files, sub-kustomizations), then generators."""
    kust = load_yaml(directory / "kustomization.yaml")
    rel = (directory / "kustomization.yaml").relative_to(DATA).as_posix()
    ra: list[Resource] = []
    for entry in kust.get("resources") or []:
        path = directory / entry
        if path.is_dir():
            ra.extend(accumulate(path))
        else:
            ra.extend(Resource(obj=doc, origin=Origin(entry, "resource")) for doc in load_docs(path))

    def read_file(name: str) -> bytes:
        path = directory / name
        if not path.is_file():
            raise GitopsGenError("no such file", name)
        return path.read_bytes()

    absorb(ra, generate(kust, read_file, rel))
    return ra


def build(case: Path) -> list[Resource]:
    resources = accumulate(case)
    add_hash_suffixes(resources)
    return resources


def by_id(objs: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for obj in objs:
        md = obj["metadata"]
        out[(obj["kind"], md.get("namespace", ""), md["name"])] = obj
    return out


SUCCESS = [c for c in CASES if (c / "expected.yaml").is_file()]
ERRORS = [c for c in CASES if (c / "expect_error").is_file()]
REBUILT = [c for c in SUCCESS if harness_can_build(c)]


def test_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len(REBUILT) >= 25
    assert all((c / "expected_error.txt").is_file() for c in ERRORS), "kubectl must reject every error case"


@pytest.mark.parametrize("case", REBUILT, ids=lambda p: p.name)
def test_generated_objects_match_kubectl(case: Path) -> None:
    expected = [d for d in load_docs(case / "expected.yaml") if d["kind"] in GENERATED_KINDS]
    got = [r.obj for r in build(case) if r.kind in GENERATED_KINDS]
    assert expected, "every case generates something"
    assert by_id(got) == by_id(expected)


@pytest.mark.parametrize("case", SUCCESS, ids=lambda p: p.name)
def test_printed_name_suffix_is_content_hash(case: Path) -> None:
    """The hash is taken after every transformer and patch: it must match the final object."""
    for obj in load_docs(case / "expected.yaml"):
        if obj["kind"] not in GENERATED_KINDS:
            continue
        match = HASHED_NAME.search(obj["metadata"]["name"])
        if match:
            assert content_hash(obj) == match.group(1), obj["metadata"]["name"]


def test_hash_after_transformers_case_is_really_checked() -> None:
    names = [
        d["metadata"]["name"]
        for d in load_docs(DATA / "hash-after-transformers" / "expected.yaml")
        if d["kind"] in GENERATED_KINDS
    ]
    assert len(names) == 2 and all(HASHED_NAME.search(n) for n in names)


@pytest.mark.parametrize("case", ERRORS, ids=lambda p: p.name)
def test_error_cases(case: Path) -> None:
    phrase = (case / "expect_error").read_text().strip()
    with pytest.raises(GitopsGenError) as info:
        build(case)
    assert phrase in str(info.value)
    assert "\n" not in str(info.value)


@requires_kubectl
def test_expected_files_are_current() -> None:
    """The stored oracle output still matches kubectl (regen.py rewrites them)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(kubectl_kustomize, CASES))
    for case, proc in zip(CASES, results, strict=True):
        if (case / "expected.yaml").is_file():
            assert proc.returncode == 0, case.name
            assert proc.stdout == (case / "expected.yaml").read_text(), case.name
        else:
            assert proc.returncode != 0, case.name


# ------------------------------------------------------------------------------ unit level
@pytest.mark.parametrize(
    ("source", "pair"),
    [
        ("A=b", ("A", "b")),
        ("A=b=c", ("A", "b=c")),
        ("A=", ("A", "")),
        ('A="x y"', ("A", "x y")),
        ("A='x'", ("A", "x")),
        ("A=\"x'", ("A", "\"x'")),
        ('A="', ("A", '"')),
        ('A=""', ("A", "")),
        ("A =b ", ("A ", "b ")),
    ],
)
def test_parse_literal(source: str, pair: tuple[str, str]) -> None:
    assert parse_literal(source) == pair


@pytest.mark.parametrize("source", ["A", "=A", "", "=", "=a=b"])
def test_parse_literal_rejects(source: str) -> None:
    with pytest.raises(ValueError, match="expected key=value"):
        parse_literal(source)


@pytest.mark.parametrize(
    ("source", "pair"),
    [
        ("config.pbtxt", ("config.pbtxt", "config.pbtxt")),
        ("models/a/config.pbtxt", ("config.pbtxt", "models/a/config.pbtxt")),
        ("cfg=models/a/config.pbtxt", ("cfg", "models/a/config.pbtxt")),
        ("models/dir/", ("dir", "models/dir/")),
    ],
)
def test_parse_file_source(source: str, pair: tuple[str, str]) -> None:
    assert parse_file_source(source) == pair


@pytest.mark.parametrize("source", ["=a", "a=", "a=b=c"])
def test_parse_file_source_rejects(source: str) -> None:
    with pytest.raises(ValueError):
        parse_file_source(source)


def test_parse_env_rules() -> None:
    content = b"\xef\xbb\xbfA=1\r\n  # c\n\n\xef\xbb\xbfB=2\nC\n=skipped\n\x1cD=3\nE= x = y \n"
    assert parse_env(content) == [("A", "1"), ("\ufeffB", "2"), ("C", ""), ("\x1cD", "3"), ("E", " x = y ")]


def test_parse_env_invalid_utf8_even_in_comments() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_env(b"A=1\n# caf\xe9\n")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_encode_base64_round_trips_in_70_char_lines(data: bytes) -> None:
    text = encode_base64(data)
    assert base64.b64decode(text.replace("\n", "")) == data
    lines = text.split("\n")
    if len(base64.b64encode(data)) >= 70:
        assert text.endswith("\n") and lines[-1] == ""
        lines = lines[:-1]
    else:
        assert "\n" not in text
    assert all(0 < len(line) <= 70 for line in lines) or data == b""


def test_merge_options_local_wins_and_flags_only_turn_on() -> None:
    local = {
        "labels": {"tier": "cpu"},
        "annotations": None,
        "disableNameSuffixHash": False,
        "immutable": False,
    }
    glob = {
        "labels": {"tier": "gpu", "team": "ml"},
        "annotations": {"a": "1"},
        "disableNameSuffixHash": True,
        "immutable": True,
    }
    merged = merge_options(local, glob)
    assert merged == {
        "labels": {"tier": "cpu", "team": "ml"},
        "annotations": {"a": "1"},
        "disableNameSuffixHash": True,
        "immutable": True,
    }
    assert merge_options(None, None) is None
    assert merge_options(local, None) is local


def test_go_json_matches_encoding_json() -> None:
    assert (
        go_json({"b": "<&>", "a": [1, 1.5, True, None], "c": "\u2028é\n"})
        == '{"a":[1,1.5,true,null],"b":"\\u003c\\u0026\\u003e","c":"\\u2028é\\n"}'
    )
    assert (
        go_json({"x": 1e21, "y": 1e-7, "z": 100000000000000000000})
        == '{"x":1e+21,"y":1e-7,"z":100000000000000000000}'
    )


config_maps = st.fixed_dictionaries(
    {"data": st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=5)}
)


@settings(max_examples=100, deadline=None)
@given(
    config_maps, st.text(min_size=1, max_size=20), st.dictionaries(st.text(max_size=5), st.text(max_size=5))
)
def test_hash_ignores_name_labels_and_key_order(
    cm: dict[str, Any], name: str, labels: dict[str, str]
) -> None:
    plain = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, **cm}
    decorated = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "immutable": True,
        "metadata": {"name": name, "labels": labels, "annotations": labels},
        "data": dict(reversed(list(cm["data"].items()))),
    }
    assert content_hash(plain) == content_hash(decorated)
    assert re.fullmatch(r"[0-9a-z]{10}", content_hash(plain))
    assert not set("013ae") & set(content_hash(plain))


def test_hash_depends_on_kind_type_and_data() -> None:
    secret = {"kind": "Secret", "type": "Opaque", "metadata": {"name": "s"}, "data": {"a": "Yg=="}}
    other_type = {**secret, "type": "kubernetes.io/tls"}
    other_data = {**secret, "data": {"a": "Yw=="}}
    as_config_map = {**secret, "kind": "ConfigMap"}
    hashes = {content_hash(o) for o in (secret, other_type, other_data, as_config_map)}
    assert len(hashes) == 4
    with pytest.raises(GitopsGenError):
        content_hash({"kind": "Deployment", "metadata": {"name": "d"}})


def _generated(name: str, behavior: str = "create", literal: str = "K=v", **extra: Any) -> Resource:
    kust = {"configMapGenerator": [{"name": name, "behavior": behavior, "literals": [literal], **extra}]}
    [res] = generate(kust, lambda p: b"", "k/kustomization.yaml")
    return res


def test_generated_resource_bookkeeping_stays_out_of_the_object() -> None:
    res = _generated("cfg", "merge", options={"disableNameSuffixHash": True})
    assert res.behavior == "merge" and res.needs_hash is False
    assert res.origin == Origin("k/kustomization.yaml", "generator", field="configMapGenerator")
    assert res.obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg"},
        "data": {"K": "v"},
    }


def test_add_hash_suffixes_records_previous_id() -> None:
    res = _generated("cfg")
    add_hash_suffixes([res])
    assert res.needs_hash is False
    assert res.name == f"cfg-{content_hash(res.obj)}"
    assert [p.name for p in res.previous_ids()] == ["cfg"]
    add_hash_suffixes([res])  # only once
    assert res.name.count("-") == 1


def test_absorb_rejects_several_matches() -> None:
    first, second = _generated("a"), _generated("b")
    add_hash_suffixes([second])
    second.obj["metadata"]["name"] = "x"
    second.prev_ids = [first.cur_id()]  # "b" was once called "a"
    resources = [first, second]
    with pytest.raises(GeneratorError, match="multiple objects"):
        absorb(resources, [_generated("a", "merge")])


def test_merge_keeps_history_when_tracing() -> None:
    base = _generated("cfg")
    base.history = []
    base.record(base.origin)
    resources = [base]
    absorb(resources, [_generated("cfg", "merge", literal="K2=w")])
    history = resources[0].history
    assert history is not None and [s.origin.kind for s in history] == ["generator", "merge"]
