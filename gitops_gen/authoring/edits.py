"""The edits behind `enable`, `disable` and `set image`, and what they read: names, images,
an app's base objects, the clusters an app or layer reaches. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gitops_gen import kube
from gitops_gen.authoring.roundtrip import (
    _eol_column,
    _is_block,
    _split_comment,
    _token,
    append_keeping_trailing,
    give_trailing,
    rewrite,
    scalar,
    take_trailing,
)
from gitops_gen.errors import GitopsGenError, UsageError
from gitops_gen.fleet.inventory import CLUSTER_LAYER, Cluster, Fleet
from gitops_gen.fleet.layout import APPS_DIR, BASE_DIR
from gitops_gen.kustomize.types import FILE_NAMES
from gitops_gen.repo.tree import Kind, Tree, normalize

# Workload kinds a layer patch may target, most likely first.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DIRNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}\Z")
_IMAGE_NAME = re.compile(r"[a-z0-9]+(?:[._/:-][a-zA-Z0-9]+|__[a-z0-9]+)*\Z")
_K8S_VERSION = re.compile(r"1\.[0-9]+\Z")


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def check_name(name: str, what: str) -> None:
    """NAME must be a DNS-1123 label (a cluster or app name becomes object and directory names)."""
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise UsageError(
            f"{what} name {name!r} is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending alphanumeric, at most 63)"
        )


def parse_assignments(items: Iterable[str], option: str) -> dict[str, str]:
    """``["env=prod", ...]`` -> ``{"env": "prod"}``; a key given twice with two values is an error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        if key in out and out[key] != value:
            raise UsageError(f"{option}: {key} given twice ({out[key]!r} and {value!r})")
        out[key] = value
    return out


def check_layer_value(key: str, value: str, fleet: Fleet, option: str = "--layer") -> None:
    """KEY must be a configured layer or ``cluster`` (then VALUE an existing cluster)."""
    if key == CLUSTER_LAYER:
        fleet.cluster(value)
        return
    if key not in fleet.config.layers:
        known = ", ".join(fleet.config.all_layers)
        raise UsageError(f"{option} {key}={value}: unknown layer {key!r} (layers: {known})")
    if len(value) > 253 or not _DIRNAME.match(value):
        raise UsageError(f"{option} {key}={value}: {value!r} is not a valid directory name")


def parse_image(ref: str) -> ImageRef:
    """``registry/name[:tag][@digest]``; the tag is after the last ':' that follows the last '/'."""
    rest, at, digest = ref.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    name, tag = (rest[:colon], rest[colon + 1 :]) if colon > slash else (rest, None)
    if not name or not _IMAGE_NAME.match(name):
        raise UsageError(f"image {ref!r}: {name!r} is not a valid image name")
    if tag is not None and not _TAG.match(tag):
        raise UsageError(f"image {ref!r}: {tag!r} is not a valid tag")
    if at and not _DIGEST.match(digest):
        raise UsageError(f"image {ref!r}: {digest!r} is not a valid digest (like sha256:<64 hex digits>)")
    return ImageRef(name, tag, digest or None)


def pinned_image(ref: str) -> ImageRef:
    """An image that says exactly what runs: a tag other than ``latest``, or a digest, not both."""
    image = parse_image(ref)
    if image.tag and image.digest:
        raise UsageError(f"image {ref!r}: give a tag or a digest, not both")
    if image.digest is None and image.tag in (None, "latest"):
        raise UsageError(f"image {ref!r}: pin it to a tag other than 'latest' (or a digest)")
    return image


def repository(name: str) -> str:
    """The last path component of an image name: ``registry.example.com/team/pd`` -> ``pd``."""
    return name.rsplit("/", 1)[-1]


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
        raise GitopsGenError(
            f"invalid YAML: {getattr(err, 'problem', None) or err}", tree.display(path), line
        ) from None


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


def base_images(tree: Tree, app: str) -> list[str]:
    """The image names (no tag or digest) the containers of APP's base use, in order of appearance."""
    names: list[str] = []
    for found in base_objects(tree, f"{APPS_DIR}/{app}/{BASE_DIR}"):
        for container in (c.container for c in kube.all_containers(found.obj)):
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
    raise GitopsGenError(
        f"app {app!r}: no Deployment (or other workload) in {APPS_DIR}/{app}/{BASE_DIR}/ to patch"
    )


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
        raise UsageError(
            f"image {image.name!r} is ambiguous: {where} uses {', '.join(same)}; give the full name"
        )
    known = ", ".join(names) or "none"
    raise UsageError(f"image {image.name!r} matches no image of {where} (images: {known})")


def has_base(tree: Tree, app: str) -> bool:
    return tree.kind(f"{APPS_DIR}/{app}/{BASE_DIR}") == "dir"


def known_apps(tree: Tree) -> list[str]:
    return [name for name in tree.listdir(APPS_DIR) if has_base(tree, name)]


def require_base(tree: Tree, app: str) -> None:
    if not has_base(tree, app):
        known = ", ".join(known_apps(tree)) or "none"
        raise UsageError(f"unknown app {app!r}: no {APPS_DIR}/{app}/{BASE_DIR}/ directory (apps: {known})")


def select_clusters(fleet: Fleet, names: Iterable[str], where: Mapping[str, str]) -> list[Cluster]:
    """The clusters named, or those whose layers match every ``--where`` KEY=VALUE."""
    names = list(names)
    if names:
        return [fleet.cluster(name) for name in dict.fromkeys(names)]
    for key in where:
        if key != CLUSTER_LAYER and key not in fleet.config.layers:
            known = ", ".join(fleet.config.all_layers)
            raise UsageError(f"--where {key}={where[key]}: unknown layer {key!r} (layers: {known})")
    chosen = [
        c for c in fleet.clusters.values() if all(dict(c.layer_chain).get(k) == v for k, v in where.items())
    ]
    if not chosen:
        shown = " ".join(f"{k}={v}" for k, v in where.items())
        raise UsageError(f"--where {shown}: no cluster matches")
    return chosen


def users_of(
    fleet: Fleet, app: str, layer: tuple[str, str] | None = None, generated_only: bool = False
) -> tuple[str, ...]:
    """Clusters running APP (with LAYER=(key, value) among their layers, if given)."""
    out = []
    for cluster in fleet.clusters.values():
        for ref in cluster.enabled_apps:
            if ref.name != app or (generated_only and ref.overlay is not None):
                continue
            if layer is None or dict(cluster.layer_chain).get(layer[0]) == layer[1]:
                out.append(cluster.name)
    return tuple(dict.fromkeys(out))


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


def _set_key(
    entry: CommentedMap, key: str, value: Any, replaces: Iterable[str] = (), after: str = "name"
) -> None:
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
        entry = next(
            (e for e in images or [] if isinstance(e, CommentedMap) and e.get("name") == base_name), None
        )
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
