"""Flux HelmReleases expanded offline: what helm-controller installs, where the chart is in reach.

A chart is in reach when its `spec.chart.spec.sourceRef` is the GitRepository the cluster's own
Flux Kustomization syncs from (the fleet repository: `chart: ./charts/x`), or a HelmRepository whose
URL gitops-gen.yaml maps to a vendored directory (`helm: {repositories: {URL: DIR}}`, charts at
DIR/<chart> or DIR/<chart>-<version>/<chart>). Values are helm-controller's: each `valuesFrom`
ConfigMap/Secret key in order (`targetPath` sets one value), then `spec.values` on top. The release
is `spec.releaseName`, else `<targetNamespace>-<name>` with a targetNamespace, else the name; it is
installed into `targetNamespace`, else the HelmRelease's namespace. CRDs are included unless
`install.crds: Skip`; test hooks are not. Anything else is left as it is, with a warning.
"""

from __future__ import annotations

import base64
import binascii
import os
import posixpath
import re
from pathlib import Path
from typing import Any

import yaml

from gitops_gen.applied.model import Applied, Sync, find_object
from gitops_gen.applied.rules import HELMRELEASE_NOT_EXPANDED
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.kustomize.builtins import helm
from gitops_gen.kustomize.resource import Origin, Resource
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree, normalize

HELMRELEASE_GROUP = "helm.toolkit.fluxcd.io/"
SKIP_TESTS = {"skipTests": True}  # helm-controller installs no test hooks


class NotExpanded(Exception):
    """Why one HelmRelease cannot be rendered offline (said as a warning)."""


def expand_releases(tree: Tree, sync: Sync | None, resources: list[Resource]) -> Applied:
    """RESOURCES with every reachable HelmRelease followed by the objects it installs."""
    releases = [
        r for r in resources if r.kind == "HelmRelease" and r.api_version.startswith(HELMRELEASE_GROUP)
    ]
    if not releases:
        return Applied(resources)
    config = read_config(tree)
    objs = [r.obj for r in resources]
    owners = {id(r.obj): r for r in resources}
    out: list[Resource] = []
    notes: list[Problem] = []
    for res in resources:
        out.append(res)
        if res not in releases:
            continue
        try:
            out.extend(expand(tree, sync, res, objs, config, owners))
        except NotExpanded as why:
            notes.append(
                Problem(
                    res.origin.path,
                    kind_line(tree, res),
                    1,
                    "warning",
                    HELMRELEASE_NOT_EXPANDED.id,
                    f"not expanded: HelmRelease/{res.name} ({why})",
                )
            )
    return Applied(out, notes)


def read_config(tree: Tree) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(tree.read("gitops-gen.yaml"))
    except (yaml.YAMLError, GitopsGenError):
        return {}
    return doc if isinstance(doc, dict) else {}


def kind_line(tree: Tree, res: Resource) -> int:
    try:
        text = tree.read(res.origin.path).decode("utf-8", "replace")
    except GitopsGenError:
        return 1
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line.strip() == f"name: {res.name}":
            return number
    return 1


def chart_source(
    tree: Tree, sync: Sync | None, release: dict[str, Any], objs: list[dict[str, Any]], config: dict[str, Any]
) -> tuple[str, str]:
    """(chart directory, where values files of spec.chart.spec.valuesFiles are relative to)."""
    spec = release.get("spec") or {}
    if spec.get("chartRef"):
        ref = spec["chartRef"]
        raise NotExpanded(
            f"chart source {ref.get('kind')}/{ref.get('name')}: chartRef is not supported offline"
        )
    chart = ((spec.get("chart") or {}).get("spec")) or {}
    ref = chart.get("sourceRef") or {}
    namespace = ref.get("namespace") or (release.get("metadata") or {}).get("namespace") or "default"
    kind, name, chart_name = ref.get("kind"), ref.get("name"), str(chart.get("chart") or "")
    label = f"chart source {kind}/{namespace}/{name}"
    if kind == "GitRepository":
        own = (sync.obj["spec"].get("sourceRef") or {}) if sync is not None and sync.engine == "flux" else {}
        own_ns = own.get("namespace") or (sync.obj.get("metadata") or {}).get("namespace") if sync else None
        if own.get("kind") != "GitRepository" or own.get("name") != name or own_ns != namespace:
            raise NotExpanded(f"{label}: not the fleet repository this cluster syncs from")
        path = normalize(chart_name.lstrip("/"))
        if path is None or tree.kind(posixpath.join(path, "Chart.yaml")) != "file":
            raise NotExpanded(f"{label}: no chart at {chart_name!r} in the repository")
        return path, ""
    if kind == "HelmRepository":
        repo = find_object(objs, "HelmRepository", str(name), namespace)
        url = str(((repo or {}).get("spec") or {}).get("url") or "")
        if not url:
            raise NotExpanded(f"{label}: the HelmRepository is not in this cluster's render")
        mapped = (((config.get("helm") or {}).get("repositories")) or {}).get(url) or (
            ((config.get("helm") or {}).get("repositories")) or {}
        ).get(url.rstrip("/"))
        if not mapped:
            raise NotExpanded(
                f"{label} {url}: not mapped to a vendored directory in gitops-gen.yaml helm.repositories"
            )
        base = normalize(str(mapped))
        version = str(chart.get("version") or "")
        for candidate in ([f"{base}/{chart_name}-{version}/{chart_name}"] if version else []) + [
            f"{base}/{chart_name}"
        ]:
            if tree.kind(posixpath.join(candidate, "Chart.yaml")) == "file":
                return candidate, candidate
        raise NotExpanded(
            f"{label} {url}: chart {chart_name!r} is not vendored under {mapped}/ (run `helm pull "
            f"{chart_name} --repo {url}{' --version ' + version if version else ''} --untar "
            f"--untardir {mapped}`)"
        )
    raise NotExpanded(f"{label}: only GitRepository and HelmRepository sources are expanded")


