"""`helmCharts` / `helmGlobals`: kustomize's HelmChartInflationGenerator, offline.

What kustomize v5.5 does, and so do we: the chart is looked for at `<chartHome>/<name>`, or at
`<chartHome>/<name>-<version>/<name>` when both `version` and `repo` are set (where
`helm pull --untar --untardir` puts it); `chartHome` defaults to `charts`, relative to the
kustomization. The values Helm gets are `valuesFile` (default: the chart's own values.yaml) with
`valuesInline` merged per `valuesMerge` (override: inline wins; merge: the file wins; replace:
inline only), then each of `additionalValuesFiles`; Helm puts the chart's defaults underneath.
Values files must lie in or below the kustomization (kustomize's loader restriction).

kustomize would download a missing chart; we never touch the network and say how to vendor it.
Rendering is in-process through helm-python-sdk (Helm's Go SDK) or, with `--helm-command`, a
helm binary running `helm template`. Differences from `helm template` are listed in the README.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.repo import yamlio
from gitops_gen.repo.tree import Tree, normalize

CHART_FIELDS = frozenset(
    {
        "name",
        "version",
        "repo",
        "releaseName",
        "namespace",
        "valuesFile",
        "valuesInline",
        "valuesMerge",
        "additionalValuesFiles",
        "includeCRDs",
        "skipHooks",
        "skipTests",
        "apiVersions",
        "kubeVersion",
        "nameTemplate",
        "debug",
    }
)
GLOBAL_FIELDS = frozenset({"chartHome", "configHome"})
DEFAULT_HOME = "charts"
MERGES = ("override", "merge", "replace")
HOOK = "helm.sh/hook"
TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
# Helm's install order (`helm template` prints manifests sorted by kind in this order).
INSTALL_ORDER = (
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_RANK = {kind: i for i, kind in enumerate(INSTALL_ORDER)}
_TEMPLATE_ERROR = re.compile(r"\(([^()\s]+?\.(?:ya?ml|tpl|txt|json)):(\d+):(\d+)\)")

NO_BACKEND = (
    "helmCharts needs Helm: install the gitops-gen[helm] extra (helm-python-sdk, in-process) "
    "or pass --helm-command PATH to a helm binary"
)


class HelmError(GitopsGenError):
    pass


@dataclass(frozen=True)
class Request:
    """One rendering: a chart (as files), the values and what `helm template` is told."""

    chart: dict[str, bytes]  # path inside the chart directory -> bytes
    chart_name: str  # the directory's name (archives are rooted at it)
    values: dict[str, Any]
    release: str
    namespace: str
    include_crds: bool = False
    kube_version: str | None = None
    api_versions: tuple[str, ...] = ()

    def key(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.chart):
            digest.update(path.encode() + b"\0" + hashlib.sha256(self.chart[path]).digest())
        digest.update(
            json.dumps(
                [
                    self.values,
                    self.release,
                    self.namespace,
                    self.include_crds,
                    self.kube_version,
                    self.api_versions,
                ],
                sort_keys=True,
                default=str,
            ).encode()
        )
        return digest.hexdigest()


@dataclass
class Rendered:
    """A chart's CRDs (when asked for) and manifests, each as (path in the chart archive, text)."""

    crds: list[tuple[str, str]] = field(default_factory=list)
    manifests: list[tuple[str, str]] = field(default_factory=list)


Backend = Callable[[Request], Rendered]


@dataclass(frozen=True, eq=False)
class ValuesSource:
    """One place the user's values come from, for provenance: VALUES as written at AT (a node path)
    in document DOC of PATH (a display path). RESOURCE, when set, is the traced Resource holding them
    (a HelmRelease's spec.values, a valuesFrom ConfigMap), whose own provenance then locates them."""

    label: str  # how explain names it: valuesFile, valuesInline, spec.values, valuesFrom ConfigMap/x, ...
    values: dict[str, Any]
    path: str
    at: tuple[str | int, ...] = ()
    doc: int = 0
    resource: Any = None
    target: tuple[str, ...] = ()  # valuesFrom targetPath: VALUES is one string set at this key


