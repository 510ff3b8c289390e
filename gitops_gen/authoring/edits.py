"""Authoring: the edits behind `new cluster|app|layer`, `enable`, `disable` and `set image`.

Everything here is pure: a planner reads a ``Tree`` and returns a ``Change`` (the
new bytes of every file it creates or edits, the clusters affected, notes), so a
command can check the whole result (inventory and generate plan) before it
writes anything. Hand-written YAML is edited with ruamel.yaml's round trip:
comments, key order, quoting, flow style and the file's sequence indentation stay
as people wrote them. To be safe against ruamel normalising a line nobody asked
to change, only the lines the edit itself changes are replayed onto the original
text (see ``carry_over``); the result is re-read and must mean what ruamel meant.
"""

from __future__ import annotations

import difflib
import io
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.inventory import API_VERSION, CLUSTER_LAYER, Cluster, Fleet
from gitops_gen.fleet.layout import APPS_DIR, BASE_DIR, CLUSTER_FILE, CLUSTERS_DIR
from gitops_gen.kustomize.types import COMPONENT_VERSION, FILE_NAMES, KUSTOMIZATION_VERSION
from gitops_gen.repo.tree import Kind, Tree, normalize

LAYER_PATCH = "deployment-patch.yaml"
DEFAULT_TAG = "0.1.0"
# Workload kinds a layer patch may target, most likely first.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DIRNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}\Z")
_IMAGE_NAME = re.compile(r"[a-z0-9]+(?:[._/:-][a-zA-Z0-9]+|__[a-z0-9]+)*\Z")
_K8S_VERSION = re.compile(r"1\.[0-9]+\Z")
_KEY_LINE = re.compile(r"^(\s*)((?:-\s+)*)([^\s#-][^#]*?):\s*(?:#.*)?$")


@dataclass(frozen=True)
class Change:
    """What a command will write: new bytes per repo-relative path, and what to tell the user."""

    files: dict[str, bytes]
    clusters: tuple[str, ...] = ()  # clusters whose rendered manifests may change
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


# ---------------------------------------------------------------- small parsers


def check_name(name: str, what: str) -> None:
    """NAME must be a DNS-1123 label (a cluster or app name becomes object and directory names)."""
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise GitopsGenError(f"{what} name {name!r} is not a DNS-1123 label "
                             "(lowercase letters, digits and '-', starting and ending alphanumeric, at most 63)")


def parse_assignments(items: Iterable[str], option: str) -> dict[str, str]:
    """``["env=prod", ...]`` -> ``{"env": "prod"}``; a key given twice with two values is an error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise GitopsGenError(f"{option} {item!r}: expected KEY=VALUE")
        if key in out and out[key] != value:
            raise GitopsGenError(f"{option}: {key} given twice ({out[key]!r} and {value!r})")
        out[key] = value
    return out


def check_layer_value(key: str, value: str, fleet: Fleet, option: str = "--layer") -> None:
    """KEY must be a configured layer or ``cluster`` (then VALUE an existing cluster)."""
    if key == CLUSTER_LAYER:
        fleet.cluster(value)
        return
    if key not in fleet.config.layers:
        known = ", ".join(fleet.config.all_layers)
        raise GitopsGenError(f"{option} {key}={value}: unknown layer {key!r} (layers: {known})")
    if len(value) > 253 or not _DIRNAME.match(value):
        raise GitopsGenError(f"{option} {key}={value}: {value!r} is not a valid directory name")


def parse_image(ref: str) -> ImageRef:
    """``registry/name[:tag][@digest]``; the tag is after the last ':' that follows the last '/'."""
    rest, at, digest = ref.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1:]) if colon > slash else (rest, None)
    if not name or not _IMAGE_NAME.match(name):
        raise GitopsGenError(f"image {ref!r}: {name!r} is not a valid image name")
    if tag is not None and not _TAG.match(tag):
        raise GitopsGenError(f"image {ref!r}: {tag!r} is not a valid tag")
    if at and not _DIGEST.match(digest):
        raise GitopsGenError(f"image {ref!r}: {digest!r} is not a valid digest (like sha256:<64 hex digits>)")
    return ImageRef(name, tag, digest or None)


def pinned_image(ref: str) -> ImageRef:
    """An image that says exactly what runs: a tag other than ``latest``, or a digest, not both."""
    image = parse_image(ref)
    if image.tag and image.digest:
        raise GitopsGenError(f"image {ref!r}: give a tag or a digest, not both")
    if image.digest is None and image.tag in (None, "latest"):
        raise GitopsGenError(f"image {ref!r}: pin it to a tag other than 'latest' (or a digest)")
    return image


def repository(name: str) -> str:
    """The last path component of an image name: ``registry.example.com/team/pd`` -> ``pd``."""
    return name.rsplit("/", 1)[-1]


# ---------------------------------------------------------------- YAML round trip


def detect_indent(text: str, default_offset: int = 0) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel.yaml wants them, from the file's own block nesting.

    The most common step wins, so one odd line does not restyle the file; a file
    without block sequences gets DEFAULT_OFFSET for the dash (0 is kustomize's style).
    """
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping: Counter[int] = Counter()
    offset: Counter[int] = Counter()
    for prev, line in itertools.pairwise(lines):
        found = _KEY_LINE.match(prev)
        if not found:
            continue
        key_col = len(found.group(1)) + len(found.group(2))
        col = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("- ") or line.strip() == "-":
            if col >= key_col:
                offset[col - key_col] += 1
        elif col > key_col:
            mapping[col - key_col] += 1
    map_indent = mapping.most_common(1)[0][0] if mapping else 2
    dash = offset.most_common(1)[0][0] if offset else default_offset
    return map_indent, dash + 2, dash


