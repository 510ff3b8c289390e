"""Which values key set a field that a Helm chart rendered (`helmCharts`, Flux HelmReleases).

A template is code, so the field cannot be read back to a key. We re-render instead, in trace mode
only (explain, and validate's rebuild of clusters with findings; never a plain render):

1. once with every non-empty string of the values (the chart's defaults, its subcharts' and the
   user's) replaced by a marker unique to its key; the markers found in the field (its value, or
   the map keys on its path) name the keys that fed it;
2. for a number or a boolean, or when the markers changed what the template does, once per key
   holding the same value, with that one value changed: a field that follows it came from it.

Empty strings, zeros and false are not marked (a marker would flip the template's conditions).
The key is then found in the last values source that sets it (the user's over the chart's defaults),
at its line. A field no key explains was set by the template itself, and we say which one.
"""

from __future__ import annotations

import copy
import functools
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.builtins import helm
from gitops_gen.provenance.paths import MISSING, FieldPath, Locator, Sel, Setter, get
from gitops_gen.repo import yamlio

# provenance.chain, given by the caller (it calls us): the setters of a field of a traced Resource.
Chain = Callable[[Any, FieldPath], list[Setter]]

KeyPath = tuple[str | int, ...]
_MARK = re.compile(r"zqx(\d+)k", re.IGNORECASE)
MAX_PROBES = 24  # one-value renders per field: enough for the keys sharing a value, bounded


@dataclass
class Marks:
    """Marker n stands for keys[n], whose value was originals[n]."""

    keys: list[KeyPath] = field(default_factory=list)
    originals: list[str] = field(default_factory=list)
    index: dict[KeyPath, int] = field(default_factory=dict)

    def of(self, key: KeyPath, value: str) -> str:
        n = self.index.get(key)
        if n is None:
            n = self.index[key] = len(self.keys)
            self.keys.append(key)
            self.originals.append(value)
        return f"zqx{n}k"

    def found(self, text: str) -> list[KeyPath]:
        out: list[KeyPath] = []
        for m in _MARK.finditer(text):
            n = int(m.group(1))
            if n < len(self.keys) and self.keys[n] not in out:
                out.append(self.keys[n])
        return out

    def unmark(self, text: str) -> str:
        return _MARK.sub(lambda m: self._original(int(m.group(1)), m.group(0)), text)

    def _original(self, n: int, text: str) -> str:
        return self.originals[n] if n < len(self.originals) else text


