"""The compiled validity predicate against jsonschema itself: same answer on every object it meets."""

from __future__ import annotations

import copy
import decimal
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitops_gen.checks import k8sschema, validity
from gitops_gen.checks.k8sschema import ObjectValidator, validator_for

CORPUS = Path(__file__).parents[1] / "corpus" / "expected"


def _corpus_objects() -> list[dict[str, Any]]:
    out = []
    for path in sorted(CORPUS.rglob("expected.yaml")):
        out += [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if isinstance(d, dict)]
    return out


OBJECTS = _corpus_objects()
VERSIONS = sorted({"{}.{}".format(*k8sschema.shipped_versions()[i]) for i in (0, -1)})


def _jsonschema_valid(validator: Any, obj: Any) -> bool:
    return next(iter(validator.iter_errors(obj)), None) is None


def _check(version: str, obj: dict[str, Any]) -> tuple[Any, validity.Check] | None:
    validator = validator_for(version, obj)
    if validator is None:
        return None
    check = validity.compile_validity(validator)
    return None if check is None else (validator, check)


@pytest.mark.parametrize(
    "value",
    [0, 1, -3, 2**70, 1.0, 1.5, float("nan"), decimal.Decimal("2"), True, False, None, "", "1", [], {}, ()],
    ids=repr,
)
def test_type_tests_are_jsonschemas(value: Any) -> None:
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER
    for name, test in validity.TYPE_TESTS.items():
        assert test(value) == checker.is_type(value, name), name


def test_the_corpus_is_large_and_mostly_compiled() -> None:
    compiled = sum(1 for obj in OBJECTS if _check(VERSIONS[-1], obj) is not None)
    assert len(OBJECTS) > 5000 and compiled > 0.9 * len(OBJECTS)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_corpus_object_gets_jsonschemas_answer(version: str) -> None:
    invalid = 0
    for obj in OBJECTS:
        found = _check(version, obj)
        if found is None:
            continue
        validator, check = found
        expected = _jsonschema_valid(validator, obj)
        invalid += not expected
        assert check(obj) == expected, (version, obj.get("kind"), obj.get("metadata", {}).get("name"))
    assert invalid > 0  # the corpus holds objects invalid for some versions: both answers are seen


def _nodes(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, obj
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _nodes(value, (*path, index))


def _mutate(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """OBJ with one node changed the way hand-written YAML goes wrong."""
    out = copy.deepcopy(obj)
    path, node = rng.choice(list(_nodes(out))[1:])
    parent: Any = out
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    choice = rng.randrange(6)
    if choice == 0 and isinstance(node, dict):
        node["unknownField"] = "x"
    elif choice == 1 and isinstance(parent, dict):
        del parent[last]
    elif choice == 2:
        parent[last] = None
    elif choice == 3:
        parent[last] = rng.choice(["text", 7, 1.5, True, [], {}, [None], {"a": None}])
    elif choice == 4 and isinstance(node, str):
        parent[last] = node + "x"  # an enum value misspelt, or just another string
    else:
        parent[last] = [node]
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_mutated_corpus_objects_get_jsonschemas_answer(version: str) -> None:
    rng = random.Random(16)
    seen = {True: 0, False: 0}
    for obj in OBJECTS[::7]:
        found = _check(version, obj)
        if found is None:
            continue
        validator, check = found
        for _ in range(3):
            changed = _mutate(obj, rng)
            expected = _jsonschema_valid(validator, changed)
            seen[expected] += 1
            assert check(changed) == expected, (version, changed)
    assert seen[True] > 100 and seen[False] > 100


def test_a_recursive_schema_compiles() -> None:
    # CustomResourceDefinition holds JSONSchemaProps, which refers to itself.
    crd = next(o for o in OBJECTS if o.get("kind") == "CustomResourceDefinition")
    found = _check(VERSIONS[-1], crd)
    assert found is not None and found[1](crd) is True


def test_a_schema_with_other_keywords_is_left_to_jsonschema() -> None:
    for schema in (
        {"type": "string", "pattern": "^a"},
        {"properties": {"a": {"minimum": 1}}},
        {"items": {"$id": "https://example.com/other", "type": "string"}},
        {"enum": [1, 2]},
    ):
        assert validity.compile_validity(jsonschema.Draft202012Validator(schema)) is None, schema
    checked = jsonschema.Draft202012Validator({"type": "string", "format": "date-time"})
    assert validity.compile_validity(checked) is not None  # format asserts nothing without a checker
    formats = jsonschema.Draft202012Validator(
        {"type": "string", "format": "date-time"}, format_checker=jsonschema.FormatChecker()
    )
    assert validity.compile_validity(formats) is None


def test_one_of_means_exactly_one() -> None:
    schema = {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]}
    check = validity.compile_validity(jsonschema.Draft202012Validator(schema))
    assert check is not None
    assert [check(v) for v in ("1", 1, None, 1.5)] == [True, True, False, False]


def test_object_validator_walks_only_what_the_check_rejects() -> None:
    good = next(o for o in OBJECTS if o.get("kind") == "Deployment")
    bad = copy.deepcopy(good)
    bad["spec"]["replicas"] = "two"
    validator = ObjectValidator()
    assert validator.errors(VERSIONS[-1], good) == []
    assert validator.walked == 0
    errors = validator.errors(VERSIONS[-1], bad)
    assert validator.walked == 1
    assert [e.message for e in errors] == ['spec.replicas: expected integer, got "two"']