@dataclass(frozen=True, eq=False)
class ChartTrace:
    """How a chart rendered one object (kept on its Origin; provenance re-renders from it)."""

    request: Request
    chart_dir: str  # repository path of the chart
    source: str  # the template, as Helm names it (<chart>/templates/x.yaml)
    index: int  # the object's position among that template's objects
    sources: tuple[ValuesSource, ...]  # the user's values, lowest precedence first
    options: dict[str, Any]  # the skipHooks/skipTests that chose the manifests


# ---------------------------------------------------------------- backends


def chart_archive(request: Request) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(request.chart):
            data = request.chart[path]
            info = tarfile.TarInfo(f"{request.chart_name}/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sdk_backend() -> Backend | None:
    try:
        import helm_python  # type: ignore[import-not-found,unused-ignore]
        from helm_python import _native  # type: ignore[import-not-found,unused-ignore]
    except (ImportError, OSError):
        return None

    def render(request: Request) -> Rendered:
        try:
            with helm_python.Chart.load_archive(chart_archive(request)) as chart:
                opts: dict[str, Any] = {"name": request.release, "namespace": request.namespace}
                if request.kube_version:
                    opts["kube_version"] = request.kube_version
                if request.api_versions:
                    opts["api_versions"] = list(request.api_versions)
                # Chart.render does not expose Capabilities; the library call takes them.
                files = json.loads(
                    _native.call_string(
                        "helm_render", chart._raw(), json.dumps(request.values), json.dumps(opts)
                    )
                )
                crds = [(c["filename"], c["data"]) for c in chart.crds] if request.include_crds else []
        except helm_python.HelmError as err:
            raise HelmError(one_line(str(err))) from None
        return Rendered(crds, sorted(files.items()))

    return render


def command_backend(command: str) -> Backend:
    def render(request: Request) -> Rendered:
        with tempfile.TemporaryDirectory(prefix="gitops-gen-helm-") as tmp:
            chart_dir = os.path.join(tmp, request.chart_name)
            for path, data in request.chart.items():
                target = os.path.join(chart_dir, *path.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(data)
            values = os.path.join(tmp, "values.json")
            with open(values, "w") as fh:
                json.dump(request.values, fh)
            args = [
                command,
                "template",
                request.release,
                chart_dir,
                "--namespace",
                request.namespace,
                "-f",
                values,
            ]
            args += [f"--api-versions={v}" for v in request.api_versions]
            if request.kube_version:
                args.append(f"--kube-version={request.kube_version}")
            if request.include_crds:
                args.append("--include-crds")
            env = {
                **os.environ,
                "HELM_CONFIG_HOME": os.path.join(tmp, "helm"),
                "HELM_CACHE_HOME": os.path.join(tmp, "helm", ".cache"),
                "HELM_DATA_HOME": os.path.join(tmp, "helm", ".data"),
            }
            try:
                proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False, timeout=300)
            except OSError as err:
                raise HelmError(f"cannot run --helm-command {command}: {err.strerror}") from None
            if proc.returncode != 0:
                message = (proc.stderr.strip().splitlines() or ["helm template failed"])[-1]
                raise HelmError(one_line(message.removeprefix("Error: ")))
            docs = split_sources(proc.stdout)
            return Rendered(
                [d for d in docs if is_crd_source(d[0])], [d for d in docs if not is_crd_source(d[0])]
            )

    return render


def is_crd_source(path: str) -> bool:
    parts = path.split("/")
    return "crds" in parts and "templates" not in parts


def split_sources(text: str) -> list[tuple[str, str]]:
    """`helm template` output as (source path, manifest) by its `# Source:` comments."""
    out: list[tuple[str, str]] = []
    for doc in re.split(r"^---[ \t]*\n", text, flags=re.M):
        match = re.match(r"# Source: (\S+)\n", doc)
        out.append((match.group(1) if match else "", doc))
    return out


_backend: Backend | None = None
_command: str | None = None
_cache: dict[str, Rendered] = {}


def use_command(command: str | None) -> None:
    """Render with a helm binary (`--helm-command`) instead of the in-process SDK."""
    global _backend, _command
    _command = command
    _backend = None
    _cache.clear()


def backend() -> Backend:
    global _backend
    if _backend is None:
        if _command:
            resolved = shutil.which(_command)
            if resolved is None:
                raise HelmError(f"--helm-command {_command}: not found")
            _backend = command_backend(resolved)
        else:
            _backend = sdk_backend()
            if _backend is None:
                raise HelmError(NO_BACKEND)
    return _backend


def render(request: Request) -> Rendered:
    key = request.key()
    hit = _cache.get(key)
    if hit is None:
        hit = _cache[key] = backend()(request)
    return hit


def one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- values


def merge_values(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of two -f files: maps merge key by key, anything else in OVER replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def kyaml_merge(src: dict[str, Any], dest: dict[str, Any]) -> dict[str, Any]:
    """kustomize's merge2 of SRC into DEST: SRC wins, maps merge, lists and scalars replace, a null
    in SRC deletes the key."""
    out = dict(dest)
    for key, value in src.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = kyaml_merge(value, out[key])
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- the generator


@dataclass
class Entry:
    """One helmCharts entry with helmGlobals applied, paths resolved inside the repository."""

    index: int
    spec: dict[str, Any]
    chart_dir: str
    error: Callable[[str, tuple[str | int, ...]], GitopsGenError]


def check_entry(spec: Any, index: int, fail: Callable[[str, tuple[str | int, ...]], GitopsGenError]) -> None:
    if not isinstance(spec, dict):
        raise fail(f"helmCharts[{index}] must be a mapping", ("helmCharts", index))
    for key in spec:
        if key not in CHART_FIELDS:
            raise fail(f"helmCharts[{index}]: unknown field {key!r}", ("helmCharts", index, key))
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise fail(f"helmCharts[{index}]: chart name cannot be empty", ("helmCharts", index))
    merge = spec.get("valuesMerge") or "override"
    if merge not in MERGES:
        raise fail(
            f"helmCharts[{index}]: valuesMerge must be one of [{' '.join(MERGES)}]",
            ("helmCharts", index, "valuesMerge"),
        )
    if spec.get("valuesInline") is not None and not isinstance(spec["valuesInline"], dict):
        raise fail(
            f"helmCharts[{index}]: valuesInline must be a mapping", ("helmCharts", index, "valuesInline")
        )


def chart_location(kust_dir: str, globals_: dict[str, Any], spec: dict[str, Any]) -> tuple[str, str]:
    """(chart home, chart directory), repo-relative, as kustomize computes them."""
    home = str(globals_.get("chartHome") or DEFAULT_HOME)
    if posixpath.isabs(home):
        raise GitopsGenError(f"helmGlobals.chartHome {home!r}: an absolute path is outside the repository")
    base = normalize(home, kust_dir)
    if base is None:
        raise GitopsGenError(f"helmGlobals.chartHome {home!r} climbs out of the repository")
    if spec.get("version") and spec.get("repo"):
        base = posixpath.join(base, f"{spec['name']}-{spec['version']}")
    return base, posixpath.join(base, spec["name"])


def vendor_hint(spec: dict[str, Any], home: str) -> str:
    name, repo, version = spec["name"], spec.get("repo"), spec.get("version")
    if repo and str(repo).startswith("oci://"):
        source = f"{str(repo).rstrip('/')}/{name}"
    else:
        source = f"{name} --repo {repo}" if repo else f"<repo>/{name}"
    pin = f" --version {version}" if version else ""
    return f"helm pull {source}{pin} --untar --untardir {home}"


def read_chart(tree: Tree, chart_dir: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}

    def walk(rel: str) -> None:
        here = posixpath.join(chart_dir, rel) if rel else chart_dir
        for name in tree.listdir(here):
            sub = posixpath.join(rel, name) if rel else name
            kind = tree.kind(posixpath.join(chart_dir, sub))
            if kind == "dir":
                walk(sub)
            elif kind == "file":
                files[sub] = tree.read(posixpath.join(chart_dir, sub))

    walk("")
    return files


def load_values(
    tree: Tree,
    kust_dir: str,
    display: str,
    path: str,
    fail: Callable[[str], GitopsGenError],
    default: bool = False,
) -> dict[str, Any]:
    """A values file, which (like every file kustomize's loader reads) must be in or below KUST_DIR."""
    resolved = path if default else normalize(path, kust_dir)
    if resolved is None or (kust_dir and resolved != kust_dir and not resolved.startswith(kust_dir + "/")):
        raise fail(f"security; file {path!r} is not in or below {display or '.'}")
    if tree.kind(resolved) != "file":
        raise fail(f"values file {path!r} not found")
    docs = yamlio.load_documents(tree.read(resolved), tree.display(resolved))
    doc = docs[0] if docs else {}
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise fail(f"values file {path!r} must hold a mapping")
    return doc


def request_for(
    tree: Tree,
    kust_dir: str,
    globals_: dict[str, Any],
    spec: dict[str, Any],
    fail: Callable[[str], GitopsGenError],
    sources: list[ValuesSource] | None = None,
    entry: tuple[str, int] = ("", 0),
) -> Request:
    """The rendering one helmCharts entry asks for. SOURCES, when given, receives where each part of
    the values was written (ENTRY: the kustomization's display path and the entry's index)."""
    home, chart_dir = chart_location(kust_dir, globals_, spec)
    if tree.kind(chart_dir) != "dir" or tree.kind(posixpath.join(chart_dir, "Chart.yaml")) != "file":
        raise fail(
            f"chart {spec['name']!r} is not vendored at {tree.display(chart_dir)}/ (gitops-gen never "
            f"downloads): run `{vendor_hint(spec, tree.display(home))}` and commit it"
        )
    values_file = spec.get("valuesFile")
    base = (
        load_values(
            tree,
            kust_dir,
            tree.display(kust_dir),
            values_file or posixpath.join(chart_dir, "values.yaml"),
            fail,
            default=not values_file,
        )
        if values_file or tree.kind(posixpath.join(chart_dir, "values.yaml")) == "file"
        else {}
    )
    inline = spec.get("valuesInline") or {}
    merge = spec.get("valuesMerge") or "override"
    found: list[ValuesSource] = []
    if values_file:
        found.append(ValuesSource("valuesFile", base, tree.display(normalize(values_file, kust_dir) or "")))
    if inline:
        written = ValuesSource("valuesInline", inline, entry[0], ("helmCharts", entry[1], "valuesInline"))
        if merge == "override":
            base = kyaml_merge(inline, base)
            found.append(written)
        elif merge == "merge":
            base = kyaml_merge(base, inline)
            found.insert(0, written)
        else:
            base = dict(inline)
            found = [written]
    for extra in spec.get("additionalValuesFiles") or []:
        more = load_values(tree, kust_dir, tree.display(kust_dir), str(extra), fail)
        base = merge_values(base, more)
        found.append(
            ValuesSource("additionalValuesFiles", more, tree.display(normalize(str(extra), kust_dir) or ""))
        )
    if sources is not None:
        sources.extend(found)
    release = release_name(spec, fail)
    request = Request(
        chart=read_chart(tree, chart_dir),
        chart_name=posixpath.basename(chart_dir),
        values=base,
        release=release,
        namespace=str(spec.get("namespace") or "default"),
        include_crds=bool(spec.get("includeCRDs")),
        kube_version=str(spec["kubeVersion"]) if spec.get("kubeVersion") else None,
        api_versions=tuple(str(v) for v in spec.get("apiVersions") or []),
    )
    kube_version_check(request, fail)
    return request


def kube_version_check(request: Request, fail: Callable[[str], GitopsGenError]) -> None:
    """`helm template --kube-version` refuses a chart whose Chart.yaml kubeVersion excludes it (the SDK's
    render does not check, so we do, for the top chart as Helm does)."""
    if not request.kube_version:
        return
    meta = yamlio.load_documents(request.chart.get("Chart.yaml", b""), "Chart.yaml")
    wanted = meta[0].get("kubeVersion") if meta and isinstance(meta[0], dict) else None
    if wanted and not semver_satisfies(str(request.kube_version), str(wanted)):
        raise fail(
            f"chart requires kubeVersion: {wanted} which is incompatible with Kubernetes "
            f"v{request.kube_version.lstrip('v')}"
        )


_VERSION = re.compile(
    r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)


def semver_satisfies(version: str, constraint: str) -> bool:
    """Masterminds semver constraints as Helm uses them: `||` of comma/space separated
    comparisons (=, !=, >, <, >=, <=, ~, ^, x wildcards, `a - b` ranges); prereleases compare as
    their release (Kubernetes versions carry none)."""
    have = _parts(version)
    if have is None:
        return False
    for alternative in constraint.split("||"):
        text = re.sub(r"\s*-\s+", " - ", alternative.strip())
        text = re.sub(r"(>=|<=|=>|=<|!=|~>|[<>=~^])\s+", r"\1", text)
        tokens = [t for t in re.split(r"[\s,]+", text) if t]
        checks, i = [], 0
        while i < len(tokens):
            if i + 2 < len(tokens) and tokens[i + 1] == "-":
                checks += [">=" + tokens[i], "<=" + tokens[i + 2]]
                i += 3
            else:
                checks.append(tokens[i])
                i += 1
        if checks and all(_check(have, c) for c in checks):
            return True
    return False


def _parts(text: str) -> tuple[int, int, int] | None:
    m = _VERSION.match(text.strip())
    if not m or any(g and not g.isdigit() for g in m.groups()):
        return None
    return tuple(int(g or 0) for g in m.groups())  # type: ignore[return-value]


def _check(have: tuple[int, int, int], comparison: str) -> bool:
    m = re.match(r"(>=|<=|=>|=<|!=|~>|[<>=~^])?(.*)$", comparison)
    assert m is not None
    op, text = m.group(1) or "=", m.group(2)
    v = _VERSION.match(text)
    if not v:
        return False
    raw = [g for g in v.groups()]
    given = [g for g in raw if g is not None and g.isdigit()]
    nums = [int(g) for g in given] + [0] * (3 - len(given))
    low = (nums[0], nums[1], nums[2])
    wild = len(given)  # how many leading parts are fixed
    if op in ("=", "!="):
        inside = have[:wild] == low[:wild] if wild < 3 else have == low
        return inside if op == "=" else not inside
    if op in ("~", "~>"):
        fixed = 2 if wild >= 2 else max(wild, 1)
        return have >= low and have[:fixed] == low[:fixed]
    if op == "^":
        lead = next((i for i, n in enumerate(low) if n != 0), 2) if wild == 3 else 0
        return have >= low and have[: lead + 1] == low[: lead + 1]
    cmp = (have > low) - (have < low)
    return {">": cmp > 0, "<": cmp < 0, ">=": cmp >= 0, "=>": cmp >= 0, "<=": cmp <= 0, "=<": cmp <= 0}[op]


def release_name(spec: dict[str, Any], fail: Callable[[str], GitopsGenError]) -> str:
    name, template = spec.get("releaseName"), spec.get("nameTemplate")
    if name and template:
        raise fail(
            "releaseName and nameTemplate cannot both be set (helm refuses a name with --name-template)"
        )
    if template:
        if "{{" in str(template):
            raise fail(
                "nameTemplate with template actions is not supported (the release name would not be "
                "reproducible offline); set releaseName"
            )
        return str(template)
    if not name:
        raise fail(
            "set releaseName: without it kustomize passes --generate-name and Helm names the release "
            f"{spec['name']}-<unix time>, different on every build"
        )
    return str(name)


def manifests(request: Request, rendered: Rendered, spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """(source, document) in `helm template` order: CRDs, manifests by install order, then hooks."""
    crds = [
        (source, doc)
        for source, text in rendered.crds
        for doc in yamlio.load_documents(text, source)
        if isinstance(doc, dict)
    ]
    plain: list[tuple[int, int, str, Any]] = []
    hooks: list[tuple[str, Any]] = []
    for order, (source, text) in enumerate(rendered.manifests):
        if source.endswith("NOTES.txt") or not text.strip():
            continue
        for doc in yamlio.load_documents(text, source or request.chart_name):
            if not isinstance(doc, dict):
                continue
            hook = str(((doc.get("metadata") or {}).get("annotations") or {}).get(HOOK, ""))
            if hook:
                kinds = {h.strip() for h in hook.split(",")}
                if spec.get("skipHooks") or (spec.get("skipTests") and kinds & TEST_HOOKS):
                    continue
                hooks.append((source, doc))
                continue
            plain.append((_RANK.get(str(doc.get("kind")), len(_RANK)), order, source, doc))
    plain.sort(key=lambda item: (item[0], item[1]))
    return [*crds, *((s, d) for _, _, s, d in plain), *hooks]


def template_location(
    tree: Tree, chart_dir: str, chart_name: str, message: str
) -> tuple[str | None, int | None, int | None]:
    """The repository file:line:col a Helm template error names, if it names one."""
    match = _TEMPLATE_ERROR.search(message)
    if not match or not match.group(1).startswith(chart_name + "/"):
        return None, None, None
    inner = match.group(1)[len(chart_name) + 1 :]
    path = posixpath.join(chart_dir, inner)
    if tree.kind(path) != "file":
        return None, None, None
    return tree.display(path), int(match.group(2)), int(match.group(3))


def inflate(
    tree: Tree,
    kust_dir: str,
    globals_: dict[str, Any],
    spec: dict[str, Any],
    index: int,
    fail_at: Callable[[str, tuple[str | int, ...]], GitopsGenError],
    kust_path: str = "",
) -> list[tuple[str, dict[str, Any], ChartTrace]]:
    """The objects of one helmCharts entry, each with the repository path of its template and how
    it was rendered (KUST_PATH: the kustomization's display path, for provenance)."""
    check_entry(spec, index, fail_at)
    where = ("helmCharts", index)

    def fail(message: str) -> GitopsGenError:
        return fail_at(f"helmCharts[{index}] ({spec.get('name')}): {message}", where)

    sources: list[ValuesSource] = []
    try:
        request = request_for(tree, kust_dir, globals_, spec, fail, sources, (kust_path, index))
    except HelmError as err:
        raise fail(err.message) from None
    except GitopsGenError as err:
        if err.path:
            raise
        raise fail(err.message) from None
    _, chart_dir = chart_location(kust_dir, globals_, spec)
    try:
        rendered = render(request)
    except HelmError as err:
        path, line, col = template_location(tree, chart_dir, request.chart_name, err.message)
        if path is not None:
            raise GitopsGenError(
                f"helmCharts[{index}] ({spec['name']}): {err.message}", path, line, col
            ) from None
        raise fail(err.message) from None
    out = []
    seen: dict[str, int] = {}
    for source, doc in manifests(request, rendered, spec):
        inner = source.split("/", 1)[1] if source.startswith(request.chart_name + "/") else source
        trace = ChartTrace(request, chart_dir, source, seen.get(source, 0), tuple(sources), spec)
        seen[source] = trace.index + 1
        out.append(
            (tree.display(posixpath.join(chart_dir, inner)) if inner else tree.display(chart_dir), doc, trace)
        )
    return out


def resources(tree: Tree, kust: Any, to_objects: Callable[[Any, str], list[dict[str, Any]]]) -> list[Any]:
    """The Resources of KUST's helmCharts (a kustfile.Kustomization), for the engine's generator step.
    TO_OBJECTS is the engine's own reading of one document (Lists expanded, objects checked)."""
    from gitops_gen.kustomize.resource import Origin, Resource

    globals_ = kust.data.get("helmGlobals") or {}
    out = []
    for index, spec in enumerate(kust.get_list("helmCharts")):
        for display, doc, trace in inflate(
            tree, kust.dir, globals_, spec, index, lambda m, node: kust.error(m, *node), kust.path
        ):
            for obj in to_objects(doc, display):
                origin = Origin(display, "resource", field="helmCharts", chart=trace)
                out.append(Resource(obj=obj, origin=origin))
    return out