def _yaml(indent: tuple[int, int, int]) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never fold a long line someone wrote on one line
    rt.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return rt


def load_rt(text: str, path: str) -> Any:
    """The round-trip document of TEXT; a one-line error naming PATH and the line if it is not YAML."""
    try:
        docs = list(_yaml((2, 2, 0)).load_all(text))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise GitopsGenError(f"invalid YAML: {err.problem or err.context}", path, line, col) from None
    except YAMLError as err:
        raise GitopsGenError(f"invalid YAML: {err}", path) from None
    if len(docs) != 1 or not isinstance(docs[0], CommentedMap):
        raise GitopsGenError("expected one YAML document holding a mapping", path)
    return docs[0]


def dump_rt(doc: Any, indent: tuple[int, int, int]) -> str:
    out = io.StringIO()
    _yaml(indent).dump(doc, out)
    return out.getvalue()


def carry_over(original: str, before: str, after: str) -> str:
    """AFTER's changes to BEFORE, replayed on ORIGINAL (BEFORE is ruamel's unedited dump of ORIGINAL).

    ruamel may restyle lines nobody edits (a second indentation style in one
    file, odd spacing); those keep their original bytes. A changed line must map
    onto an original line unambiguously, else ruamel's whole dump is used. An
    edited line keeps its end-of-line comment where it was (see ``realign``).
    """
    orig, old, new = (s.splitlines(keepends=True) for s in (original, before, after))
    bound: dict[int, int] = {}  # line boundary in OLD -> the same boundary in ORIG
    same: set[int] = set()  # OLD lines identical in ORIG
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, orig, autojunk=False).get_opcodes():
        bound.setdefault(i1, j1)
        bound[i2] = j2
        if tag == "equal":
            for k in range(i2 - i1):
                bound[i1 + k] = j1 + k
                same.add(i1 + k)
    starts = Counter(_comment_start(line) for line in orig)
    aligned = {col for col, count in starts.items() if col is not None and count > 1}
    out: list[str] = orig[:bound.get(0, 0)]  # e.g. a `---` ruamel does not write back
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if i1 not in bound or i2 not in bound:
            return after
        if tag == "equal":
            out.extend(orig[bound[i1]:bound[i2]])
        elif all(k in same for k in range(i1, i2)):
            out.extend(_realign_hunk(old[i1:i2], new[j1:j2], aligned))
        else:
            return after
    merged = "".join(out)
    if merged == after:
        return after
    try:
        return merged if _reread(merged, "") == _reread(after, "") else after
    except GitopsGenError:
        return after


def _comment_start(line: str) -> int | None:
    """Index of the '#' starting LINE's end-of-line comment, outside quotes; None without one."""
    quote = None
    for i, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"" and (i == 0 or line[i - 1] in " :[{,-"):
            quote = char
        elif char == "#" and i > 0 and line[i - 1] in " \t":
            return i if line[:i].strip() else None
    return None


def _realign_hunk(old: list[str], new: list[str], aligned: AbstractSet[int]) -> list[str]:
    """NEW lines (an edit of the OLD ones) with each end-of-line comment placed as on its OLD line."""
    unused = list(old)
    out = []
    for line in new:
        start = _comment_start(line)
        origin = next((o for o in unused if start is not None and (c := _comment_start(o)) is not None
                       and o[c:] == line[start:]), None)
        if origin is None:
            out.append(line)
            continue
        unused.remove(origin)
        out.append(realign(origin, line, aligned))
    return out


def realign(old: str, new: str, aligned: AbstractSet[int] = frozenset()) -> str:
    """NEW (an edit of the line OLD) with OLD's end-of-line comment: at the same column if that column
    is one ALIGNED comments share (and the text still fits), else as far after the text as before."""
    c_old, c_new = _comment_start(old), _comment_start(new)
    if c_old is None or c_new is None or old[c_old:] != new[c_new:]:
        return new
    text = new[:c_new].rstrip()
    gap = c_old - len(old[:c_old].rstrip())
    column = c_old if c_old in aligned and len(text) + 1 <= c_old else len(text) + gap
    return text + " " * (column - len(text)) + new[c_new:]


def rewrite(text: str, path: str, edit: Callable[[CommentedMap], None], default_offset: int = 0) -> str:
    """TEXT with EDIT applied to its round-trip document, everything else kept as written."""
    crlf = "\r\n" in text
    if crlf:
        text = text.replace("\r\n", "\n")
    indent = detect_indent(text, default_offset)
    before = dump_rt(load_rt(text, path), indent)
    doc = load_rt(text, path)
    edit(doc)
    after = dump_rt(doc, indent)
    result = carry_over(text, before, after)
    # ruamel must write what it holds; a surprise here would silently corrupt someone's file.
    if _reread(result, path) != _plain(doc):
        raise AssertionError(f"{path}: the edited YAML does not read back as written")
    return result.replace("\n", "\r\n") if crlf else result


