"""kustomize's `buildMetadata`: origin and transformer annotations, the managed-by label.

Only the kustomization given to `build` decides (kustomize hands its list down to every
base). While it is on, each resource carries its origin in the annotation kustomize uses,
as JSON (compact to rewrite when a parent directory takes it in); the output turns it into
the YAML text kustomize writes, or drops it.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from gitops_gen.kustomize.resource import Resource

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
ORIGIN_OPTION = "originAnnotations"
TRANSFORMER_OPTION = "transformerAnnotations"
MANAGED_BY_OPTION = "managedByLabel"
MANAGED_BY = "app.kubernetes.io/managed-by"
# kubectl's embedded kustomize carries no release stamp, so it labels with its development version.
MANAGED_BY_VALUE = "kustomize-(devel)"
GENERATOR_KINDS = {"ConfigMap": "ConfigMapGenerator", "Secret": "SecretGenerator"}


def join(base: str, path: str) -> str:
    """Go's filepath.Join: joined and cleaned, "" for nothing."""
    if not base and not path:
        return ""
    return posixpath.normpath(posixpath.join(base, path))


def configured(
    configured_in: str, api_version: str, kind: str, name: str = "", namespace: str = ""
) -> dict[str, Any]:
    """The origin of a generator or transformer: its config file and its id."""
    by = {"apiVersion": api_version, "kind": kind}
    if name:
        by["name"] = name
    if namespace:
        by["namespace"] = namespace
    return {"configuredIn": configured_in, "configuredBy": by}


def plugin_origin(config: dict[str, Any], where: str) -> dict[str, Any]:
    """kustomize's OriginFromCustomPlugin: WHERE is the origin path of the plugin config."""
    md = config.get("metadata")
    md = md if isinstance(md, dict) else {}
    return configured(
        where,
        str(config.get("apiVersion") or ""),
        str(config.get("kind") or ""),
        str(md.get("name") or ""),
        str(md.get("namespace") or ""),
    )


def _annotations(res: Resource) -> dict[str, Any]:
    md = res.meta
    ann = md.get("annotations")
    if not isinstance(ann, dict):
        ann = md["annotations"] = {}
    return ann


def get_origin(res: Resource) -> dict[str, Any] | None:
    value = res.annotations().get(ORIGIN)
    if not isinstance(value, str):
        return None
    try:
        found = json.loads(value)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def set_origin(res: Resource, origin: dict[str, Any], overwrite: bool = True) -> None:
    if res.obj and (overwrite or ORIGIN not in res.annotations()):
        _annotations(res)[ORIGIN] = json.dumps(origin)


def mark(resources: list[Resource], origin: dict[str, Any]) -> None:
    """kustomize's AddTransformerAnnotation after one transformer ran over RESOURCES."""
    for res in resources:
        if not res.obj:
            continue
        ann = _annotations(res)
        if ORIGIN not in ann:
            # kustomize takes a resource without an origin for one the transformer made.
            ann[ORIGIN] = json.dumps(origin)
            continue
        done = ann.get(TRANSFORMATIONS)
        steps = json.loads(done) if isinstance(done, str) and done.startswith("[") else []
        steps.append(origin)
        ann[TRANSFORMATIONS] = json.dumps(steps)


def reroot(resources: list[Resource], entry: str) -> None:
    """Resources built in a directory ENTRY names: their paths become relative to the naming kustomization."""
    for res in resources:
        ann = res.annotations()
        if isinstance(ann.get(ORIGIN), str) and ann[ORIGIN].startswith("{"):
            ann[ORIGIN] = json.dumps(_rerooted(json.loads(ann[ORIGIN]), entry))
        if isinstance(ann.get(TRANSFORMATIONS), str) and ann[TRANSFORMATIONS].startswith("["):
            steps = [_rerooted(step, entry) for step in json.loads(ann[TRANSFORMATIONS])]
            ann[TRANSFORMATIONS] = json.dumps(steps)


def _rerooted(origin: dict[str, Any], entry: str) -> dict[str, Any]:
    for key in ("path", "configuredIn"):
        if origin.get(key):
            origin[key] = join(entry, origin[key])
    return origin


def finish(obj: dict[str, Any], options: frozenset[str]) -> None:
    """The annotations as kustomize prints them: YAML text when asked for, else gone."""
    md = obj.get("metadata")
    ann = md.get("annotations") if isinstance(md, dict) else None
    if not isinstance(ann, dict):
        return
    for key, option, render in (
        (ORIGIN, ORIGIN_OPTION, lambda v: _mapping_text(v, "")),
        (TRANSFORMATIONS, TRANSFORMER_OPTION, _steps_text),
    ):
        if key not in ann:
            continue
        value = ann[key]
        if option not in options:
            del ann[key]
        elif isinstance(value, str) and value[:1] in ("{", "["):
            ann[key] = render(json.loads(value))


def _scalar(value: str) -> str:
    from gitops_gen.repo import emit

    return emit.dump(value).rstrip("\n")


# The field order of kustomize's Origin and ResourceIdentifier structs (yaml.v3 keeps it).
_ORIGIN_KEYS = ("path", "repo", "ref", "configuredIn", "configuredBy")
_ID_KEYS = ("apiVersion", "kind", "name", "namespace")


def _mapping_text(origin: dict[str, Any], pad: str) -> str:
    lines = []
    for key in _ORIGIN_KEYS:
        value = origin.get(key)
        if not value:
            continue
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {_scalar(str(value[k]))}" for k in _ID_KEYS if value.get(k))
        else:
            lines.append(f"{key}: {_scalar(str(value))}")
    first, *rest = lines or ["{}"]
    return "".join([first + "\n", *(pad + line + "\n" for line in rest)])


def _steps_text(steps: list[dict[str, Any]]) -> str:
    return "".join("- " + _mapping_text(step, "  ") for step in steps)


def label_managed(resources: list[Resource]) -> None:
    """managedByLabel: kustomize's LabelTransformer on metadata/labels of every resource, last of all."""
    for res in resources:
        md = res.meta
        labels = md.get("labels")
        if not isinstance(labels, dict):
            labels = md["labels"] = {}
        labels[MANAGED_BY] = MANAGED_BY_VALUE
