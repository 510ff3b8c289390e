"""kustomize v5.5's builtin transformers over Resources, mutating them in place.

One function per kustomization field; the build calls them in kustomize's fixed order
(namespace, prefix, suffix, labels, annotations, replicas, images). Each follows the
field specs in ``fieldspecs`` and kustomize's special cases, noted where they occur.
Errors are ``GitopsGenError`` without a location: the caller adds the kustomization's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize import fieldspecs as fsp
from gitops_gen.kustomize.fieldspecs import MAP, SCALAR, FieldSpec, apply_fieldspec
from gitops_gen.kustomize.resource import Resource, id_key

# --------------------------------------------------------------------------------------- affix tracking
# kustomize remembers every prefix/suffix a resource received (build annotations) and uses them
# to choose between several same-named referral candidates. Resource has no field for them yet,
# so they live in the instance dict; a dataclass field of the same name would be used as is.
PREFIXES = "name_prefixes"
SUFFIXES = "name_suffixes"


def name_prefixes(res: Resource) -> list[str]:
    """Prefixes added to RES's name, oldest first."""
    return list(res.name_prefixes)


def name_suffixes(res: Resource) -> list[str]:
    """Suffixes added to RES's name, oldest first."""
    return list(res.name_suffixes)


def _remember_affix(res: Resource, key: str, value: str) -> None:
    getattr(res, key).append(value)


# ---------------------------------------------------------------------------------------------- helpers
def _apply_all(
    res: Resource, specs: Iterable[FieldSpec], setter: fsp.Setter, create_kind: str | None
) -> None:
    for spec in _selected(res, specs):
        apply_fieldspec(res.obj, spec, setter, create_kind, check_gvk=False)


def _selected(res: Resource, specs: Iterable[FieldSpec]) -> list[FieldSpec]:
    """The specs whose GVK selects RES as it is now (no transformer here changes a kind)."""
    group, version, kind = res.gvk()
    return [spec for spec in specs if spec.gvk.selects(group, version, kind)]


def _set_scalar(value: Any, what: str) -> fsp.Setter:
    def setter(parent: dict[str, Any], key: str) -> None:
        if isinstance(parent[key], dict | list):
            raise GitopsGenError(
                f"{what} field specs must target scalar nodes, found a "
                f"{'map' if isinstance(parent[key], dict) else 'list'} at '{key}'"
            )
        parent[key] = value

    return setter


def _set_entry(name: str, value: str) -> fsp.Setter:
    """Set one key of the map a field spec reaches (labels, annotations, selectors)."""

    def setter(parent: dict[str, Any], key: str) -> None:
        target = parent[key]
        if target is None:
            target = parent[key] = {}
        if not isinstance(target, dict):
            raise GitopsGenError(f"expected a map at '{key}' to set '{name}', found {type(target).__name__}")
        target[name] = value

    return setter


