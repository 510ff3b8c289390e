"""Rendered objects against the Kubernetes OpenAPI schemas of a cluster's Kubernetes version.

The schemas are the strict JSON Schemas shipped in the ``kubernetes-validate`` package
(``kubernetes_validate/kubernetes-json-schema/v<X.Y>.0-local-strict/``: unknown fields are
errors). We do not call its ``validate()``: it re-reads and re-compiles the schemas for
every object. Here a validator is compiled once per (version, schema file) and an object's
errors are cached by a digest of its content, because most objects repeat across clusters.

Version choice: a cluster's ``"1.30"`` uses the schemas of 1.30 when shipped. A version
between two shipped ones uses the newest shipped version not newer than it (what
kubernetes-validate does); a version outside the shipped range uses the nearest end of
the range, and ``resolve_version`` returns a note so validate can warn that the check is
approximate.

Flux ``Kustomization`` and Argo CD ``Application`` objects (what ``sync.yaml`` holds) are
checked against small schemas of our own in ``gitops_gen/schemas/``; other custom
resources have no schema and are skipped.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from gitops_gen.checks.model import Rule
from gitops_gen.checks.validity import Check, compile_validity
from gitops_gen.repo.yamlio import NodePath

K8S_SCHEMA = Rule(
    "k8s-schema",
    "error",
    "rendered object",
    "a rendered object invalid for the cluster's Kubernetes version (unknown fields are errors)",
    "checks.k8sschema.ObjectValidator",
)
K8S_VERSION = Rule(
    "k8s-version",
    "warning",
    "inventory",
    "the cluster's Kubernetes version is outside the shipped schemas: the nearest is used",
    "checks.k8sschema.resolve_version",
)
SYNC_SCHEMA = Rule(
    "sync-schema",
    "error",
    "rendered object",
    "clusters/<c>/sync.yaml against the Flux Kustomization / Argo CD Application schemas",
    "checks.validate.sync_problems",
)
RULES = (K8S_SCHEMA, K8S_VERSION, SYNC_SCHEMA)


_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.0-local-strict$")

# Our own schemas for the GitOps objects gitops-gen emits, by (apiVersion, kind).
OWN_SCHEMAS: dict[tuple[str, str], str] = {
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "flux-kustomization.schema.json",
    ("argoproj.io/v1alpha1", "Application"): "argocd-application.schema.json",
}


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where in the object, and a one-line message naming the field."""

    path: NodePath
    message: str