def source_values(obj: dict[str, Any], key: str) -> str | None:
    if obj.get("kind") == "Secret":
        if key in (obj.get("stringData") or {}):
            return str(obj["stringData"][key])
        raw = (obj.get("data") or {}).get(key)
        try:
            return None if raw is None else base64.b64decode(str(raw), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    value = (obj.get("data") or {}).get(key)
    return None if value is None else str(value)


def set_path(values: dict[str, Any], path: str, value: Any) -> None:
    parts = [p for p in path.split(".") if p]
    node = values
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = node[part] = {}
        node = nxt
    if parts:
        node[parts[-1]] = value


def release_values(
    tree: Tree,
    res: Resource,
    objs: list[dict[str, Any]],
    values_base: str,
    sources: list[helm.ValuesSource],
    owners: dict[int, Resource],
) -> dict[str, Any]:
    """The values helm-controller gives the chart; SOURCES receives where each part was written
    (OWNERS: the Resource of each object of OBJS, by id, for the valuesFrom sources)."""
    release = res.obj
    spec = release.get("spec") or {}
    namespace = (release.get("metadata") or {}).get("namespace") or "default"
    values: dict[str, Any] = {}
    for path in ((spec.get("chart") or {}).get("spec") or {}).get("valuesFiles") or []:
        full = normalize(str(path), values_base)
        if full is None or tree.kind(full) != "file":
            raise NotExpanded(f"valuesFiles entry {path!r} not found")
        docs = yamlio.load_documents(tree.read(full), tree.display(full))
        if docs and isinstance(docs[0], dict):
            values = helm.merge_values(values, docs[0])
            sources.append(helm.ValuesSource("valuesFiles", docs[0], tree.display(full)))
    for ref in spec.get("valuesFrom") or []:
        kind, name = ref.get("kind"), ref.get("name")
        obj = find_object(objs, str(kind), str(name), namespace)
        key = ref.get("valuesKey") or "values.yaml"
        text = source_values(obj, key) if obj is not None else None
        if text is None:
            if ref.get("optional"):
                continue
            raise NotExpanded(f"valuesFrom {kind}/{name} key {key!r} is not in this cluster's render")
        assert obj is not None
        owner = owners.get(id(obj))
        label = f"valuesFrom {kind}/{name}"
        field = "stringData" if key in (obj.get("stringData") or {}) else "data"
        where = owner.origin.path if owner is not None else res.origin.path
        if ref.get("targetPath"):
            set_path(values, str(ref["targetPath"]), text)
            target = tuple(p for p in str(ref["targetPath"]).split(".") if p)
            sources.append(helm.ValuesSource(label, {}, where, (field, key), 0, owner, target))
            continue
        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise NotExpanded(f"valuesFrom {kind}/{name} key {key!r} is not a YAML mapping")
        values = helm.merge_values(values, loaded)
        sources.append(helm.ValuesSource(label, loaded, where, (field, key), 0, owner))
    if isinstance(spec.get("values"), dict):
        values = helm.merge_values(values, spec["values"])
        sources.append(
            helm.ValuesSource("spec.values", spec["values"], res.origin.path, ("spec", "values"), 0, res)
        )
    return values


def kube_version(tree: Tree, sync: Sync | None, config: dict[str, Any]) -> str | None:
    if sync is None:
        return None
    cluster = posixpath.dirname(sync.path)
    try:
        doc = yaml.load(tree.read(f"{cluster}/cluster.yaml"), Loader=yaml.CSafeLoader) or {}
    except (yaml.YAMLError, GitopsGenError):
        doc = {}
    version = ((doc.get("spec") or {}) if isinstance(doc, dict) else {}).get(
        "kubernetesVersion"
    ) or config.get("kubernetesVersion")
    return f"{version}.0" if isinstance(version, str) and version.count(".") == 1 else None


def expand(
    tree: Tree,
    sync: Sync | None,
    res: Resource,
    objs: list[dict[str, Any]],
    config: dict[str, Any],
    owners: dict[int, Resource] | None = None,
) -> list[Resource]:
    release = res.obj
    spec = release.get("spec") or {}
    if spec.get("postRenderers"):
        raise NotExpanded("postRenderers are not applied offline")
    chart_dir, values_base = chart_source(tree, sync, release, objs, config)
    meta = release.get("metadata") or {}
    target = spec.get("targetNamespace")
    name = spec.get("releaseName") or (f"{target}-{meta.get('name')}" if target else meta.get("name"))
    namespace = target or meta.get("namespace") or "default"
    crds = ((spec.get("install") or {}).get("crds") or "Create") != "Skip"
    sources: list[helm.ValuesSource] = []
    request = helm.Request(
        chart=helm.read_chart(tree, chart_dir),
        chart_name=posixpath.basename(chart_dir),
        values=release_values(tree, res, objs, values_base, sources, owners or {}),
        release=str(name),
        namespace=str(namespace),
        include_crds=crds,
        kube_version=kube_version(tree, sync, config),
    )
    try:
        rendered = helm.render(request)
    except helm.HelmError as err:
        if err.message == helm.NO_BACKEND:
            raise NotExpanded(
                "Helm is not available: install gitops-gen[helm] or pass --helm-command"
            ) from None
        where, line, col = helm.template_location(tree, chart_dir, request.chart_name, err.message)
        raise GitopsGenError(
            f"HelmRelease/{meta.get('name')}: {err.message}", where or res.origin.path, line, col
        ) from None
    out = []
    seen: dict[str, int] = {}
    for source, doc in helm.manifests(request, rendered, SKIP_TESTS):
        inner = source.split("/", 1)[1] if source.startswith(request.chart_name + "/") else source
        display = tree.display(posixpath.join(chart_dir, inner))
        index = seen.get(source, 0)
        seen[source] = index + 1
        if doc.get("kind") and (doc.get("metadata") or {}).get("name"):
            trace = helm.ChartTrace(request, chart_dir, source, index, tuple(sources), SKIP_TESTS)
            origin = Origin(display, "resource", field="HelmRelease", chart=trace)
            made = Resource(obj=doc, origin=origin)
            if not made.namespace and not made.is_cluster_scoped():
                made.meta["namespace"] = str(namespace)  # Helm installs them into the release namespace
            out.append(made)
    return out


# ---------------------------------------------------------------- which files pull a changed chart in

SKIP_DIRS = frozenset({".git", "mapping"})


def chart_of(root: Path, path: str) -> str | None:
    """The chart directory (one holding Chart.yaml) that repository path PATH lies in, if any."""
    parts = path.split("/")[:-1]
    while parts:
        if (root.joinpath(*parts) / "Chart.yaml").is_file():
            return "/".join(parts)
        parts.pop()
    return None


def chart_users(root: Path, paths: list[str]) -> list[str] | None:
    """Files whose change stands for a change of the charts PATHS lie in, for `validate FILE`
    (kustomizations do not name a chart's files, so the dependency index cannot see them): the
    kustomization above a helmCharts chart, or the files naming a chart's directory (a HelmRelease's
    `chart: ./<dir>`). None when a chart's users cannot be known this way (a vendored HelmRepository
    chart is named by its name): then every cluster may be affected."""
    charts = sorted({c for c in (chart_of(root, p) for p in paths) if c})
    out: list[str] = []
    for chart in charts:
        users = kustomization_above(root, chart) or naming(root, chart)
        if not users:
            return None
        out.extend(users)
    return sorted(set(out))


def kustomization_above(root: Path, chart: str) -> list[str]:
    parts = chart.split("/")[:-1]
    while parts:
        for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            if (root.joinpath(*parts) / name).is_file():
                return ["/".join([*parts, name])]
        parts.pop()
    return []


def naming(root: Path, chart: str) -> list[str]:
    needle = re.compile(rb"chart:\s*['\"]?\.?/?" + re.escape(chart.encode()) + rb"/?['\"]?\s*$", re.M)
    found = []
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root).replace(os.sep, "/")
        dirs[:] = [d for d in dirs if not (rel == "." and d in SKIP_DIRS)]
        for name in files:
            if name.endswith((".yaml", ".yml")):
                full = os.path.join(directory, name)
                try:
                    with open(full, "rb") as handle:
                        if needle.search(handle.read()):
                            found.append(os.path.relpath(full, root).replace(os.sep, "/"))
                except OSError:
                    continue
    return found