def _check_strings(values: dict[str, Any], field: str) -> dict[str, str]:
    """kustomize decodes these maps as map[string]string: a number or boolean is an error, null is ""."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise GitopsGenError(
                f"{field}: value of {key!r} must be a string, not {_yaml_type(value)} (quote it)"
            )
        out[str(key)] = value
    return out


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return (
        "a map" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__
    )


# -------------------------------------------------------------------------------------------- namespace
SUBJECT_MODES = ("defaultOnly", "allServiceAccounts", "none")
ROLE_BINDINGS = ("RoleBinding", "ClusterRoleBinding")


def apply_namespace(
    resources: list[Resource],
    namespace: str,
    config: fsp.Config = fsp.DEFAULT_CONFIG,
    unset_only: bool = False,
    subjects: str = "defaultOnly",
) -> None:
    """The kustomization ``namespace:`` field (NamespaceTransformer; its plugin options as arguments).

    - metadata.namespace is set (created) on every kind not known to be cluster scoped;
    - a Namespace object with apiVersion ``v1`` is renamed to NAMESPACE;
    - RoleBinding/ClusterRoleBinding subjects *named* ``default`` (any subject kind) get the
      namespace; other ServiceAccount subjects are fixed later by the name-reference pass;
    - APIService spec.service.namespace (created) and CRD conversion webhook service namespace.
    Every resource gets a previous id first, renamed or not. Two resources ending up with the
    same id is an error.

    UNSET_ONLY sets only fields that are absent, null or empty; SUBJECTS says which binding
    subjects get the namespace: those named default, every ServiceAccount, or none.
    """
    if subjects not in SUBJECT_MODES:
        raise GitopsGenError(
            f"invalid value {subjects!r} for setRoleBindingSubjects: must be one of "
            '"defaultOnly", "none" or "allServiceAccounts"'
        )
    if not namespace:
        return
    # kustomize drops every metadata/namespace spec, whatever its kind: scope alone decides there.
    specs_v1 = [s for s in config.namespace if s.path != "metadata/namespace"]
    specs_other = [s for s in specs_v1 if s.path != "metadata/name"]
    # kustomize checks, after each resource, that its new id is unique among all current ids.
    ids = Counter(id_key(r) for r in resources)
    for res in resources:
        if not res.obj:
            continue
        before = id_key(res)
        res.store_previous_id()
        obj = res.obj
        setter = _set_scalar(namespace, "namespace")
        if unset_only:
            setter = _if_empty(setter)
        if not res.is_cluster_scoped():
            apply_fieldspec(obj, FieldSpec("metadata/namespace", create=True), setter, SCALAR)
        specs = specs_v1 if obj.get("apiVersion") == "v1" else specs_other
        if res.kind in ROLE_BINDINGS:
            _namespace_subjects(obj, subjects, setter)
            # setRoleBindingSubjects decides for binding subjects: kustomize drops field specs of theirs.
            specs = [s for s in specs if not (s.gvk.kind in ROLE_BINDINGS and s.path == "subjects/namespace")]
        _apply_all(res, specs, setter, SCALAR)
        after = id_key(res)
        ids[before] -= 1
        ids[after] += 1
        if ids[after] != 1:
            clashes = [r for r in resources if id_key(r) == after]
            raise GitopsGenError(
                "namespace transformation produces ID conflict: "
                + ", ".join(str(r.cur_id()) for r in clashes)
            )


def _if_empty(setter: fsp.Setter) -> fsp.Setter:
    """kustomize's SetEntryIfEmpty: a field holding a non-empty scalar keeps it."""

    def set_if_empty(parent: dict[str, Any], key: str) -> None:
        value = parent.get(key)
        if value is None or value == "" or isinstance(value, dict | list):
            setter(parent, key)

    return set_if_empty


def _namespace_subjects(obj: dict[str, Any], mode: str, setter: fsp.Setter) -> None:
    subjects = obj.get("subjects")
    if subjects is None or mode == "none":
        return
    if not isinstance(subjects, list):
        raise GitopsGenError(f"{fsp.describe(obj)}: subjects must be a list")
    field, wanted = ("kind", "ServiceAccount") if mode == "allServiceAccounts" else ("name", "default")
    for subject in subjects:
        if isinstance(subject, dict) and subject.get(field) == wanted:
            subject.setdefault("namespace", "")
            setter(subject, "namespace")


# ------------------------------------------------------------------------------------------ name affix
def apply_name_affix(
    resources: list[Resource], prefix: str = "", suffix: str = "", config: fsp.Config = fsp.DEFAULT_CONFIG
) -> None:
    """``namePrefix`` then ``nameSuffix`` (PrefixTransformer, then SuffixTransformer).

    One call with both does exactly what kustomize's two transformers do in sequence: the
    prefix over every resource, then the suffix over every resource (each rename records a
    previous id). CustomResourceDefinitions, Namespaces and apiregistration APIServices
    (judged by the resource's original id) keep their names.
    """
    if prefix:
        _affix(resources, prefix, PREFIXES, lambda name: prefix + name, config.name_prefix)
    if suffix:
        _affix(resources, suffix, SUFFIXES, lambda name: name + suffix, config.name_suffix)


def _affix(
    resources: list[Resource],
    affix: str,
    key: str,
    rename: Callable[[str], str],
    specs: tuple[FieldSpec, ...],
) -> None:
    def setter(parent: dict[str, Any], field: str) -> None:
        value = parent[field]
        if value is None:
            return
        if isinstance(value, dict | list):
            raise GitopsGenError("metadata.name must be a string")
        parent[field] = rename(value if isinstance(value, str) else _scalar_text(value))

    for res in resources:
        org = res.org_id()
        if any(skip.selects(org.group, org.version, org.kind) for skip in fsp.AFFIX_SKIP):
            continue
        for spec in specs:
            if not spec.gvk.selects(org.group, org.version, org.kind):
                continue
            _remember_affix(res, key, affix)
            res.store_previous_id()
            apply_fieldspec(res.obj, spec, setter, SCALAR)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------------- labels, annotations