def marked(node: Any, marks: Marks, prefix: KeyPath = ()) -> Any:
    if isinstance(node, dict):
        return {k: marked(v, marks, (*prefix, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [marked(v, marks, (*prefix, i)) for i, v in enumerate(node)]
    if isinstance(node, str) and node:
        return marks.of(prefix, node)
    return node


# ---------------------------------------------------------------- the chart's own defaults


def chart_defaults(ct: helm.ChartTrace) -> list[tuple[KeyPath, str, dict[str, Any]]]:
    """(key prefix, values file inside the chart, its values): subcharts' first, then the chart's."""
    out: list[tuple[KeyPath, str, dict[str, Any]]] = []
    for name in sorted(ct.request.chart):
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "charts" and parts[2] == "values.yaml":
            out.append(((parts[1],), name, _load(ct.request.chart[name])))
    out.append(((), "values.yaml", _load(ct.request.chart.get("values.yaml", b""))))
    return out


def _load(data: bytes) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


@functools.lru_cache(maxsize=64)
def effective(ct: helm.ChartTrace) -> dict[str, Any]:
    """Roughly what the templates see (defaults under the user's values): where probes look."""
    out: dict[str, Any] = {}
    for prefix, _, values in chart_defaults(ct):
        node = out
        for step in prefix:
            node = node.setdefault(str(step), {})
        node.update(helm.merge_values(node, values))
    merged = helm.merge_values(out, ct.request.values)
    return dict(json.loads(json.dumps(merged, default=str)))  # as Helm reads them: dates are strings


# ---------------------------------------------------------------- rendering variants


def variant(ct: helm.ChartTrace, values: dict[str, Any], defaults: dict[str, bytes]) -> Any:
    """The object CT describes, rendered again with VALUES and the values files DEFAULTS (None: gone)."""
    chart = {k: v for k, v in ct.request.chart.items() if posixpath.basename(k) != "values.schema.json"}
    chart.update(defaults)  # markers are strings where the schema wants numbers: no schema here
    request = helm.Request(
        chart=chart,
        chart_name=ct.request.chart_name,
        values=json.loads(json.dumps(values, default=str)),  # dates as Helm reads them: strings
        release=ct.request.release,
        namespace=ct.request.namespace,
        include_crds=False,
        kube_version=ct.request.kube_version,
        api_versions=ct.request.api_versions,
    )
    try:
        rendered = helm.backend()(request)
        docs = [d for s, d in helm.manifests(request, rendered, ct.options) if s == ct.source]
    except GitopsGenError:
        return None
    return docs[ct.index] if ct.index < len(docs) else None


def follow(orig: Any, other: Any, path: FieldPath, marks: Marks | None) -> tuple[Any, list[KeyPath]]:
    """The node of OTHER (a re-render) at the place PATH names in ORIG, and the keys whose markers
    named a map key on the way (MISSING when the re-render has no such place)."""
    named: list[KeyPath] = []
    here, there = orig, other
    for step in path:
        if isinstance(step, Sel | int):
            if not isinstance(here, list) or not isinstance(there, list):
                return MISSING, named
            mine = step if isinstance(step, int) else _position(here, step, None)
            index = step if isinstance(step, int) else _position(there, step, marks, mine)
            if not -len(there) <= index < len(there):
                return MISSING, named
            here = here[mine] if -len(here) <= mine < len(here) else MISSING
            there = there[index]
            continue
        if not isinstance(there, dict):
            return MISSING, named
        if step in there:
            key: Any = step
        else:
            key = next((k for k in there if _same(k, step, marks)), MISSING)
            if key is MISSING:
                return MISSING, named
            named.extend(k for k in (marks.found(str(key)) if marks else []) if k not in named)
        here = here.get(step, MISSING) if isinstance(here, dict) else MISSING
        there = there[key]
    return there, named


def _position(items: list[Any], sel: Sel, marks: Marks | None, default: int = -1) -> int:
    found = (
        i
        for i, item in enumerate(items)
        if isinstance(item, dict) and _same(item.get(sel.key), sel.value, marks)
    )
    return next(found, default)


def _same(value: Any, want: Any, marks: Marks | None) -> bool:
    if value is None:
        return False
    text = str(value)
    return (marks.unmark(text) if marks else text) == str(want)


@dataclass
class Traced:
    keys: list[KeyPath]  # values keys the value came from
    names: list[KeyPath]  # values keys that named a map key on the field's path
    computed: bool = False  # the value is not any key's value as written (template text, arithmetic)


# Renders are kept per chart rendering (a ChartTrace, hashed by identity): explain of a map traces
# each of its leaves, validate each finding, against the same few renders.
@functools.lru_cache(maxsize=64)
def marker_render(ct: helm.ChartTrace) -> tuple[Marks, Any]:
    marks = Marks()
    user = marked(ct.request.values, marks)  # first: a marker's original is the value that wins
    defaults = {
        name: json.dumps(marked(values, marks, prefix), default=str).encode()
        for prefix, name, values in chart_defaults(ct)
    }
    return marks, variant(ct, user, defaults)


@functools.lru_cache(maxsize=1024)
def probe_render(ct: helm.ChartTrace, key: KeyPath) -> tuple[Any, Any]:
    """KEY's changed value, and the object rendered with only that change."""
    base = effective(ct)
    old = get(base, key)
    new: Any = (
        (not old) if isinstance(old, bool) else old + 1 if isinstance(old, int | float) else f"{old}zqx0k"
    )
    return new, variant(ct, with_value(base, key, new), {})


def trace(ct: helm.ChartTrace, obj: dict[str, Any], path: FieldPath) -> Traced:
    """The values keys behind PATH of OBJ (the object as the chart rendered it)."""
    value = get(obj, path)
    marks, again = marker_render(ct)
    found = Traced([], [])
    if again is not None:
        there, found.names = follow(obj, again, path, marks)
        if isinstance(there, str):
            found.keys = marks.found(there)
            found.computed = bool(found.keys) and not _MARK.fullmatch(there)
        if isinstance(value, str) and found.keys:
            base = effective(ct)  # numbers printed into the string carry no marker: probe them
            numeric = [k for k in candidates(base, value) if not isinstance(get(base, k), str)]
            more = [k for k in numeric[:MAX_PROBES] if _moves(ct, obj, path, k, value) != "stays"]
            found.keys += more
            found.computed = found.computed or bool(more)
            return found
    found.keys, found.computed = probe(ct, obj, path, value)
    return found


def probe(
    ct: helm.ChartTrace, obj: dict[str, Any], path: FieldPath, value: Any
) -> tuple[list[KeyPath], bool]:
    """Keys holding VALUE, each changed alone: the ones the field follows. Else, for a number, the
    numeric keys it moves with (arithmetic in the template): (keys, computed)."""
    if value is MISSING or isinstance(value, dict | list) or value is None:
        return [], False
    base = effective(ct)
    equal = candidates(base, value)
    if isinstance(value, str):  # keys whose text is part of the string (a number in an image tag)
        moved = [k for k in equal[:MAX_PROBES] if _moves(ct, obj, path, k, value) != "stays"]
        return moved, bool(moved)
    direct = [k for k in equal[:MAX_PROBES] if _moves(ct, obj, path, k, value) == "follows"]
    if direct or isinstance(value, bool) or not isinstance(value, int | float):
        return direct, False
    others = [k for k in numbers(base) if k not in equal][: max(0, MAX_PROBES - len(equal))]
    moved = [k for k in others if _moves(ct, obj, path, k, value) != "stays"]
    return moved, bool(moved)


def _moves(ct: helm.ChartTrace, obj: dict[str, Any], path: FieldPath, key: KeyPath, value: Any) -> str:
    """What PATH does when KEY alone changes: follows (takes the new value), moves, or stays."""
    new, again = probe_render(ct, key)
    if again is None:
        return "stays"
    there, _ = follow(obj, again, path, None)
    if there == new or (isinstance(new, str) and isinstance(there, str) and "zqx0k" in there):
        return "follows"
    return "stays" if there == value else "moves"


def numbers(values: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    if isinstance(values, dict):
        return [k for key, v in values.items() for k in numbers(v, (*prefix, key))]
    if isinstance(values, list):
        return [k for i, v in enumerate(values) for k in numbers(v, (*prefix, i))]
    return [prefix] if isinstance(values, int | float) and not isinstance(values, bool) else []


def candidates(values: Any, value: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    if isinstance(values, dict):
        return [k for key, v in values.items() for k in candidates(v, value, (*prefix, key))]
    if isinstance(values, list):
        return [k for i, v in enumerate(values) for k in candidates(v, value, (*prefix, i))]
    if isinstance(value, bool) or isinstance(values, bool):
        return [prefix] if type(values) is type(value) and values == value else []
    if isinstance(values, int | float) and isinstance(value, int | float):
        return [prefix] if values == value else []
    if isinstance(value, str) and values is not None and not isinstance(values, dict | list):
        text = values if isinstance(values, str) else json.dumps(values, default=str)
        return [prefix] if text and text in value else []
    return []


def with_value(values: dict[str, Any], key: KeyPath, new: Any) -> dict[str, Any]:
    """A copy of VALUES (which hold KEY: candidates() found it there) with KEY set to NEW."""
    out = copy.deepcopy(values)
    node: Any = out
    for step in key[:-1]:
        node = node[step]
    node[key[-1]] = new
    return out


# ---------------------------------------------------------------- where each key is written


def dotted(key: KeyPath) -> str:
    text = ""
    for step in key:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += ("." if text else "") + (f'"{step}"' if "." in step else step)
    return text


def key_setters(ct: helm.ChartTrace, key: KeyPath, locator: Locator, kind: str, chain: Chain) -> list[Setter]:
    """Every values source that sets KEY, lowest precedence first (the last one is what Helm used)."""
    tree = locator.tree
    out: list[Setter] = []
    for prefix, name, values in chart_defaults(ct):
        if key[: len(prefix)] != prefix:
            continue
        value = get(values, key[len(prefix) :])
        if value is MISSING:
            continue
        where = tree.display(posixpath.join(ct.chart_dir, name))
        line, col = locator.locate(where, 0, key[len(prefix) :])
        label = f"chart default {dotted(key)}"
        text = locator.source_line(where, line)
        out.append(Setter(where, line, col, value, kind, label, text, dotted(key)))
    for source in ct.sources:
        if source.target:
            if tuple(key) != source.target:
                continue
        elif get(source.values, key) is MISSING:
            continue
        out.extend(_source_setters(source, key, locator, kind, chain))
    return out


def _source_setters(
    source: helm.ValuesSource, key: KeyPath, locator: Locator, kind: str, chain: Chain
) -> list[Setter]:
    label = f"{source.label} {dotted(key)}"
    # valuesFrom values are YAML text inside one ConfigMap/Secret key: trace that key, then look inside.
    embedded = source.label.startswith("valuesFrom")
    at = source.at if embedded else (*source.at, *key)
    res = source.resource
    if res is not None and res.history:
        found = chain(res, at)
        if embedded and not source.target:
            found = [_inside(s, res, source, key, locator) for s in found]
        if found:
            return [Setter(s.path, s.line, s.col, s.value, kind, label, s.text, dotted(key)) for s in found]
    value = source.values if source.target else get(source.values, key)
    line, col = locator.locate(source.path, source.doc, at)
    text = locator.source_line(source.path, line)
    return [Setter(source.path, line, col, value, kind, label, text, dotted(key))]


def _inside(setter: Setter, res: Any, source: helm.ValuesSource, key: KeyPath, locator: Locator) -> Setter:
    """SETTER of a ConfigMap/Secret key holding values YAML, moved to KEY's line inside that YAML: in
    the file a generator read it from, or inside a literal block of a manifest."""
    value = get(source.values, key)
    if setter.origin_kind == "generator":
        path = generator_file(locator, setter.path, res.org_id().name, str(source.at[-1]))
        if path is not None:
            line, col = locator.locate(path, 0, key)
            return Setter(path, line, col, value, "", "", locator.source_line(path, line))
        return setter
    if setter.line is None or not isinstance(setter.value, str):
        return setter
    if not re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", locator.source_line(setter.path, setter.line)):
        return setter
    try:
        _, maps = yamlio.load_with_lines(setter.value.encode(), "<values>")
    except GitopsGenError:
        return setter
    inner = maps[0].get(tuple(key)) if maps else None
    if inner is None:
        return setter
    line = setter.line + inner[0]
    return Setter(setter.path, line, None, value, "", "", locator.source_line(setter.path, line))


def generator_file(locator: Locator, kust_path: str, name: str, data_key: str) -> str | None:
    """The file a configMapGenerator/secretGenerator entry of KUST_PATH named NAME reads DATA_KEY from."""
    try:
        doc = yaml.safe_load(locator.tree.read(kust_path))
    except (yaml.YAMLError, GitopsGenError):
        return None
    if not isinstance(doc, dict):
        return None
    for field_name in ("configMapGenerator", "secretGenerator"):
        for entry in doc.get(field_name) or []:
            if not isinstance(entry, dict) or entry.get("name") != name:
                continue
            for item in entry.get("files") or []:
                written, _, rel = str(item).partition("=")
                key, rel = (written, rel) if rel else (posixpath.basename(written), written)
                if key == data_key:
                    return posixpath.normpath(posixpath.join(posixpath.dirname(kust_path), rel))
    return None


def setters(
    ct: helm.ChartTrace, obj: dict[str, Any], path: FieldPath, locator: Locator, chain: Chain
) -> list[Setter]:
    """What set PATH of OBJ (as rendered by CT's chart): the values keys, at their lines, oldest first,
    the keys that named the field before the ones that gave its value; else the template."""
    try:
        found = trace(ct, obj, path)
    except GitopsGenError:
        found = Traced([], [])
    out: list[Setter] = []
    for key in found.names:
        out.extend(key_setters(ct, key, locator, "helm-key", chain))
    for key in found.keys:
        kind = "helm-computed" if found.computed else "helm-values"
        out.extend(key_setters(ct, key, locator, kind, chain))
    out.sort(key=_rank)
    return out or [template_setter(ct, obj, path, locator)]


def _rank(setter: Setter) -> tuple[int, int]:
    default = setter.field.startswith("chart default")
    return (0 if default else 1, 0 if setter.origin_kind == "helm-key" else 1)


def template_setter(ct: helm.ChartTrace, obj: dict[str, Any], path: FieldPath, locator: Locator) -> Setter:
    """The template that wrote PATH itself, at the line that writes its key and value when one does."""
    inner = ct.source.split("/", 1)[1] if "/" in ct.source else ct.source
    where = locator.tree.display(posixpath.join(ct.chart_dir, inner))
    value = get(obj, path)
    line = None
    last = next((s for s in reversed(path) if isinstance(s, str)), None)
    if last is not None and not isinstance(value, dict | list):
        text = _read(locator, posixpath.join(ct.chart_dir, inner))
        literal = re.compile(rf"^\s*-?\s*\"?{re.escape(last)}\"?:\s*\"?{re.escape(str(value))}\"?\s*(#.*)?$")
        hits = [n for n, row in enumerate(text.splitlines(), 1) if literal.match(row)]
        line = hits[0] if len(hits) == 1 else None
    return Setter(where, line, None, value, "helm-template", "template", locator.source_line(where, line))


def _read(locator: Locator, path: str) -> str:
    try:
        return locator.tree.read(path).decode("utf-8", "replace")
    except GitopsGenError:
        return ""
