"""Every field of a kustomization, in one table (kustomize's ``api/types/kustomization.go``).

For each field: the shape kustomize decodes it into, whether this engine implements it,
how it names files (what the dependency graph follows and authoring reads), whether its
entries carry a patch ``target``, and what it is deprecated for. The loader
(``kustfile``), the dependency graph (``fleet.deps``), hygiene and authoring all read it
from here, so a new field is one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZATION_VERSION = "kustomize.config.k8s.io/v1beta1"
COMPONENT_VERSION = "kustomize.config.k8s.io/v1alpha1"

# How a field's value is decoded; "any" is checked by the code that reads it.
Shape = Literal["string", "list of strings", "list", "list of maps", "map of strings", "any"]
# How a field names files: "entries" are directories or files (resources), "files" are file paths
# (inline patches, containing a newline, excepted), "path" is each entry's `path:` key, "generator"
# each generator's files/envs/env.
Refs = Literal["", "entries", "files", "path", "generator"]


@dataclass(frozen=True)
class Field:
    name: str
    shape: Shape
    supported: bool = True
    refs: Refs = ""
    targets: bool = False  # entries may carry a `target:` selector (a patch)
    use_instead: str = ""  # deprecated: kustomize warns to use this field instead


FIELDS: tuple[Field, ...] = (
    Field("apiVersion", "string"),
    Field("kind", "string"),
    Field("metadata", "any"),
    Field("openapi", "map of strings", refs=""),
    Field("namePrefix", "string"),
    Field("nameSuffix", "string"),
    Field("namespace", "string"),
    Field("commonLabels", "map of strings", use_instead="labels"),
    Field("labels", "list of maps"),
    Field("commonAnnotations", "map of strings"),
    Field("patchesStrategicMerge", "list", refs="files", use_instead="patches"),
    Field("patchesJson6902", "list of maps", refs="path", targets=True, use_instead="patches"),
    Field("patches", "list of maps", refs="path", targets=True),
    Field("images", "list of maps"),
    Field("imageTags", "list of maps", use_instead="images"),
    Field("replacements", "list of maps", refs="path"),
    Field("replicas", "list of maps"),
    Field("vars", "list of maps"),
    Field("sortOptions", "any"),
    Field("resources", "list of strings", refs="entries"),
    Field("components", "list of strings", refs="entries"),
    Field("crds", "list of strings", refs="files"),
    Field("bases", "list of strings", refs="entries", use_instead="resources"),
    Field("configMapGenerator", "list of maps", refs="generator"),
    Field("secretGenerator", "list of maps", refs="generator"),
    Field("helmGlobals", "map of strings"),
    Field("helmCharts", "list of maps"),
    Field("helmChartInflationGenerator", "any", supported=False),
    Field("generatorOptions", "any"),
    Field("configurations", "list of strings", refs="files"),
    Field("generators", "list"),
    Field("transformers", "list"),
    Field("validators", "any", supported=False),
    Field("buildMetadata", "list of strings"),
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
SUPPORTED = frozenset(f.name for f in FIELDS if f.supported)
UNSUPPORTED = frozenset(f.name for f in FIELDS if not f.supported)
PATCH_FIELDS = tuple(f.name for f in FIELDS if f.targets)


def fields_naming(refs: Refs) -> tuple[str, ...]:
    """The fields that name files the way REFS says, in table order."""
    return tuple(f.name for f in FIELDS if f.refs == refs)


# kustomize's legacy output order: these kinds first, in this order, and these last.
ORDER_FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