def apply_labels(
    resources: list[Resource],
    labels: dict[str, str],
    include_selectors: bool,
    include_templates: bool,
    fields: list[dict[str, Any]] | None = None,
    config: fsp.Config = fsp.DEFAULT_CONFIG,
) -> None:
    """``commonLabels`` (call with include_selectors=True) or one ``labels:`` entry.

    With include_selectors the labels also go to selectors (Service, workloads, PDB,
    NetworkPolicy, affinity terms of Deployments/StatefulSets) and pod templates; with only
    include_templates to metadata and pod/claim templates; otherwise to metadata only.
    Selector fields kustomize only updates (Job, CronJob, PDB, NetworkPolicy, affinity) are
    never created; those it creates (Service spec.selector, workload matchLabels) are.
    FIELDS is a ``labels[].fields`` list of extra field specs (path, group, version, kind,
    create), applied before the builtin ones.
    """
    values = _check_strings(labels, "labels")
    if not values:
        return
    if include_selectors:
        specs = config.common_labels
    elif include_templates:
        specs = (*config.template_labels, *config.labels)
    else:
        specs = config.labels
    specs = _merge((*parse_fieldspecs(fields or [], "labels[].fields"), *specs))
    setters = [_set_entry(key, values[key]) for key in sorted(values)]
    for res in resources:
        selected = _selected(res, specs)
        for setter in setters:
            _apply_all(res, selected, setter, MAP)


def apply_annotations(
    resources: list[Resource], annotations: dict[str, str], config: fsp.Config = fsp.DEFAULT_CONFIG
) -> None:
    """``commonAnnotations``: metadata and the pod templates of the workload kinds."""
    values = _check_strings(annotations, "commonAnnotations")
    if not values:
        return
    setters = [_set_entry(key, values[key]) for key in sorted(values)]
    for res in resources:
        selected = _selected(res, config.common_annotations)
        for setter in setters:
            _apply_all(res, selected, setter, MAP)