def _schema_root() -> Path:
    return Path(str(resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")))


@cache
def shipped_versions() -> tuple[tuple[int, int], ...]:
    """Kubernetes minor versions with strict schemas in the installed kubernetes-validate, ascending."""
    found = []
    root = _schema_root()
    for entry in root.iterdir() if root.is_dir() else []:
        m = _VERSION_DIR.match(entry.name)
        if m and entry.is_dir():
            found.append((int(m.group(1)), int(m.group(2))))
    return tuple(sorted(found))


def parse_version(text: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def resolve_version(requested: str) -> tuple[str | None, str | None]:
    """The shipped schema version to use for REQUESTED ("1.30"), and a note when it is not exact.

    Returns (None, note) when no schemas are installed or the version cannot be parsed.
    """
    shipped = shipped_versions()
    wanted = parse_version(requested)
    if not shipped:
        return None, "kubernetes-validate ships no schemas: Kubernetes objects are not checked"
    if wanted is None:
        return None, f"cannot read Kubernetes version {requested!r}: Kubernetes objects are not checked"
    low, high = shipped[0], shipped[-1]
    fmt = "{}.{}".format
    if wanted < low:
        return fmt(*low), (
            f"Kubernetes {requested} is older than the oldest schemas shipped by "
            f"kubernetes-validate ({fmt(*low)}): objects are checked against {fmt(*low)}"
        )
    if wanted > high:
        return fmt(*high), (
            f"Kubernetes {requested} is newer than the newest schemas shipped by "
            f"kubernetes-validate ({fmt(*high)}): objects are checked against {fmt(*high)}"
        )
    best = max(v for v in shipped if v <= wanted)
    if best != wanted:
        return fmt(*best), f"no schemas for Kubernetes {requested}: objects are checked against {fmt(*best)}"
    return fmt(*best), None


def _is_kubernetes_group(group: str) -> bool:
    """Built-in API groups: the core group, bare names (apps, batch, policy) and *.k8s.io."""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def schema_file(api_version: str, kind: str) -> str | None:
    """kubernetes-validate's file name for a built-in kind (``deployment-apps-v1.json``), None for a CR."""
    group, _, version = api_version.rpartition("/")
    if not kind or not version or not _is_kubernetes_group(group):
        return None
    short = group.split(".", 1)[0]
    return f"{kind.lower()}-{short}-{version}.json" if group else f"{kind.lower()}-{version}.json"


@cache
def _schema_exists(version: str, filename: str) -> bool:
    return (_schema_root() / f"v{version}.0-local-strict" / filename).is_file()


def known_kind(version: str | None, obj: Any) -> bool:
    """Whether OBJ is of a built-in Kubernetes kind: the schemas of VERSION have it (without
    schemas: its API group is a Kubernetes one)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return False
    filename = schema_file(api_version, kind)
    if filename is None:
        return False
    return _schema_exists(version, filename) if version is not None else True


@cache
def _registry(version: str) -> Registry[Any] | None:
    path = _schema_root() / f"v{version}.0-local-strict" / "_definitions.json"
    if not path.is_file():
        return None
    definitions = json.loads(path.read_text(encoding="utf-8"))
    registry: Registry[Any] = Resource.from_contents(definitions) @ Registry()
    return registry


# (id of a resolved schema node, digest of an instance) known to validate without errors. Clusters
# share most sub-objects (containers, probes, volumes) even when the whole objects differ (a label,
# a replica count), so a $ref whose instance was already valid is not walked again. Only valid
# results are kept: an invalid sub-object is walked every time, so errors are exactly jsonschema's.
_VALID: set[tuple[int, bytes]] = set()
_PINNED: dict[int, Any] = {}  # keeps each keyed schema node alive, so its id is never reused


def _memo_ref(lookups: dict[tuple[str, str], Any], validator: Any, ref: str, instance: Any) -> Any:
    # One lookup per (base URI, ref) and version: the schemas are fixed, and resolving a ref again is
    # about half of jsonschema's work on these objects.
    where = (validator._resolver._base_uri, ref)
    resolved = lookups.get(where)
    if resolved is None:
        resolved = lookups[where] = validator._resolver.lookup(ref)  # what _validate_reference does
    if not isinstance(instance, (dict, list)):
        yield from validator.descend(instance, resolved.contents, resolver=resolved.resolver)
        return
    contents = resolved.contents
    key = (id(contents), digest(instance))
    if key in _VALID:
        return
    failed = False
    for error in validator.descend(instance, contents, resolver=resolved.resolver):
        failed = True
        yield error
    if not failed:
        _PINNED.setdefault(id(contents), contents)
        _VALID.add(key)


@cache
def _memo_validator_class(version: str) -> Any:
    """A Draft 2020-12 validator whose $ref skips known-valid instances; one class per Kubernetes
    version, so its lookups never mix the versions' definitions."""
    lookups: dict[tuple[str, str], Any] = {}

    def ref(validator: Any, ref: str, instance: Any, schema: Any) -> Any:
        return _memo_ref(lookups, validator, ref, instance)

    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"$ref": ref})


@cache
def _k8s_validator(version: str, filename: str) -> jsonschema.protocols.Validator | None:
    path = _schema_root() / f"v{version}.0-local-strict" / filename
    registry = _registry(version)
    if registry is None or not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator: jsonschema.protocols.Validator = _memo_validator_class(version)(schema, registry=registry)
    return validator


@cache
def own_schema(name: str) -> dict[str, Any]:
    text = resources.files("gitops_gen").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _own_validator(name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(own_schema(name))


def validator_for(version: str | None, obj: dict[str, Any]) -> jsonschema.protocols.Validator | None:
    """The validator for OBJ's apiVersion/kind, or None when we have no schema (custom resources)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    own = OWN_SCHEMAS.get((api_version, kind))
    if own is not None:
        return _own_validator(own)
    filename = schema_file(api_version, kind)
    if version is None or filename is None:
        return None
    return _k8s_validator(version, filename)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 50 else text[:47] + "..."


def _field(path: NodePath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(object)"


def _types(want: Any) -> str:
    names = [want] if isinstance(want, str) else [t for t in want if t != "null"]
    return " or ".join(names)


def _describe(err: jsonschema.ValidationError) -> SchemaError:
    """A short message naming the field, and the path to blame (the unknown key itself for extras)."""
    path: NodePath = tuple(err.absolute_path)
    kind, value = err.validator, err.instance
    want: Any = err.validator_value
    schema: Any = err.schema
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = set(schema.get("properties", {})) if isinstance(schema, dict) else set()
        extra = sorted(str(k) for k in value if k not in allowed)
        if extra:
            return SchemaError((*path, extra[0]), f"{_field((*path, extra[0]))}: unknown field")
    if kind == "type":
        return SchemaError(path, f"{_field(path)}: expected {_types(want)}, got {_show(value)}")
    if kind == "oneOf" and err.context:
        # Quantities and int-or-string: every branch is a type test.
        wanted = [c.validator_value for c in err.context if c.validator == "type"]
        if len(wanted) == len(err.context):
            names = " or ".join(dict.fromkeys(_types(w) for w in wanted))
            return SchemaError(path, f"{_field(path)}: expected {names}, got {_show(value)}")
    if kind == "required" and isinstance(value, dict):
        missing = [k for k in want if k not in value]
        name = next((k for k in missing if repr(k) in err.message), missing[0] if missing else "?")
        return SchemaError(path, f"{_field((*path, name))}: missing required field")
    if kind == "enum":
        return SchemaError(
            path, f"{_field(path)}: must be one of {', '.join(map(str, want))}; got {_show(value)}"
        )
    if kind == "const":
        return SchemaError(path, f"{_field(path)}: must be {_show(want)}, got {_show(value)}")
    message = err.message if len(err.message) <= 120 else err.message[:117] + "..."
    return SchemaError(path, f"{_field(path)}: {message}")


def digest(obj: Any) -> bytes:
    """A content key for a plain-data object (same dict built the same way -> same key)."""
    return hashlib.blake2b(marshal.dumps(obj), digest_size=20).digest()


_VALIDITY: dict[int, Check | None] = {}  # by id of a validator, which the caches above keep alive


def _validity(validator: jsonschema.protocols.Validator) -> Check | None:
    key = id(validator)
    if key not in _VALIDITY:
        _VALIDITY[key] = compile_validity(validator)
    return _VALIDITY[key]


class ObjectValidator:
    """Validates objects per Kubernetes version, each distinct (version, object) once."""

    def __init__(self) -> None:
        self._done: dict[tuple[str | None, bytes], list[SchemaError]] = {}
        self.validated = 0  # distinct validations actually run (for tests and benchmarks)
        self.walked = 0  # of those, objects the compiled check could not pass, walked by jsonschema

    def errors(self, version: str | None, obj: dict[str, Any]) -> list[SchemaError]:
        """Schema errors of OBJ for shipped schema VERSION ("1.30"); [] when OBJ has no schema."""
        validator = validator_for(version, obj)
        if validator is None:
            return []
        key = (version, digest(obj))
        found = self._done.get(key)
        if found is None:
            self.validated += 1
            valid = _validity(validator)
            if valid is not None and valid(obj):
                self._done[key] = found = []
                return found
            self.walked += 1
            seen: dict[tuple[NodePath, str], SchemaError] = {}
            for err in validator.iter_errors(obj):
                described = _describe(err)
                seen.setdefault((described.path, described.message), described)
            found = sorted(seen.values(), key=lambda e: (tuple(map(str, e.path)), e.message))
            self._done[key] = found
        return found