def _reread(text: str, path: str) -> Any:
    return _plain(load_rt(text, path))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _reads_as_string(value: str) -> bool:
    """Whether VALUE written plain reads back as the same string, for YAML 1.1 and go-yaml alike."""
    if value != value.strip() or not value:
        return False
    try:
        loaded = yaml.load(f"k: {value}\n", Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return False
    if loaded != {"k": value}:
        return False
    # go-yaml v3 (kustomize) reads these as numbers where YAML 1.1 reads strings.
    return not re.match(r"[-+]?(0[xXoObB][0-9a-fA-F_]+|\.[0-9]|[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?\Z)", value)


def scalar(value: str, like: Any = None) -> Any:
    """VALUE for a YAML file: quoted like LIKE (the value it replaces) or, if it must be, double-quoted."""
    if isinstance(like, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(value)
    if isinstance(like, SingleQuotedScalarString):
        return SingleQuotedScalarString(value)
    return value if _reads_as_string(value) else DoubleQuotedScalarString(value)


def _flow_text(value: str) -> str:
    """VALUE as it appears in a flow mapping written by hand: plain if safe, else double-quoted."""
    plain = _reads_as_string(value) and not re.search(r"[,\[\]{}#&*!|>'\"%@`]", value)
    return value if plain else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- comments


def _split_comment(token: CommentToken | None) -> tuple[str | None, str, int]:
    """(end-of-line comment, the comment lines after it, column) of a ruamel comment token."""
    if token is None:
        return None, "", 0
    value: str = token.value
    first, _, rest = value.partition("\n")
    return (first if first.strip() else None), rest, token.column


def _token(eol: str | None, rest: str, column: int) -> CommentToken | None:
    if eol is None and not rest:
        return None
    value = (eol or "") + "\n" + rest
    return CommentToken(value, CommentMark(column), None)


def _eol_column(old_column: int, old_end: int, new_end: int) -> int:
    """Keep an aligned comment where it was, unless the line grew past it: then keep its gap."""
    gap = max(old_column - old_end, 1)
    return old_column if new_end + 1 <= old_column else new_end + gap


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node) and not node.fa.flow_style()


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(container, key, slot index) of the comment after the last scalar written in NODE: where ruamel
    keeps the comment lines that follow a block (a file's closing comments among them)."""
    if isinstance(node, CommentedSeq) and node:
        last = len(node) - 1
        if _is_block(node[last]):
            return _last_slot(node[last])
        return node, last, 0
    if isinstance(node, CommentedMap) and node:
        key = list(node.keys())[-1]
        if _is_block(node[key]):
            return _last_slot(node[key])
        return node, key, 2
    return None


def take_trailing(node: Any) -> str:
    """Remove and return the comment lines after NODE's last line (its end-of-line comment stays)."""
    found = _last_slot(node)
    if found is None:
        return ""
    holder, key, index = found
    slot = holder.ca.items.get(key)
    if not slot or slot[index] is None:
        return ""
    eol, rest, column = _split_comment(slot[index])
    slot[index] = _token(eol, "", column)
    return rest


def give_trailing(node: Any, rest: str) -> None:
    """Put the comment lines REST after NODE's last line (after its end-of-line comment, if any)."""
    found = _last_slot(node) if rest else None
    if found is None:
        return
    holder, key, index = found
    slot = holder.ca.items.setdefault(key, [None, None, None, None])
    eol, old_rest, column = _split_comment(slot[index])
    slot[index] = _token(eol, old_rest + rest, column)


def append_keeping_trailing(container: CommentedSeq | CommentedMap, value: Any, key: str | None = None) -> None:
    """Append VALUE (under KEY for a mapping) after CONTAINER's last item, and move the comment
    lines that followed that item (a closing comment of the file, say) to after VALUE."""
    rest = take_trailing(container)
    if isinstance(container, CommentedSeq):
        container.append(value)
    else:
        container[key] = value
    give_trailing(container, rest)


# ---------------------------------------------------------------- reading an app's base


@dataclass(frozen=True)
class BaseObject:
    path: str
    obj: dict[str, Any]


def kustomization_file(tree: Tree, directory: str) -> str | None:
    for name in FILE_NAMES:
        path = f"{directory}/{name}"
        if tree.kind(path) == "file":
            return path
    return None


def _load_all(tree: Tree, path: str) -> list[Any]:
    try:
        return [doc for doc in yaml.load_all(tree.read(path), Loader=yaml.CSafeLoader) if doc is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise GitopsGenError(f"invalid YAML: {getattr(err, 'problem', None) or err}", tree.display(path),
                             line) from None


def base_objects(tree: Tree, directory: str, depth: int = 0) -> Iterator[BaseObject]:
    """The objects of the local files a kustomization lists in ``resources`` (directories followed)."""
    path = kustomization_file(tree, directory)
    if path is None or depth > 20:
        return
    docs = _load_all(tree, path)
    body = docs[0] if docs and isinstance(docs[0], dict) else {}
    resources = body.get("resources") or []
    for entry in resources if isinstance(resources, list) else []:
        if not isinstance(entry, str) or "://" in entry:
            continue
        target = normalize(entry, directory)
        kind: Kind | None = tree.kind(target) if target is not None else None
        if target is None or kind is None:
            continue
        if kind == "dir":
            yield from base_objects(tree, target, depth + 1)
            continue
        for doc in _load_all(tree, target):
            if isinstance(doc, dict):
                yield BaseObject(target, doc)


def _containers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item)


def base_images(tree: Tree, app: str) -> list[str]:
    """The image names (no tag or digest) the containers of APP's base use, in order of appearance."""
    names: list[str] = []
    for found in base_objects(tree, f"{APPS_DIR}/{app}/{BASE_DIR}"):
        for container in _containers(found.obj):
            image = container.get("image")
            if isinstance(image, str) and image:
                rest = image.partition("@")[0]
                colon = rest.rfind(":")
                name = rest[:colon] if colon > rest.rfind("/") else rest
                if name not in names:
                    names.append(name)
    return names


def base_workload(tree: Tree, app: str) -> tuple[str, str, str]:
    """(apiVersion, kind, name) of the workload a layer patch of APP targets: the Deployment, preferably
    one named APP; else the first StatefulSet, DaemonSet, Job or CronJob."""
    found: list[tuple[str, str, str]] = []
    for item in base_objects(tree, f"{APPS_DIR}/{app}/{BASE_DIR}"):
        meta = item.obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        kind, api = item.obj.get("kind"), item.obj.get("apiVersion")
        if isinstance(name, str) and kind in WORKLOAD_KINDS and isinstance(api, str):
            found.append((api, kind, name))
    for kind in WORKLOAD_KINDS:
        same = [w for w in found if w[1] == kind]
        if same:
            return next((w for w in same if w[2] == app), same[0])
    raise GitopsGenError(f"app {app!r}: no Deployment (or other workload) in {APPS_DIR}/{app}/{BASE_DIR}/ to patch")


def match_image(tree: Tree, app: str, image: ImageRef) -> str:
    """The base image IMAGE replaces: same name, else the only one with the same repository name."""
    names = base_images(tree, app)
    if image.name in names:
        return image.name
    same = [n for n in names if repository(n) == repository(image.name)]
    if len(same) == 1:
        return same[0]
    where = f"{APPS_DIR}/{app}/{BASE_DIR}/"
    if same:
        raise GitopsGenError(f"image {image.name!r} is ambiguous: {where} uses {', '.join(same)}; give the full name")
    known = ", ".join(names) or "none"
    raise GitopsGenError(f"image {image.name!r} matches no image of {where} (images: {known})")


# ---------------------------------------------------------------- app and cluster lookups


def has_base(tree: Tree, app: str) -> bool:
    return tree.kind(f"{APPS_DIR}/{app}/{BASE_DIR}") == "dir"


def known_apps(tree: Tree) -> list[str]:
    return [name for name in tree.listdir(APPS_DIR) if has_base(tree, name)]


def require_base(tree: Tree, app: str) -> None:
    if not has_base(tree, app):
        known = ", ".join(known_apps(tree)) or "none"
        raise GitopsGenError(f"unknown app {app!r}: no {APPS_DIR}/{app}/{BASE_DIR}/ directory (apps: {known})")


def select_clusters(fleet: Fleet, names: Iterable[str], where: Mapping[str, str]) -> list[Cluster]:
    """The clusters named, or those whose layers match every ``--where`` KEY=VALUE."""
    names = list(names)
    if names:
        return [fleet.cluster(name) for name in dict.fromkeys(names)]
    for key in where:
        if key != CLUSTER_LAYER and key not in fleet.config.layers:
            known = ", ".join(fleet.config.all_layers)
            raise GitopsGenError(f"--where {key}={where[key]}: unknown layer {key!r} (layers: {known})")
    chosen = [c for c in fleet.clusters.values() if all(dict(c.layer_chain).get(k) == v for k, v in where.items())]
    if not chosen:
        shown = " ".join(f"{k}={v}" for k, v in where.items())
        raise GitopsGenError(f"--where {shown}: no cluster matches")
    return chosen


def users_of(fleet: Fleet, app: str, layer: tuple[str, str] | None = None, generated_only: bool = False) -> tuple[
        str, ...]:
    """Clusters running APP (with LAYER=(key, value) among their layers, if given)."""
    out = []
    for cluster in fleet.clusters.values():
        for ref in cluster.enabled_apps:
            if ref.name != app or (generated_only and ref.overlay is not None):
                continue
            if layer is None or dict(cluster.layer_chain).get(layer[0]) == layer[1]:
                out.append(cluster.name)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- enable / disable


def _find_app(apps: CommentedSeq, app: str) -> int | None:
    for index, item in enumerate(apps):
        name = item if isinstance(item, str) else item.get("name") if isinstance(item, dict) else None
        if name == app:
            return index
    return None


def _item_col(apps: CommentedSeq, index: int) -> int:
    """0-based column of the content of item INDEX (after its dash)."""
    try:
        return int(apps.lc.item(index)[1])
    except (KeyError, TypeError, IndexError, AttributeError):
        return 0


def _disable_plain(apps: CommentedSeq, index: int) -> None:
    """``- x  # why`` -> ``- name: x  # why`` + ``enabled: false``; comment lines after it stay after it."""
    name = str(apps[index])
    entry = CommentedMap([("name", scalar(name, apps[index])), ("enabled", False)])
    if apps.fa.flow_style():
        entry.fa.set_flow_style()
    old = apps.ca.items.pop(index, None)
    eol, rest, column = _split_comment(old[0] if old else None)
    col = _item_col(apps, index)
    if eol is not None:
        column = _eol_column(column, col + len(name), col + len("name: ") + len(name))
        entry.ca.items["name"] = [None, None, _token(eol, "", column), None]
    if rest:
        entry.ca.items["enabled"] = [None, None, _token(None, rest, 0), None]
    apps[index] = entry


def _enable_mapping(apps: CommentedSeq, index: int) -> None:
    """Drop ``enabled: false``; an entry left with only its name becomes the plain name again."""
    entry: CommentedMap = apps[index]
    keys = list(entry.keys())
    position = keys.index("enabled")
    dropped = entry.ca.items.pop("enabled", None)
    del entry["enabled"]
    eol, rest, column = _split_comment(dropped[2] if dropped else None)
    if eol is not None or rest:
        # Its comment (why it was disabled, the lines after it) stays: on the line before, or the line after.
        host = keys[position - 1] if position > 0 else keys[position + 1] if len(keys) > 1 else None
        if host is not None:
            slot = entry.ca.items.setdefault(host, [None, None, None, None])
            h_eol, h_rest, h_column = _split_comment(slot[2])
            joined = eol if h_eol is None else h_eol if eol is None else f"{h_eol}  {eol}"
            slot[2] = _token(joined, h_rest + rest, h_column if h_eol is not None else column)
    if list(entry.keys()) != ["name"] or not isinstance(entry["name"], str):
        return
    name = entry["name"]
    n_eol, n_rest, n_column = _split_comment((entry.ca.items.get("name") or [None, None, None])[2])
    col = _item_col(apps, index)
    apps[index] = scalar(str(name), name)
    if n_eol is not None or n_rest:
        column = _eol_column(n_column, col + len("name: ") + len(name), col + len(name)) if n_eol else 0
        apps.ca.items[index] = [_token(n_eol, n_rest, column), None, None, None]


def set_app_enabled(text: str, path: str, app: str, enabled: bool) -> tuple[str, str]:
    """TEXT of a cluster.yaml with APP enabled or disabled, and what was done:
    ``added``, ``enabled``, ``disabled``, ``already enabled``, ``already disabled`` or ``not listed``."""
    outcome = ""

    def edit(doc: CommentedMap) -> None:
        nonlocal outcome
        spec = doc.get("spec")
        if not isinstance(spec, CommentedMap):
            raise GitopsGenError("spec: expected a mapping", path)
        apps = spec.get("apps")
        if apps is None:
            if not enabled:
                outcome = "not listed"
                return
            apps = CommentedSeq([app])
            append_keeping_trailing(spec, apps, "apps")
            outcome = "added"
            return
        if not isinstance(apps, CommentedSeq):
            raise GitopsGenError("spec.apps: expected a list", path)
        index = _find_app(apps, app)
        if index is None:
            if not enabled:
                outcome = "not listed"
                return
            if not apps and apps.fa.flow_style():
                apps.fa.set_block_style()  # `apps: []` grows into the usual block list
            append_keeping_trailing(apps, app)
            outcome = "added"
            return
        item = apps[index]
        is_on = isinstance(item, str) or item.get("enabled", True) is not False
        if is_on == enabled:
            outcome = "already enabled" if enabled else "already disabled"
            return
        if enabled:
            _enable_mapping(apps, index)
            outcome = "enabled"
        elif isinstance(item, str):
            _disable_plain(apps, index)
            outcome = "disabled"
        else:
            if "enabled" in item:
                item["enabled"] = False
            else:
                item.insert(list(item.keys()).index("name") + 1, "enabled", False)
            outcome = "disabled"

    new = rewrite(text, path, edit, default_offset=2)
    return (text if outcome.startswith(("already", "not")) else new), outcome


# ---------------------------------------------------------------- images


def _set_key(entry: CommentedMap, key: str, value: Any, replaces: Iterable[str] = (), after: str = "name") -> None:
    """ENTRY[KEY] = VALUE in place; else where the first of REPLACES was (taking its comment); else
    after the key AFTER. The keys in REPLACES are removed."""
    if key in entry:
        entry[key] = scalar(str(value), entry[key])
    else:
        keys = list(entry.keys())
        old = next((k for k in replaces if k in entry), None)
        if old is not None:
            position = keys.index(old)
            entry.insert(position, key, scalar(str(value)))
            comment = entry.ca.items.pop(old, None)
            if comment is not None:
                entry.ca.items[key] = comment
        else:
            position = keys.index(after) + 1 if after in keys else len(keys)
            entry.insert(position, key, scalar(str(value)))
    for other in replaces:
        if other in entry and other != key:
            drop_key(entry, other)


def _trailing_of(mapping: CommentedMap, key: str) -> str:
    """The comment lines after KEY's entry (inside its block value, or after its own line)."""
    slot = mapping.ca.items.get(key)
    rest = _split_comment(slot[2] if slot else None)[1]
    return rest + (take_trailing(mapping[key]) if _is_block(mapping[key]) else "")


def drop_key(mapping: CommentedMap, key: str) -> None:
    """Delete KEY; the comment lines that followed its line stay where they were (after the line
    before it), only its end-of-line comment goes with it."""
    keys = list(mapping.keys())
    position = keys.index(key)
    rest = _trailing_of(mapping, key)
    mapping.ca.items.pop(key, None)
    del mapping[key]
    if not rest or not mapping:
        return
    host = keys[position - 1] if position > 0 else keys[1]
    value = mapping[host]
    if _is_block(value):
        give_trailing(value, rest)
    else:
        target = mapping.ca.items.setdefault(host, [None, None, None, None])
        eol, old_rest, column = _split_comment(target[2])
        target[2] = _token(eol, old_rest + rest, column)


def renames(image: ImageRef, name: str) -> bool | None:
    """Whether IMAGE sets the ``newName`` of the entry for NAME: True (set it), False (remove it)
    or None (keep what is there). A bare repository name (``pd``) only changes the tag or digest;
    a name with a registry or path is the image to run."""
    if "/" not in image.name:
        return None
    return image.name != name


def set_image_entry(text: str, path: str, name: str, image: ImageRef) -> str:
    """TEXT of a kustomization with its ``images:`` entry for NAME set to IMAGE.

    ``newName`` as ``renames`` says; ``newTag`` or ``digest``, never both. An existing
    entry is updated in place (its comments and key order kept); else one is appended.
    """
    base_name = name

    def edit(doc: CommentedMap) -> None:
        images = doc.get("images")
        if images is not None and not isinstance(images, CommentedSeq):
            raise GitopsGenError("images: expected a list", path)
        entry = next((e for e in images or [] if isinstance(e, CommentedMap) and e.get("name") == base_name), None)
        is_new = entry is None
        if entry is None:
            entry = CommentedMap([("name", scalar(base_name))])
            if images is not None and images.fa.flow_style():
                entry.fa.set_flow_style()
        _update_image(entry, base_name, image)
        if images is None:
            append_keeping_trailing(doc, CommentedSeq([entry]), "images")
        elif is_new:
            append_keeping_trailing(images, entry)

    return rewrite(text, path, edit)


def _update_image(entry: CommentedMap, base_name: str, image: ImageRef) -> None:
    """ENTRY (an ``images:`` item for BASE_NAME) set to IMAGE, keys kept in place."""
    rename = renames(image, base_name)
    if rename:
        _set_key(entry, "newName", image.name)
    elif rename is False and "newName" in entry:
        _set_key(entry, "name", base_name, replaces=("newName",))
    last = "newName" if "newName" in entry else "name"
    if image.digest is not None:
        _set_key(entry, "digest", image.digest, replaces=("newTag",), after=last)
    else:
        _set_key(entry, "newTag", str(image.tag), replaces=("digest",), after=last)


# ---------------------------------------------------------------- scaffolds


def cluster_text(name: str, layers: Mapping[str, str], engine: str | None, kubernetes_version: str | None,
                 offset: int = 2) -> str:
    """A new cluster.yaml: the layers in config order, no node pools or apps yet."""
    dash = " " * offset
    flow = ", ".join(f"{key}: {_flow_text(value)}" for key, value in layers.items())
    lines = [
        f"apiVersion: {API_VERSION}",
        "kind: Cluster",
        "metadata:",
        f"  name: {name}",
        "spec:",
        f"  layers: {{{flow}}}" if layers else "  layers: {}",
    ]
    if kubernetes_version is not None:
        lines.append(f'  kubernetesVersion: "{kubernetes_version}"')
    if engine is not None:
        lines.append(f"  gitops: {{engine: {engine}}}")
    lines += [
        "  # TODO: the node pools and their GPUs, for example:",
        f"  # {dash}- name: a100",
        f"  # {dash}  nodes: 2",
        f"  # {dash}  gpu: {{product: NVIDIA-A100-PCIE-40GB, count: 4}}",
        "  nodePools: []",
        f"  # apps: add them with `gitops-gen enable APP --cluster {name}`",
        "  apps: []",
    ]
    return "\n".join(lines) + "\n"


def cluster_from(text: str, path: str, name: str, layers: Mapping[str, str], engine: str | None,
                 kubernetes_version: str | None) -> str:
    """A copy of another cluster's cluster.yaml (node pools, Kubernetes version, apps, comments)
    with a new name and layers; its GitOps engine is not copied (the default applies unless ENGINE)."""

    def edit(doc: CommentedMap) -> None:
        meta = doc.get("metadata")
        spec = doc.get("spec")
        if not isinstance(meta, CommentedMap) or not isinstance(spec, CommentedMap):
            raise GitopsGenError("expected metadata and spec mappings", path)
        meta["name"] = scalar(name, meta.get("name"))
        old = spec.get("layers")
        if isinstance(old, CommentedMap) and list(old.keys()) == list(layers):
            for key, value in layers.items():
                old[key] = scalar(value, old[key])
        else:
            new = CommentedMap((k, scalar(v)) for k, v in layers.items())
            new.fa.set_flow_style()
            if isinstance(old, CommentedMap):
                spec["layers"] = new
            else:
                spec.insert(0, "layers", new)
        if kubernetes_version is not None:
            if "kubernetesVersion" in spec:
                old_version = spec["kubernetesVersion"]
                quoted = isinstance(old_version, (DoubleQuotedScalarString, SingleQuotedScalarString))
                spec["kubernetesVersion"] = scalar(kubernetes_version, old_version if quoted else
                                                   DoubleQuotedScalarString(""))
            else:
                spec.insert(list(spec.keys()).index("layers") + 1, "kubernetesVersion",
                            DoubleQuotedScalarString(kubernetes_version))
        gitops = CommentedMap([("engine", engine)]) if engine is not None else None
        if gitops is not None:
            gitops.fa.set_flow_style()
        if "gitops" in spec:
            if gitops is None:
                drop_key(spec, "gitops")
            else:
                # The source's comment on its engine would not describe this one; the lines after it stay.
                rest = _trailing_of(spec, "gitops")
                spec["gitops"] = gitops
                spec.ca.items["gitops"] = [None, None, _token(None, rest, 0), None]
        elif gitops is not None:
            keys = list(spec.keys())
            after = "kubernetesVersion" if "kubernetesVersion" in keys else "layers"
            spec.insert(keys.index(after) + 1, "gitops", gitops)

    return rewrite(text, path, edit, default_offset=2)


def app_files(name: str, image: ImageRef) -> dict[str, str]:
    """apps/NAME/base/: a kustomization, a GPU Deployment and its Service, with what to fill in."""
    base = f"{APPS_DIR}/{name}/{BASE_DIR}"
    image_line = _aligned(f"        image: {image}", "# TODO: the release to run, pinned (never latest)")
    kustomization = f"""\
# Base manifests of {name}. Replace them with the upstream release as shipped, or fill in the TODOs.
# Per-company, -zone, -env or -cluster changes go in layer components: `gitops-gen new layer {name} env=prod`.
apiVersion: {KUSTOMIZATION_VERSION}
kind: Kustomization
resources:
- deployment.yaml
- service.yaml
"""
    deployment = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: 1                        # per-env or per-cluster counts go in layer components
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
      - name: {name}
{image_line}
        ports:
        - name: http
          containerPort: 8080        # TODO: the port the server listens on
        readinessProbe:              # TODO: an endpoint that answers once the model is loaded
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: 10
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: 30
          periodSeconds: 20
        resources:
          requests:                  # TODO: CPU and memory the server needs
            cpu: "1"
            memory: 4Gi
            nvidia.com/gpu: 1        # whole GPUs only; requests equal limits
          limits:
            memory: 4Gi
            nvidia.com/gpu: 1
      tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
"""
    service = f"""\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - name: http
    port: 80
    targetPort: http                 # the container port named http
"""
    return {f"{base}/kustomization.yaml": kustomization, f"{base}/deployment.yaml": deployment,
            f"{base}/service.yaml": service}


def _aligned(text: str, comment: str, column: int = 37) -> str:
    """TEXT with COMMENT at COLUMN, as the scaffolds align them (two spaces after a longer line)."""
    return text + " " * max(column - len(text), 2) + comment


def _component_header(app: str, key: str, value: str) -> str:
    who = f"the cluster {value} only" if key == CLUSTER_LAYER else f"every cluster with {key}={value}"
    return (f"# {app} for {key}={value}: a kustomize Component, applied to {who},\n"
            "# after the layers before it (later layers win).\n")


def component_text(app: str, key: str, value: str) -> str:
    """A bare layer component (no patches): what `set image --layer` starts from."""
    return _component_header(app, key, value) + f"apiVersion: {COMPONENT_VERSION}\nkind: Component\n"


def layer_files(app: str, key: str, value: str, workload: tuple[str, str, str]) -> dict[str, str]:
    """apps/APP/KEY/VALUE/: a Component wiring an empty strategic-merge patch of the app's workload."""
    api, kind, name = workload
    directory = f"{APPS_DIR}/{app}/{key}/{value}"
    kustomization = component_text(app, key, value) + f"patches:\n- path: {LAYER_PATCH}\n"
    patch = f"""\
# Strategic-merge patch of the {kind} {name} for {key}={value}.
# Add only the fields this layer changes, for example:
#   spec:
#     replicas: 2
apiVersion: {api}
kind: {kind}
metadata:
  name: {name}
"""
    return {f"{directory}/kustomization.yaml": kustomization, f"{directory}/{LAYER_PATCH}": patch}


# ---------------------------------------------------------------- planners


def _encode(files: Mapping[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def _check_layers(fleet: Fleet, layers: Mapping[str, str]) -> dict[str, str]:
    """LAYERS in config order: exactly one value for every configured layer."""
    configured = fleet.config.layers
    unknown = [k for k in layers if k not in configured]
    if unknown:
        known = ", ".join(configured) or "none"
        raise GitopsGenError(f"--layer {unknown[0]}: unknown layer (gitops-gen.yaml layers: {known})")
    missing = [k for k in configured if k not in layers]
    if missing:
        raise GitopsGenError(f"missing --layer for {', '.join(missing)} (every cluster needs a value for each "
                             f"layer of gitops-gen.yaml: {', '.join(configured)})")
    for key in configured:
        check_layer_value(key, layers[key], fleet)
    return {key: layers[key] for key in configured}


def _cluster_offset(tree: Tree, fleet: Fleet) -> int:
    """The dash offset the repo's cluster files use (the first one's), so a new one looks like its siblings."""
    for cluster in fleet.clusters.values():
        text = tree.read(cluster.path).decode("utf-8", "replace")
        return detect_indent(text, 2)[2]
    return 2


def plan_new_cluster(tree: Tree, fleet: Fleet, name: str, layers: Mapping[str, str], engine: str | None = None,
                     from_cluster: str | None = None, kubernetes_version: str | None = None) -> Change:
    check_name(name, "cluster")
    if kubernetes_version is not None and not _K8S_VERSION.match(kubernetes_version):
        raise GitopsGenError(f"--kubernetes-version {kubernetes_version!r}: expected a minor version like 1.30")
    path = f"{CLUSTERS_DIR}/{name}/{CLUSTER_FILE}"
    if name in fleet.clusters or tree.kind(f"{CLUSTERS_DIR}/{name}") is not None:
        raise GitopsGenError(f"cluster {name!r} already exists", tree.display(path))
    ordered = _check_layers(fleet, layers)
    if from_cluster is not None:
        source = fleet.cluster(from_cluster)
        text = cluster_from(tree.read(source.path).decode("utf-8"), tree.display(source.path), name, ordered,
                            engine, kubernetes_version)
    else:
        text = cluster_text(name, ordered, engine, kubernetes_version, _cluster_offset(tree, fleet))
    return Change({path: text.encode()}, (name,))


def plan_new_app(tree: Tree, name: str, image: str | None = None) -> Change:
    check_name(name, "app")
    ref = pinned_image(image) if image else ImageRef(f"registry.example.com/{name}", DEFAULT_TAG)
    if tree.kind(f"{APPS_DIR}/{name}/{BASE_DIR}") is not None:
        raise GitopsGenError(f"app {name!r} already exists", tree.display(f"{APPS_DIR}/{name}/{BASE_DIR}"))
    notes = (f"{name} runs nowhere yet: `gitops-gen enable {name} --cluster C`",)
    return Change(_encode(app_files(name, ref)), (), notes)


def _layer_notes(fleet: Fleet, app: str, key: str, value: str) -> tuple[str, ...]:
    if key != CLUSTER_LAYER and not any(c.layers.get(key) == value for c in fleet.clusters.values()):
        return (f"no cluster has {key}={value} yet",)
    return ()


def plan_new_layer(tree: Tree, fleet: Fleet, app: str, key: str, value: str) -> Change:
    require_base(tree, app)
    check_layer_value(key, value, fleet, "layer")
    directory = f"{APPS_DIR}/{app}/{key}/{value}"
    if tree.kind(directory) is not None:
        raise GitopsGenError(f"layer component {directory}/ already exists", tree.display(directory))
    files = layer_files(app, key, value, base_workload(tree, app))
    return Change(_encode(files), users_of(fleet, app, (key, value), generated_only=True),
                  _layer_notes(fleet, app, key, value))


def plan_enable(tree: Tree, fleet: Fleet, app: str, enabled: bool, clusters: Iterable[str] = (),
                where: Mapping[str, str] | None = None) -> Change:
    chosen = select_clusters(fleet, clusters, where or {})
    refs = [next((r for r in c.apps if r.name == app), None) for c in chosen]
    # An app needs a base, unless the clusters run it from a hand-written (chain) overlay.
    needs_base = any((ref is None and enabled) or (ref is not None and ref.overlay is None) for ref in refs)
    if not has_base(tree, app) and (needs_base or all(ref is None for ref in refs)):
        require_base(tree, app)
    files: dict[str, bytes] = {}
    affected: list[str] = []
    notes: list[str] = []
    for cluster in chosen:
        text = tree.read(cluster.path).decode("utf-8")
        new, outcome = set_app_enabled(text, tree.display(cluster.path), app, enabled)
        if new != text:
            files[cluster.path] = new.encode()
            affected.append(cluster.name)
        else:
            notes.append(f"{cluster.name}: {app} {outcome}")
    return Change(files, tuple(affected), tuple(notes))


def _renames(tree: Tree, directory: str, every: bool = False) -> dict[str, str]:
    """name -> newName of the ``images:`` entries of the kustomization in DIRECTORY (EVERY: also
    the entries that keep the name, mapped to themselves)."""
    path = kustomization_file(tree, directory)
    docs = _load_all(tree, path) if path is not None else []
    images = docs[0].get("images") if docs and isinstance(docs[0], dict) else None
    out: dict[str, str] = {}
    for entry in images if isinstance(images, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            new_name = entry.get("newName")
            if isinstance(new_name, str):
                out[entry["name"]] = new_name
            elif every:
                out[entry["name"]] = entry["name"]
    return out


def names_at_layer(tree: Tree, fleet: Fleet, app: str, base_name: str, key: str, value: str) -> list[str]:
    """The names image BASE_NAME has when layer KEY=VALUE of APP applies, over the clusters that use it.

    kustomize matches an ``images:`` entry against the image as the earlier layers left it,
    so a rename (``newName``) in the base or an earlier layer changes the name to match.
    """
    start = _renames(tree, f"{APPS_DIR}/{app}/{BASE_DIR}").get(base_name, base_name)
    names: list[str] = []
    for cluster in fleet.clusters.values():
        if cluster.name not in users_of(fleet, app, (key, value), generated_only=True):
            continue
        name = start
        for layer in cluster.layer_chain:
            if layer == (key, value):
                break
            name = _renames(tree, f"{APPS_DIR}/{app}/{layer[0]}/{layer[1]}").get(name, name)
        names.append(name)
    return list(dict.fromkeys(names)) or [start]


def plan_set_image(tree: Tree, fleet: Fleet, app: str, image: str, layer: tuple[str, str] | None = None) -> Change:
    require_base(tree, app)
    ref = pinned_image(image)
    base_name = match_image(tree, app, ref)
    notes: tuple[str, ...] = ()
    if layer is None:
        directory = f"{APPS_DIR}/{app}/{BASE_DIR}"
        path = kustomization_file(tree, directory)
        if path is None:
            raise GitopsGenError(f"no kustomization.yaml in {directory}/", tree.display(directory))
        text = tree.read(path).decode("utf-8")
        affected = users_of(fleet, app)
        names = [base_name]
    else:
        key, value = layer
        check_layer_value(key, value, fleet)
        directory = f"{APPS_DIR}/{app}/{key}/{value}"
        found = kustomization_file(tree, directory)
        path = found or f"{directory}/kustomization.yaml"
        text = tree.read(path).decode("utf-8") if found else component_text(app, key, value)
        affected = users_of(fleet, app, layer, generated_only=True)
        notes = _layer_notes(fleet, app, key, value)
        names = names_at_layer(tree, fleet, app, base_name, key, value)
    new = text
    for name in names:
        new = set_image_entry(new, tree.display(path), name, ref)
    if new == text:
        return Change({}, (), (f"{path}: already sets {base_name} to {ref}",))
    if any(renames(ref, name) for name in names):
        notes += stranded_entries(tree, fleet, app, set(names) - {ref.name}, layer)
    return Change({path: new.encode()}, affected, notes)


def stranded_entries(tree: Tree, fleet: Fleet, app: str, names: set[str],
                     layer: tuple[str, str] | None) -> tuple[str, ...]:
    """Notes for the ``images:`` entries of later layers keyed on a name a rename makes stale:
    kustomize matches an entry against the image as the earlier layers left it."""
    layers = list(fleet.config.all_layers)
    later = layers if layer is None else layers[layers.index(layer[0]) + 1:]
    notes = []
    for key in later:
        for value in tree.listdir(f"{APPS_DIR}/{app}/{key}"):
            directory = f"{APPS_DIR}/{app}/{key}/{value}"
            for name in sorted(names & set(_renames(tree, directory, every=True))):
                shown = kustomization_file(tree, directory) or directory
                notes.append(f"{shown} sets images for {name!r}, which the rename makes it miss: use the new name")
    return tuple(notes)


# ---------------------------------------------------------------- the tree after the change


@dataclass
class OverlayTree:
    """BASE with FILES written over it: what the repository will look like, before anything is written."""

    base: Tree
    files: Mapping[str, bytes] = field(default_factory=dict)

    def read(self, path: str) -> bytes:
        found = self.files.get(path)
        return found if found is not None else self.base.read(path)

    def kind(self, path: str) -> Kind | None:
        if path in self.files:
            return "file"
        prefix = f"{path}/" if path else ""
        if any(p.startswith(prefix) for p in self.files):
            return "dir"
        return self.base.kind(path)

    def listdir(self, path: str) -> list[str]:
        names = set(self.base.listdir(path))
        prefix = f"{path}/" if path else ""
        names.update(p[len(prefix):].split("/", 1)[0] for p in self.files if p.startswith(prefix))
        return sorted(names)

    def display(self, path: str) -> str:
        return self.base.display(path)