def _merge(specs: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    """kustomize's FsSlice.MergeOne: a spec an earlier one covers (same path, selected GVK) is
    dropped, unless their ``create`` differ, which kustomize rejects."""
    out: list[FieldSpec] = []
    for spec in specs:
        same = [
            o for o in out if o.path == spec.path and spec.gvk.selects(o.gvk.group, o.gvk.version, o.gvk.kind)
        ]
        if not same:
            out.append(spec)
        elif same[0].create != spec.create:
            raise GitopsGenError(f"conflicting fieldspecs for path {spec.path!r}")
    return tuple(out)


FIELDSPEC_KEYS = ("path", "group", "version", "kind", "create")


def parse_fieldspecs(entries: list[dict[str, Any]], where: str) -> list[FieldSpec]:
    """User field specs (e.g. ``labels[].fields``) as kustomize decodes them."""
    if not isinstance(entries, list):
        raise GitopsGenError(f"{where} must be a list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise GitopsGenError(f"{where} entries must be mappings")
        for key, value in entry.items():
            if key not in FIELDSPEC_KEYS:
                raise GitopsGenError(f"{where}: unknown field {key!r}")
            want = bool if key == "create" else str
            if value is not None and not isinstance(value, want):
                raise GitopsGenError(f"{where}: {key} must be a {'boolean' if want is bool else 'string'}")
        text = {k: entry.get(k) or "" for k in ("path", "group", "version", "kind")}
        out.append(
            FieldSpec(
                text["path"], fsp.Gvk(text["group"], text["version"], text["kind"]), bool(entry.get("create"))
            )
        )
    return out


# --------------------------------------------------------------------------------------------- replicas
def apply_replicas(
    resources: list[Resource], name: str, count: int, config: fsp.Config = fsp.DEFAULT_CONFIG
) -> None:
    """One ``replicas:`` entry: spec.replicas (created) of every Deployment, ReplicationController,
    ReplicaSet or StatefulSet whose current or any previous name is NAME, in any namespace.

    Matching no such resource is an error (custom kinds never match).
    """
    if not isinstance(count, int) or isinstance(count, bool):
        raise GitopsGenError(f"replicas: count of {name!r} must be an integer")
    found = False
    for spec in config.replicas:
        matched = [
            res
            for res in resources
            if any(i.name == name and spec.gvk.selects(i.group, i.version, i.kind) for i in res.all_ids())
        ]
        found = found or bool(matched)
        for res in matched:
            apply_fieldspec(res.obj, spec, _set_scalar(count, "replicas"), SCALAR)
    if not found:
        gvks = " ".join(_gvk_text(spec.gvk) for spec in config.replicas)
        raise GitopsGenError(
            f"resource with name {name} does not match a config with the following GVK [{gvks}]"
        )


def _gvk_text(gvk: fsp.Gvk) -> str:
    return f"{gvk.kind or '[noKind]'}.{gvk.version or '[noVer]'}.{gvk.group or '[noGrp]'}"


# ----------------------------------------------------------------------------------------------- images
IMAGE_FIELDS = ("name", "newName", "newTag", "digest", "tagSuffix")


def apply_image(
    resources: list[Resource], image: dict[str, Any], config: fsp.Config = fsp.DEFAULT_CONFIG
) -> None:
    """One ``images:`` entry (ImageTagTransformer).

    Every ``image`` of a ``containers``/``initContainers`` list at any depth of any object but
    a CustomResourceDefinition is rewritten when it matches ``name`` (kustomize matches
    ``name`` as a regular expression followed by an optional ``:tag`` and ``@sha256:digest``).
    kustomize then applies the same entry a second time through its images field specs
    (spec/containers, spec/initContainers and their spec/template/spec forms); that second
    pass is a no-op except for ``tagSuffix``, which those paths therefore receive twice.
    """
    entry = _image_entry(image)
    for res in resources:
        if res.kind == "CustomResourceDefinition":
            continue
        _legacy_images(res.obj, entry)
    for res in resources:
        if res.kind == "CustomResourceDefinition":
            continue
        _apply_all(res, config.images, lambda parent, key: _update_image(parent, key, entry), None)


def _image_entry(image: dict[str, Any]) -> dict[str, str]:
    if not isinstance(image, dict):
        raise GitopsGenError("images entries must be mappings")
    out = dict.fromkeys(IMAGE_FIELDS, "")
    for key, value in image.items():
        if key not in IMAGE_FIELDS:
            raise GitopsGenError(f"images: unknown field {key!r}")
        if value is None:
            continue
        if not isinstance(value, str):
            raise GitopsGenError(f"images: {key} must be a string, not {_yaml_type(value)} (quote it)")
        out[key] = value
    return out


def _legacy_images(node: Any, entry: dict[str, str]) -> None:
    if isinstance(node, list):
        for item in node:
            _legacy_images(item, entry)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        _legacy_images(value, entry)
        if key in ("containers", "initContainers") and isinstance(value, list):
            for container in value:
                if container is None:
                    continue
                if not isinstance(container, dict):
                    raise GitopsGenError(
                        f"wrong node kind: {key} entries must be mappings, found {_yaml_type(container)}"
                    )
                if "image" in container:
                    _update_image(container, "image", entry)


def _update_image(parent: dict[str, Any], key: str, entry: dict[str, str]) -> None:
    value = parent[key]
    if value is None:
        return
    if isinstance(value, dict | list):
        raise GitopsGenError(f"image must be a string, found {_yaml_type(value)}")
    text = value if isinstance(value, str) else _scalar_text(value)
    if not image_matches(text, entry["name"]):
        return
    name, tag, digest = split_image(text)
    if entry["newName"]:
        name = entry["newName"]
    if entry["newTag"] and entry["digest"]:
        tag, digest = entry["newTag"], entry["digest"]
    elif entry["newTag"]:
        tag, digest = entry["newTag"], ""
    elif entry["digest"]:
        tag, digest = "", entry["digest"]
    elif entry["tagSuffix"]:
        tag, digest = tag + entry["tagSuffix"], ""
    if tag:
        name += ":" + tag
    if digest:
        name += "@" + digest
    parent[key] = name


_TAIL = r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?\Z"


def image_matches(image: str, name: str) -> bool:
    """kustomize's IsImageMatched: NAME is used as an (unescaped) regular expression."""
    try:
        return re.search("^" + name + _TAIL, image) is not None
    except re.error:
        return False


def split_image(image: str) -> tuple[str, str, str]:
    """kustomize's image.Split: (name, tag, digest); a registry port before the first '/' is kept."""
    slash = image.find("/")
    search = image[slash:] if slash > 0 else image
    offset = slash if slash > 0 else 0
    at = search.find("@")
    colon = search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        at += offset
        return image[:at], "", image[at + 1 :]
    if at >= 0 and colon >= 0:
        at += offset
        colon += offset
        return image[:colon], image[colon + 1 : at], image[at + 1 :]
    colon += offset
    return image[:colon], image[colon + 1 :], ""


__all__ = [
    "apply_annotations",
    "apply_image",
    "apply_labels",
    "apply_name_affix",
    "apply_namespace",
    "apply_replicas",
    "image_matches",
    "name_prefixes",
    "name_suffixes",
    "split_image",
]
