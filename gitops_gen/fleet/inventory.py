"""The fleet inventory: ``gitops-gen.yaml`` and every ``clusters/<name>/cluster.yaml``.

Both files are checked against the JSON Schemas shipped in ``gitops_gen/schemas/``
(the cluster schema is narrowed at load time to the layers the config declares),
then against the rules a schema cannot say (name equals directory, no duplicate
apps or pools, an Argo CD cluster needs a repoURL). Every problem points at the
``file:line:col`` of the offending key, so a user can jump straight to it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from gitops_gen.checks.model import Rule
from gitops_gen.errors import GitopsGenError, Problem, UsageError
from gitops_gen.fleet.layout import CLUSTER_FILE, CLUSTERS_DIR, CONFIG_PATH
from gitops_gen.repo.tree import Tree
from gitops_gen.repo.yamlio import LineMap, NodePath, load_with_lines

API_VERSION = "gitops-gen/v1alpha1"
CLUSTER_LAYER = "cluster"  # the built-in last layer
ENGINES = ("flux", "argocd")
DEFAULT_ENGINE = "flux"
DEFAULT_BRANCH = "main"

YAML = Rule("yaml", "error", "inventory", "a file that does not parse as YAML", "fleet.inventory.check_fleet")
SCHEMA = Rule(
    "schema",
    "error",
    "inventory",
    "gitops-gen.yaml or a cluster.yaml breaks its JSON Schema or a rule the schema cannot say",
    "fleet.inventory.check_fleet",
)
RULES = (YAML, SCHEMA)


@dataclass(frozen=True)
class Config:
    """``gitops-gen.yaml``."""

    path: str
    layers: tuple[str, ...]  # configured layers, general to specific, without "cluster"
    kubernetes_version: str | None
    engine: str
    repo_url: str | None
    branch: str
    lines: LineMap = field(default_factory=dict, compare=False, repr=False)
    rules: Mapping[str, str] = field(default_factory=dict)  # rule id -> error | warning | off
    vars: dict[str, str] | None = None  # Flux post-build variable defaults; None: not set
    namespace: str | None = None  # default app namespace; "{app}" stands for the app name
    flux: dict[str, Any] = field(default_factory=dict)  # gitops.flux as written
    argocd: dict[str, Any] = field(default_factory=dict)  # gitops.argocd as written

    @property
    def all_layers(self) -> tuple[str, ...]:
        """Every layer in order, the built-in ``cluster`` layer last."""
        return (*self.layers, CLUSTER_LAYER)

    def position(self, *node: str | int) -> tuple[int, int]:
        return locate(self.lines, node)


@dataclass(frozen=True)
class AppRef:
    """One entry of ``spec.apps``."""

    name: str
    enabled: bool
    overlay: str | None  # a hand-written directory under apps/<name>/, or None for the generated variant
    line: int
    col: int = 1
    namespace: str | None = None  # as written in the entry (see ``app_namespace`` for the effective one)


@dataclass(frozen=True)
class Cluster:
    """One ``clusters/<name>/cluster.yaml``, defaults applied."""

    name: str
    path: str  # repo-relative path of cluster.yaml
    layers: dict[str, str]  # configured layer -> value, in config layer order
    kubernetes_version: str
    engine: str
    node_pools: list[dict[str, Any]]  # spec.nodePools as written (plain dicts)
    apps: list[AppRef]
    raw: dict[str, Any] = field(compare=False, repr=False)
    lines: LineMap = field(default_factory=dict, compare=False, repr=False)
    vars: dict[str, str] | None = None  # spec.vars as written; None: not set
    flux: dict[str, Any] = field(default_factory=dict)  # gitops-gen.yaml's gitops.flux, then spec.gitops.flux
    argocd: dict[str, Any] = field(default_factory=dict)  # likewise for argocd

    @property
    def layer_chain(self) -> tuple[tuple[str, str], ...]:
        """(layer, value) for every layer, the built-in ``("cluster", name)`` last."""
        return (*self.layers.items(), (CLUSTER_LAYER, self.name))

    @property
    def enabled_apps(self) -> list[AppRef]:
        return [app for app in self.apps if app.enabled]

    def position(self, *node: str | int) -> tuple[int, int]:
        """(line, col) of NODE (e.g. ``"spec", "nodePools", 0, "gpu"``), or its nearest written ancestor."""
        return locate(self.lines, node)


@dataclass(frozen=True)
class Fleet:
    config: Config
    clusters: dict[str, Cluster]  # by name, sorted by name

    def cluster(self, name: str) -> Cluster:
        try:
            return self.clusters[name]
        except KeyError:
            known = ", ".join(self.clusters) or "none"
            raise UsageError(f"unknown cluster {name!r} (clusters: {known})") from None


def app_namespace(config: Config, app: AppRef) -> str | None:
    """The namespace gitops-gen gives APP: the entry's own, else the config default (not for hand-written
    overlays, which gitops-gen does not generate and so cannot put in a namespace)."""
    if app.namespace is not None:
        return app.namespace
    if app.overlay is not None or config.namespace is None:
        return None
    return config.namespace.replace("{app}", app.name)


def locate(lines: Mapping[tuple[Any, ...], tuple[int, int]], node: tuple[Any, ...]) -> tuple[int, int]:
    """Position of NODE, falling back to its nearest ancestor that is written in the file."""
    for end in range(len(node), -1, -1):
        found = lines.get(tuple(node[:end]))
        if found is not None:
            return found
    return (1, 1)


def field_name(node: tuple[Any, ...]) -> str:
    """``("spec", "nodePools", 0, "nodes")`` -> ``spec.nodePools[0].nodes``."""
    out = ""
    for part in node:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


# ---------------------------------------------------------------- schemas


@cache
def schema_text(name: str) -> str:
    """The packaged JSON Schema NAME (``config.schema.json`` or ``cluster.schema.json``)."""
    return resources.files("gitops_gen").joinpath("schemas", name).read_text(encoding="utf-8")


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """NODE with every local ``{"$ref": "#/$defs/x"}`` replaced by its definition.

    Our schemas are not recursive; resolving references once here makes each
    validation several times faster than letting jsonschema resolve them per instance.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _load_schema(name: str) -> dict[str, Any]:
    schema = json.loads(schema_text(name))
    inlined: dict[str, Any] = _inline_refs(schema, schema.get("$defs", {}))
    return inlined


