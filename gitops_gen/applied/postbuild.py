"""Flux Kustomization `spec.postBuild`: which variables apply, and substituting them into objects.

Flux's rules: objects labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`
are left alone; variables come from `substituteFrom` ConfigMaps/Secrets (in list order, later
wins, `optional: true` tolerates a missing one), then the inline `substitute` map overrides them;
newlines are removed from every value; each name must match `^[_[:alpha:]][_[:alpha:][:digit:]]*$`;
nothing is substituted when there is no variable at all.

Flux expands over the object's YAML text and parses the result back, so a substituted plain
scalar takes the type its new text reads as (`replicas: ${n}` with n=3 is the number 3, `yes` is
true, as YAML 1.1 reads it), while a string the encoder had to quote stays a string. We expand
each string scalar and re-read only those, which is the same for everything but variables
holding quotes inside quoted strings.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitops_gen.applied import envsubst

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
# Go's RE2 [:alpha:]/[:digit:] are ASCII classes.
VAR_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*\Z")
VAR_RULE = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"

Finder = Callable[[str, str], "dict[str, Any] | None"]


class PostBuildError(Exception):
    """Flux would fail the Kustomization: the message says why, as Flux would. INDEX is the
    object that failed (None for the variables themselves), VARIABLE the unset one in strict mode."""

    def __init__(self, message: str, index: int | None = None, variable: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.variable = variable


@dataclass
class Outcome:
    """The objects after substitution, and per object index the unset names it read as ""."""

    objects: list[dict[str, Any]]
    unset: dict[int, set[str]] = field(default_factory=dict)


def source_values(obj: dict[str, Any]) -> dict[str, str]:
    """A ConfigMap's or Secret's data as Flux reads it from the cluster."""
    if obj.get("kind") == "Secret":
        values: dict[str, str] = {}
        for key, raw in (obj.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(str(raw), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as err:
                raise PostBuildError(
                    f"Secret/{obj['metadata']['name']}: data.{key} is not base64 text"
                ) from err
        # The API server folds stringData into data.
        values.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        return values
    return {k: "" if v is None else str(v) for k, v in (obj.get("data") or {}).items()}


def variables(post_build: Mapping[str, Any], find: Finder) -> dict[str, str]:
    """The variables one Kustomization substitutes. FIND(kind, name) returns the ConfigMap or
    Secret named in `substituteFrom`, or None where it does not exist."""
    result: dict[str, str] = {}
    for ref in post_build.get("substituteFrom") or []:
        kind, name = ref.get("kind"), ref.get("name")
        if kind not in ("ConfigMap", "Secret"):
            continue
        obj = find(kind, name)
        if obj is None:
            if ref.get("optional"):
                continue
            raise PostBuildError(f"substitute from '{kind}/{name}' error: {kind} {name!r} not found")
        result.update({k: v.replace("\n", "") for k, v in source_values(obj).items()})
    for key, value in (post_build.get("substitute") or {}).items():
        result[str(key)] = "" if value is None else str(value).replace("\n", "")
    for name in result:
        if not VAR_NAME.match(name):
            raise PostBuildError(f"'{name}' var name is invalid, must match '{VAR_RULE}'")
    return result


def disabled(obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    return any((meta.get(part) or {}).get(SUBSTITUTE_KEY) == "disabled" for part in ("labels", "annotations"))


def substitute(objs: list[dict[str, Any]], values: Mapping[str, str], strict: bool) -> Outcome:
    """OBJS with VALUES substituted (Flux's `spec.postBuild`); raises PostBuildError naming the
    object where Flux would fail."""
    if not values:
        return Outcome(list(objs))
    out = Outcome([])
    for index, obj in enumerate(objs):
        if disabled(obj):
            out.objects.append(obj)
            continue
        unset: set[str] = set()
        try:
            out.objects.append(walk(obj, values, strict, unset))
        except (envsubst.EnvsubstError, yaml.YAMLError) as err:
            variable = err.name if isinstance(err, envsubst.UnsetVariable) else None
            raise PostBuildError(
                f"{describe(obj)}: envsubst error: {one_line(err)}", index, variable
            ) from err
        if unset:
            out.unset[index] = unset
    return out


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')}/{ns}{meta.get('name')}"


def one_line(err: Exception) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem:
        return f"YAMLToJSON: {err.problem}"
    return " ".join(str(err).split())


def walk(node: Any, values: Mapping[str, str], strict: bool, unset: set[str]) -> Any:
    if isinstance(node, dict):
        return {expand_key(k, values, strict, unset): walk(v, values, strict, unset) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(v, values, strict, unset) for v in node]
    if isinstance(node, str) and "$" in node:
        text = envsubst.expand(node, values.get, strict, unset)
        return reread(node, text) if text != node else node
    return node


def expand_key(key: Any, values: Mapping[str, str], strict: bool, unset: set[str]) -> Any:
    # Keys holding `${` need quotes in YAML's simple-key context, so they stay strings.
    return envsubst.expand(key, values.get, strict, unset) if isinstance(key, str) and "$" in key else key


def reread(original: str, text: str) -> Any:
    """The value Flux's YAML-to-JSON step gives TEXT, the expansion of ORIGINAL."""
    if not emitted_plain(original):
        return text
    value = yaml.load("v: " + text + "\n", Loader=Yaml11Loader)["v"]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON has one number type: 3.0 comes back as 3
    return value


def emitted_plain(text: str) -> bool:
    """Whether a YAML encoder writes TEXT as a plain (unquoted) block value."""
    if "\n" in text:
        return False
    analysis = yaml.emitter.Emitter(None).analyze_scalar(text)  # type: ignore[arg-type]
    if not analysis.allow_block_plain or analysis.empty:
        return False
    return isinstance(yaml.load("v: " + text, Loader=Yaml11Loader)["v"], str)


class Yaml11Loader(yaml.SafeLoader):
    """Resolves plain scalars as Go's yaml.v2 does (YAML 1.1 booleans including y/n, no
    sexagesimal numbers, timestamps left as text)."""


Yaml11Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    (
        "tag:yaml.org,2002:bool",
        r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
        "yYnNtTfFoO",
    ),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    Yaml11Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))

TRUE_WORDS = frozenset({"y", "yes", "true", "on"})


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() in TRUE_WORDS


Yaml11Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
