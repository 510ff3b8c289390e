"""Scaffolds: new cluster.yaml files, an app's base, a layer component. The file bodies are
templates in ``gitops_gen/authoring/templates/``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from gitops_gen.authoring.edits import ImageRef, _trailing_of, drop_key
from gitops_gen.authoring.roundtrip import _flow_text, _token, rewrite, scalar
from gitops_gen.authoring.scaffold_placeholders import DEPLOYMENT_TEMPLATE, image_line, template_text
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.inventory import API_VERSION, CLUSTER_LAYER
from gitops_gen.fleet.layout import APPS_DIR, BASE_DIR
from gitops_gen.kustomize.types import COMPONENT_VERSION, KUSTOMIZATION_VERSION

LAYER_PATCH = "deployment-patch.yaml"

_template = template_text


def cluster_text(
    name: str, layers: Mapping[str, str], engine: str | None, kubernetes_version: str | None, offset: int = 2
) -> str:
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


def cluster_from(
    text: str,
    path: str,
    name: str,
    layers: Mapping[str, str],
    engine: str | None,
    kubernetes_version: str | None,
) -> str:
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
                spec["kubernetesVersion"] = scalar(
                    kubernetes_version, old_version if quoted else DoubleQuotedScalarString("")
                )
            else:
                spec.insert(
                    list(spec.keys()).index("layers") + 1,
                    "kubernetesVersion",
                    DoubleQuotedScalarString(kubernetes_version),
                )
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
    kustomization = _template("app-kustomization.yaml", api_version=KUSTOMIZATION_VERSION, name=name)
    deployment = _template(DEPLOYMENT_TEMPLATE, image_line=image_line(str(image)), name=name)
    service = _template("app-service.yaml", name=name)
    return {
        f"{base}/kustomization.yaml": kustomization,
        f"{base}/deployment.yaml": deployment,
        f"{base}/service.yaml": service,
    }


def _component_header(app: str, key: str, value: str) -> str:
    who = f"the cluster {value} only" if key == CLUSTER_LAYER else f"every cluster with {key}={value}"
    return (
        f"# {app} for {key}={value}: a kustomize Component, applied to {who},\n"
        "# after the layers before it (later layers win).\n"
    )


def component_text(app: str, key: str, value: str) -> str:
    """A bare layer component (no patches): what `set image --layer` starts from."""
    return _component_header(app, key, value) + f"apiVersion: {COMPONENT_VERSION}\nkind: Component\n"


def layer_files(app: str, key: str, value: str, workload: tuple[str, str, str]) -> dict[str, str]:
    """apps/APP/KEY/VALUE/: a Component wiring an empty strategic-merge patch of the app's workload."""
    api, kind, name = workload
    directory = f"{APPS_DIR}/{app}/{key}/{value}"
    kustomization = component_text(app, key, value) + f"patches:\n- path: {LAYER_PATCH}\n"
    patch = _template("layer-patch.yaml", api=api, key=key, kind=kind, name=name, value=value)
    return {f"{directory}/kustomization.yaml": kustomization, f"{directory}/{LAYER_PATCH}": patch}