def _is_integer(_checker: Any, value: Any) -> bool:
    # JSON Schema counts 4.0 and 1e3 as integers; Kubernetes, kustomize and validate's checks do not.
    return isinstance(value, int) and not isinstance(value, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@cache
def _config_validator() -> jsonschema.protocols.Validator:
    return _Validator(_load_schema("config.schema.json"))


@cache
def _cluster_validator(layers: tuple[str, ...] | None) -> jsonschema.protocols.Validator:
    """The cluster schema, narrowed to exactly LAYERS under spec.layers (None: any layer names)."""
    schema = _load_schema("cluster.schema.json")
    if layers is not None:
        spec_layers = schema["properties"]["spec"]["properties"]["layers"]
        value = copy.deepcopy(spec_layers["additionalProperties"])
        spec_layers["properties"] = {layer: value for layer in layers}
        spec_layers["required"] = list(layers)
        spec_layers["additionalProperties"] = False
        if not layers:
            schema["properties"]["spec"]["required"].remove("layers")
    return _Validator(schema)


_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


Blame = tuple[NodePath, str]  # the node to blame and a short message naming the field


def _unknown_field(
    err: jsonschema.ValidationError, node: NodePath, layers: tuple[str, ...] | None
) -> Blame | None:
    schema: Any = err.schema
    value: Any = err.instance
    allowed = set(schema.get("properties", {}))
    extra = sorted((k for k in value if k not in allowed), key=str)
    if not extra:
        return None
    node = (*node, extra[0])
    if node[:2] == ("spec", "layers") and len(node) == 3 and layers is not None:
        known = ", ".join(layers) or "none"
        return node, f"{field_name(node)}: unknown layer (gitops-gen.yaml layers: {known})"
    return node, f"{field_name(node)}: unknown field"


def _missing_field(
    err: jsonschema.ValidationError, node: NodePath, layers: tuple[str, ...] | None
) -> Blame | None:
    want: Any = err.validator_value
    value: Any = err.instance
    missing = [k for k in want if k not in value]
    # jsonschema reports each missing property as its own error; find which one this is.
    name = next((k for k in missing if repr(k) in err.message), missing[0] if missing else "?")
    if node == ("spec", "layers"):
        return node, f"spec.layers: missing value for layer {name!r}"
    return node, f"{field_name((*node, name))}: missing required field"


def _dependent_field(
    err: jsonschema.ValidationError, node: NodePath, layers: tuple[str, ...] | None
) -> Blame | None:
    want: Any = err.validator_value
    value: Any = err.instance
    for key, needs in want.items():
        if key in value:
            lacking = [n for n in needs if n not in value]
            if lacking:
                return (*node, key), f"{field_name((*node, key))}: needs {field_name((*node, lacking[0]))}"
    return None


def _wrong_type(want: Any, value: Any, node: NodePath) -> str:
    types = [want] if isinstance(want, str) else list(want)
    expected = " or ".join(_JSON_TYPES.get(t, t) for t in types)
    hint = ' (quote it: "1.30" is a string, 1.30 the number 1.3)' if isinstance(value, float) else ""
    return f"expected {expected}, got {_type_of(value)} {_show(value)}{hint}"


# Errors about a mapping's keys: they may blame a child node (or, returning None, fall through).
_KEY_ERRORS: dict[
    str, Callable[[jsonschema.ValidationError, NodePath, tuple[str, ...] | None], Blame | None]
] = {
    "additionalProperties": _unknown_field,
    "required": _missing_field,
    "dependentRequired": _dependent_field,
}
# Errors about a value: what follows "<field>: ", from the schema's WANT and the VALUE found.
_VALUE_ERRORS: dict[str, Callable[[Any, Any, NodePath], str]] = {
    "type": _wrong_type,
    "const": lambda want, value, node: f"must be {_show(want)}, got {_show(value)}",
    "enum": lambda want, value, node: f"must be one of {', '.join(map(str, want))}; got {_show(value)}",
    "minimum": lambda want, value, node: f"must be >= {want}, got {_show(value)}",
    "pattern": lambda want, value, node: f"{_show(value)} is not a valid {_pattern_name(node)}",
    "maxLength": lambda want, value, node: f"longer than {want} characters",
    "minLength": lambda want, value, node: "must not be empty",
    "uniqueItems": lambda want, value, node: "has duplicate entries",
    "not": lambda want, value, node: f"{_show(value)} is reserved",
}


def _schema_problem(err: jsonschema.ValidationError, layers: tuple[str, ...] | None) -> Blame:
    """The node to blame and a short message naming the field, for one schema error."""
    node: NodePath = tuple(err.absolute_path)
    key_error = _KEY_ERRORS.get(str(err.validator))
    if key_error is not None and isinstance(err.instance, dict):
        found = key_error(err, node, layers)
        if found is not None:
            return found
    value_error = _VALUE_ERRORS.get(str(err.validator))
    if value_error is not None:
        return node, f"{field_name(node)}: {value_error(err.validator_value, err.instance, node)}"
    return node, f"{field_name(node)}: {err.message}"


def _pattern_name(node: NodePath) -> str:
    if node == ("kubernetesVersion",) or node == ("spec", "kubernetesVersion"):
        return 'Kubernetes minor version like "1.30"'
    if node[-1:] == ("vars",):
        return "Flux variable name (letters, digits and '_', not starting with a digit)"
    if node[-1:] in (("interval",), ("retryInterval",), ("timeout",)):
        return "duration like 5m or 1h30m"
    if node == ("namespace",):
        return "namespace (lowercase letters, digits, '-' and {app})"
    if node[-1:] == ("syncOptions",) or (len(node) >= 2 and node[-2] == "syncOptions"):
        return "sync option like CreateNamespace=true"
    if node[-1:] == ("overlay",) or node[:2] == ("spec", "layers"):
        return "directory name"
    return "name (lowercase letters, digits and '-')"


# ---------------------------------------------------------------- loading


class _Collector:
    """Problems of one file, sorted at the end."""

    def __init__(self, tree: Tree, path: str, lines: LineMap | None = None):
        self.tree = tree
        self.path = path
        self.lines = lines or {}
        self.problems: list[Problem] = []

    def add(self, node: NodePath, message: str, rule: str = "") -> None:
        line, col = locate(self.lines, node)
        self.problems.append(
            Problem(self.tree.display(self.path), line, col, "error", rule or SCHEMA.id, message)
        )


def _load_one(tree: Tree, path: str, out: list[Problem]) -> tuple[Any, LineMap] | None:
    """The single YAML document of PATH with its positions, or None after recording why not."""
    try:
        docs, maps = load_with_lines(tree.read(path), tree.display(path))
    except GitopsGenError as err:
        out.append(
            Problem(
                err.path or tree.display(path), err.line or 1, err.col or 1, "error", YAML.id, err.message
            )
        )
        return None
    if not docs:
        out.append(Problem(tree.display(path), 1, 1, "error", SCHEMA.id, "the file is empty"))
        return None
    if len(docs) > 1:
        line, col = maps[1].get((), (1, 1))
        out.append(
            Problem(
                tree.display(path), line, col, "error", SCHEMA.id, "expected one YAML document, found more"
            )
        )
        return None
    return docs[0], maps[0]


@cache
def _item_validator(array: str) -> jsonschema.protocols.Validator:
    """The validator of one item of ``spec.<array>`` (the schema's own item definition)."""
    items = _load_schema("cluster.schema.json")["properties"]["spec"]["properties"][array]["items"]
    return _Validator(items)


_ITEM_ARRAYS = ("nodePools", "apps")
_item_memo: dict[tuple[str, str], bool] = {}


def _item_valid(array: str, item: Any) -> bool:
    try:
        key = (array, json.dumps(item, sort_keys=True))
    except (TypeError, ValueError):
        return _item_validator(array).is_valid(item)
    found = _item_memo.get(key)
    if found is None:
        if len(_item_memo) > 100_000:  # bound the memory of a long-lived process
            _item_memo.clear()
        found = _item_memo[key] = _item_validator(array).is_valid(item)
    return found


def _quick_valid(validator: jsonschema.protocols.Validator, doc: Any) -> bool:
    """True only if DOC is valid; items of spec.nodePools / spec.apps are checked once per distinct value.

    jsonschema is slow per node and a fleet repeats the same pools and app entries
    in every cluster. The two arrays carry no array-level constraints (only the item
    schema), so checking each distinct item once and the rest of the document with
    the arrays emptied gives exactly the schema's verdict.
    """
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if not isinstance(spec, dict):
        return False
    trimmed = dict(spec)
    for array in _ITEM_ARRAYS:
        items = spec.get(array)
        if isinstance(items, list):
            if not all(_item_valid(array, item) for item in items):
                return False
            trimmed[array] = []
    return validator.is_valid({**doc, "spec": trimmed})


def _validate(
    validator: jsonschema.protocols.Validator, doc: Any, col: _Collector, layers: tuple[str, ...] | None
) -> bool:
    if layers is not None and _quick_valid(validator, doc):
        return True
    # Invalid (or nothing to trim): validate the real document so error paths index the file.
    seen: set[tuple[NodePath, str]] = set()
    for err in validator.iter_errors(doc):
        found = _schema_problem(err, layers)
        if found not in seen:
            seen.add(found)
            col.add(*found)
    return not seen


def _check_config(tree: Tree, out: list[Problem]) -> Config | None:
    if tree.kind(CONFIG_PATH) != "file":
        out.append(
            Problem(
                tree.display(CONFIG_PATH),
                1,
                1,
                "error",
                SCHEMA.id,
                "no gitops-gen.yaml: is --repo the root of a fleet repository?",
            )
        )
        return None
    loaded = _load_one(tree, CONFIG_PATH, out)
    if loaded is None:
        return None
    doc, lines = loaded
    col = _Collector(tree, CONFIG_PATH, lines)
    ok = _validate(_config_validator(), doc, col, None)
    out.extend(col.problems)
    if not ok:
        return None
    gitops = doc.get("gitops") or {}
    engine = gitops.get("engine", DEFAULT_ENGINE)
    if engine == "argocd" and not gitops.get("repoURL"):
        col.add(("gitops", "engine"), "gitops.repoURL: required when gitops.engine is argocd")
        out.extend(col.problems)
        return None
    return Config(
        path=CONFIG_PATH,
        layers=tuple(doc["layers"]),
        kubernetes_version=doc.get("kubernetesVersion"),
        engine=engine,
        repo_url=gitops.get("repoURL"),
        branch=gitops.get("branch", DEFAULT_BRANCH),
        lines=lines,
        rules=dict(doc.get("rules") or {}),
        vars=doc.get("vars"),
        namespace=doc.get("namespace"),
        flux=dict(gitops.get("flux") or {}),
        argocd=dict(gitops.get("argocd") or {}),
    )


def _duplicates(items: list[Any], key: str, node: NodePath, what: str, col: _Collector) -> None:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        name = item if isinstance(item, str) else item.get(key) if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            line = locate(col.lines, (*node, first[name]))[0]
            col.add(
                (*node, index),
                f"{field_name((*node, index))}: duplicate {what} {name!r} (first at line {line})",
            )
        else:
            first[name] = index


def _app_refs(items: list[Any], lines: LineMap) -> list[AppRef]:
    refs = []
    for index, item in enumerate(items):
        line, col = locate(lines, ("spec", "apps", index))
        if isinstance(item, str):
            refs.append(AppRef(item, True, None, line, col))
        else:
            refs.append(
                AppRef(
                    item["name"],
                    item.get("enabled", True),
                    item.get("overlay"),
                    line,
                    col,
                    item.get("namespace"),
                )
            )
    return refs


def _check_cluster(tree: Tree, dirname: str, config: Config | None, out: list[Problem]) -> Cluster | None:
    path = f"{CLUSTERS_DIR}/{dirname}/{CLUSTER_FILE}"
    loaded = _load_one(tree, path, out)
    if loaded is None:
        return None
    doc, lines = loaded
    col = _Collector(tree, path, lines)
    layers = config.layers if config is not None else None
    ok = _validate(_cluster_validator(layers), doc, col, layers)
    if isinstance(doc, dict):
        name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
        if isinstance(name, str) and name != dirname:
            col.add(
                ("metadata", "name"), f"metadata.name: {name!r} must equal its directory name {dirname!r}"
            )
        spec: dict[str, Any] = doc["spec"] if isinstance(doc.get("spec"), dict) else {}
        if isinstance(spec.get("nodePools"), list):
            _duplicates(spec["nodePools"], "name", ("spec", "nodePools"), "node pool", col)
        if isinstance(spec.get("apps"), list):
            _duplicates(spec["apps"], "name", ("spec", "apps"), "app", col)
    out.extend(col.problems)
    if not ok or col.problems or config is None:
        return None
    spec = doc["spec"]
    assert isinstance(spec, dict)
    version = spec.get("kubernetesVersion") or config.kubernetes_version
    engine = (spec.get("gitops") or {}).get("engine") or config.engine
    if version is None:
        col.add(
            ("spec",), "spec.kubernetesVersion: required (gitops-gen.yaml sets no default kubernetesVersion)"
        )
    if engine == "argocd" and not config.repo_url:
        col.add(
            ("spec", "gitops", "engine"), "spec.gitops.engine: argocd needs gitops.repoURL in gitops-gen.yaml"
        )
    if engine == "argocd" and "vars" in spec:
        col.add(
            ("spec", "vars"),
            "spec.vars: only Flux substitutes post-build variables (this cluster uses argocd)",
        )
    if col.problems:
        out.extend(col.problems)
        return None
    spec_layers = spec.get("layers") or {}
    own = spec.get("gitops") or {}
    return Cluster(
        name=dirname,
        path=path,
        layers={layer: spec_layers[layer] for layer in config.layers},
        kubernetes_version=str(version),
        engine=engine,
        node_pools=list(spec.get("nodePools") or []),
        apps=_app_refs(spec.get("apps") or [], lines),
        raw=doc,
        lines=lines,
        vars=spec.get("vars"),
        flux={**config.flux, **(own.get("flux") or {})},
        argocd={**config.argocd, **(own.get("argocd") or {})},
    )


def cluster_dirs(tree: Tree) -> Iterator[str]:
    """Names of the directories under clusters/ that hold a cluster.yaml."""
    for name in tree.listdir(CLUSTERS_DIR):
        if tree.kind(f"{CLUSTERS_DIR}/{name}/{CLUSTER_FILE}") == "file":
            yield name


def _lost_clusters(tree: Tree) -> Iterator[str]:
    """Directories under clusters/ that were a cluster but have no cluster.yaml file now (renamed,
    made a directory, deleted, unreadable): skipping them would delete the cluster's mapping and
    sync object, and Flux would prune its workloads. A directory of only hand-written files is not
    a cluster and stays ignored."""
    for name in tree.listdir(CLUSTERS_DIR):
        base = f"{CLUSTERS_DIR}/{name}"
        if name.startswith(".") or tree.kind(base) != "dir" or tree.kind(f"{base}/{CLUSTER_FILE}") == "file":
            continue
        entries = tree.listdir(base)
        if (
            not entries
            or any(e.startswith("cluster.") for e in entries)
            or _generated_sync(tree, f"{base}/sync.yaml")
        ):
            yield name


def _generated_sync(tree: Tree, path: str) -> bool:
    if tree.kind(path) != "file":
        return False
    try:
        return tree.read(path).startswith(b"# Generated by gitops-gen")
    except GitopsGenError:
        return False


def check_fleet(tree: Tree) -> tuple[Fleet | None, list[Problem]]:
    """Load the inventory collecting every problem; the fleet is None unless there are none."""
    problems: list[Problem] = []
    config = _check_config(tree, problems)
    clusters: dict[str, Cluster] = {}
    for name in _lost_clusters(tree):
        problems.append(
            Problem(
                tree.display(f"{CLUSTERS_DIR}/{name}"),
                1,
                1,
                "error",
                SCHEMA.id,
                f"no readable {CLUSTER_FILE} in this cluster directory (to remove the cluster, "
                "delete the whole directory)",
            )
        )
    for name in cluster_dirs(tree):
        cluster = _check_cluster(tree, name, config, problems)
        if cluster is not None:
            clusters[name] = cluster
    # The config first: a broken config explains the cluster problems that follow from it.
    problems.sort(key=lambda p: (p.path != tree.display(CONFIG_PATH), p))
    if problems or config is None:
        return None, problems
    return Fleet(config, clusters), problems


def load_fleet(tree: Tree) -> Fleet:
    """The fleet, or GitopsGenError for its first problem (by file, then line)."""
    fleet, problems = check_fleet(tree)
    if problems:
        first = problems[0]
        extra = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise GitopsGenError(first.message + extra, first.path, first.line, first.col)
    assert fleet is not None
    return fleet
