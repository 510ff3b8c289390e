"""A compiled yes/no "is this instance valid?" for the JSON Schema keywords the Kubernetes schemas use.

jsonschema walks every keyword of every schema node through generators (``descend``, ``evolve``,
``iter_errors``): about a quarter of a full validate with nothing remembered. Almost every rendered
object is valid, and a valid object needs no message, so ``ObjectValidator`` first asks a predicate
compiled once per schema, and only an object it answers "no" for is walked by jsonschema, whose
errors are then reported as before.

The predicate is exact for the keywords it compiles (the semantics of jsonschema's Draft 2020-12
validator, type checker included: ``tests/checks/test_validity.py`` holds it against jsonschema on
edge values and on every object of the corpus). A schema that uses any other validation keyword, a
nested ``$id``, or ``format`` with a format checker is not compiled: ``compile_validity`` returns
None and jsonschema alone answers for it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords compiled here. Every other keyword jsonschema's validator class knows is a reason not to
# compile; keywords it does not know (description, x-kubernetes-*, $defs) are annotations to it too.
_COMPILED = frozenset(
    {"type", "enum", "required", "properties", "additionalProperties", "items", "oneOf", "$ref"}
)


class Unsupported(Exception):
    """The schema uses something this compiler does not model exactly."""


def _is_string(x: Any) -> bool:
    return isinstance(x, str)


def _is_integer(x: Any) -> bool:
    # Draft 6 and later: 1.0 is an integer too.
    if isinstance(x, float):
        return x.is_integer()
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _is_boolean(x: Any) -> bool:
    return isinstance(x, bool)


def _is_object(x: Any) -> bool:
    return isinstance(x, dict)


def _is_array(x: Any) -> bool:
    return isinstance(x, list)


def _is_null(x: Any) -> bool:
    return x is None


TYPE_TESTS: dict[str, Check] = {
    "string": _is_string,
    "integer": _is_integer,
    "number": _is_number,
    "boolean": _is_boolean,
    "object": _is_object,
    "array": _is_array,
    "null": _is_null,
}


def _always(x: Any) -> bool:
    return True


def _never(x: Any) -> bool:
    return False


def _type_test(names: frozenset[str]) -> Check:
    tests = tuple(TYPE_TESTS[n] for n in sorted(names))
    if len(tests) == 1:
        return tests[0]
    # The shape of almost every Kubernetes field: one type or null.
    if len(tests) == 2 and _is_null in tests:
        other = tests[0] if tests[1] is _is_null else tests[1]
        return lambda x: x is None or other(x)
    return lambda x: any(test(x) for test in tests)


class _Cell:
    """A node still being compiled when a $ref cycle reaches it again; filled in when it is done."""

    __slots__ = ("check",)

    def __init__(self) -> None:
        self.check: Check = _never

    def __call__(self, x: Any) -> bool:
        return self.check(x)


def _type_names(schema: dict[str, Any]) -> frozenset[str] | None:
    if "type" not in schema:
        return None
    types = schema["type"]
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not names or any(n not in TYPE_TESTS for n in names):
        raise Unsupported(f"type {types!r}")
    return frozenset(names)


def _object_check(
    nullable: bool, required: tuple[str, ...], props: dict[str, Check], extra: Check | None
) -> Check:
    """An object node (its type object, or object or null): the shape of most Kubernetes nodes."""
    closed = extra is _never
    get = props.get

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return nullable and x is None
        for name in required:
            if name not in x:
                return False
        for name, value in x.items():
            sub = get(name)
            if sub is not None:
                if not sub(value):
                    return False
            elif closed or (extra is not None and not extra(value)):
                return False
        return True

    return check


def _array_check(nullable: bool, items: Check) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return nullable and x is None
        return all(map(items, x))

    return check


class Compiler:
    """Compiles the schema nodes of one validator class; nodes reached again (shared definitions)
    are compiled once."""

    def __init__(self, keywords: frozenset[str], format_checked: bool) -> None:
        # Keywords that would validate something we do not compile.
        self._refuse = keywords - _COMPILED - (frozenset() if format_checked else {"format"})
        self._done: dict[tuple[int, str], Check] = {}
        self._pinned: list[Any] = []  # keeps every keyed node alive, so its id is never reused
        self._refs: dict[tuple[str, str], Any] = {}

    def compile(self, schema: Any, resolver: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        key = (id(schema), str(resolver._base_uri))
        found = self._done.get(key)
        if found is not None:
            return found
        cell = self._done[key] = _Cell()
        try:
            cell.check = self._node(schema, resolver)
        except Unsupported:
            del self._done[key]
            raise
        self._pinned.append(schema)
        # Nodes compiled from now on call the finished check directly; only a cycle keeps the cell.
        self._done[key] = cell.check
        return cell.check

    def _node(self, schema: dict[str, Any], resolver: Any) -> Check:
        refused = self._refuse.intersection(schema)
        if refused:
            raise Unsupported(f"keyword {sorted(refused)[0]}")
        if "$id" in schema and schema["$id"] != str(resolver._base_uri):
            # jsonschema would resolve this node's refs against its own base: not modelled.
            raise Unsupported("nested $id")
        types = _type_names(schema)
        type_ok = None if types is None else _type_test(types)
        enum: frozenset[str] | None = None
        if "enum" in schema:
            values = schema["enum"]
            # jsonschema's enum compares a str with == and anything else never equals a str.
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise Unsupported("enum of non-strings")
            enum = frozenset(values)
        required = tuple(schema.get("required", ()))
        if not all(isinstance(r, str) for r in required):
            raise Unsupported("required")
        props = {name: self.compile(sub, resolver) for name, sub in schema.get("properties", {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        extra: Check | None = None if extra_schema is True else self.compile(extra_schema, resolver)
        items = self.compile(schema["items"], resolver) if "items" in schema else None
        one_of = tuple(self.compile(sub, resolver) for sub in schema.get("oneOf", ()))
        ref = self._ref(schema["$ref"], resolver) if "$ref" in schema else None
        object_rules = bool(required or props or extra is not None)

        # The shapes the Kubernetes schemas are made of, each as one small closure.
        plain = enum is None and not one_of and ref is None
        if plain and not object_rules and items is None:
            return _always if type_ok is None else type_ok
        only_ref = enum is None and not one_of and types is None and items is None
        if ref is not None and only_ref and not object_rules:
            return ref
        if plain and items is None and types in ({"object"}, {"object", "null"}):
            return _object_check("null" in types, required, props, extra)
        if plain and not object_rules and items is not None and types in ({"array"}, {"array", "null"}):
            return _array_check("null" in types, items)
        if enum is not None and not object_rules and items is None and not one_of and ref is None:
            test = type_ok if type_ok is not None else _always
            return lambda x: isinstance(x, str) and x in enum and test(x)
        object_part = _object_check(False, required, props, extra) if object_rules else None
        array_part = _array_check(False, items) if items is not None else None

        def check(x: Any) -> bool:
            if type_ok is not None and not type_ok(x):
                return False
            if enum is not None and not (isinstance(x, str) and x in enum):
                return False
            if object_part is not None and isinstance(x, dict) and not object_part(x):
                return False
            if array_part is not None and isinstance(x, list) and not array_part(x):
                return False
            if one_of and sum(1 for sub in one_of if sub(x)) != 1:
                return False
            return ref is None or ref(x)

        return check

    def _ref(self, ref: Any, resolver: Any) -> Check:
        if not isinstance(ref, str):
            raise Unsupported("$ref")
        where = (str(resolver._base_uri), ref)
        resolved = self._refs.get(where)
        if resolved is None:
            resolved = self._refs[where] = resolver.lookup(ref)
        return self.compile(resolved.contents, resolved.resolver)


_COMPILERS: dict[tuple[type, bool], Compiler] = {}


def compile_validity(validator: Any) -> Check | None:
    """VALIDATOR's yes/no predicate, or None when its schema uses keywords not compiled here."""
    key = (type(validator), validator.format_checker is not None)
    compiler = _COMPILERS.get(key)
    if compiler is None:
        compiler = _COMPILERS[key] = Compiler(frozenset(key[0].VALIDATORS), key[1])
    try:
        return compiler.compile(validator.schema, validator._resolver)
    except Unsupported:
        return None
