"""The builtin transformers against kubectl kustomize's output for small single-feature cases.

Each folder under tests/data/transformers/ is a kustomization (sometimes with base
directories) using one transformer feature, with ``expected.yaml`` or
``expected-error.txt`` written by ``regen.py`` from `kubectl kustomize`. The driver here
stands in for the build: it loads plain resource files, runs our transformers in
kustomize's order per kustomization, fixes name references at the top and sorts in
kustomize's legacy order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize import fieldspecs
from gitops_gen.kustomize.builtins import transformers
from gitops_gen.kustomize.builtins.nameref import fix_name_references
from gitops_gen.kustomize.resource import Origin, Resource

DATA = Path(__file__).parents[2] / "data" / "transformers"
CASES = sorted(p.parent.name for p in DATA.glob("*/kustomization.yaml"))


def load_kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(data, dict)
    return data


def build_dir(directory: Path) -> list[Resource]:
    """One kustomization: its resources (files and sub-kustomizations), then its transformers."""
    kust = load_kustomization(directory)
    ra: list[Resource] = []
    for entry in kust.get("resources", []):
        path = directory / entry
        if path.is_dir():
            ra.extend(build_dir(path))
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                ra.append(Resource(obj=doc, origin=Origin(str(path), "resource")))
    if kust.get("namespace"):
        transformers.apply_namespace(ra, kust["namespace"])
    if kust.get("namePrefix"):
        transformers.apply_name_affix(ra, prefix=kust["namePrefix"])
    if kust.get("nameSuffix"):
        transformers.apply_name_affix(ra, suffix=kust["nameSuffix"])
    for label in kust.get("labels", []):
        transformers.apply_labels(
            ra,
            label.get("pairs") or {},
            bool(label.get("includeSelectors")),
            bool(label.get("includeTemplates")),
            label.get("fields"),
        )
    if kust.get("commonLabels"):
        transformers.apply_labels(ra, kust["commonLabels"], True, True)
    if kust.get("commonAnnotations"):
        transformers.apply_annotations(ra, kust["commonAnnotations"])
    for entry in kust.get("replicas", []):
        transformers.apply_replicas(ra, entry["name"], entry["count"])
    for entry in kust.get("images", []):
        transformers.apply_image(ra, entry)
    return ra


def legacy_key(res: Resource) -> tuple[int, str, str]:
    group, version, kind = res.gvk()
    gvk = fieldspecs.Gvk(group, version, kind)
    return (
        fieldspecs.KIND_ORDER.get(kind, 0),
        gvk.sort_key()[1],
        f"{res.namespace or '~X'}|{res.name or '~N'}",
    )


def build(directory: Path) -> list[dict[str, Any]]:
    ra = build_dir(directory)
    fix_name_references(ra)
    return [r.obj for r in sorted(ra, key=legacy_key)]


def expected(directory: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((directory / "expected.yaml").read_text()) if d is not None]


# Error cases: a phrase kubectl's message and ours share.
ERROR_PHRASES = {
    "images_nonstring_error": "newTag",
    "images_scalar_container_error": "wrong node kind",
    "labels_nonstring_error": "string",
    "namespace_conflict_error": "namespace transformation produces ID conflict",
    "replicas_custom_kind_error": "resource with name llm-serve does not match a config with the following GVK "
    "[Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] "
    "ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]",
    "replicas_missing_error": "resource with name nope does not match",
}


def run_case(name: str) -> None:
    directory = DATA / name
    error_file = directory / "expected-error.txt"
    if error_file.exists():
        phrase = ERROR_PHRASES[name]
        assert phrase in error_file.read_text()
        with pytest.raises(GitopsGenError) as info:
            build(directory)
        assert phrase in info.value.message
        return
    got = build(directory)
    want = expected(directory)
    assert [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in got] == [
        (d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in want
    ]
    for g, w in zip(got, want, strict=True):
        assert g == w, f"{w['kind']}/{w['metadata']['name']} differs"


@pytest.mark.parametrize("name", [c for c in CASES if not c.startswith("nameref_")])
def test_case(name: str) -> None:
    run_case(name)


def test_enough_cases() -> None:
    assert len(CASES) >= 35
    assert all(
        (DATA / c / "expected.yaml").exists() or (DATA / c / "expected-error.txt").exists() for c in CASES
    )


# --------------------------------------------------------------------------------- focused unit tests
@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("triton", ("triton", "", "")),
        ("triton:24.05", ("triton", "24.05", "")),
        ("localhost:5000/triton", ("localhost:5000/triton", "", "")),
        ("localhost:5000/triton:1@sha256:ab", ("localhost:5000/triton", "1", "sha256:ab")),
        ("nvcr.io/nvidia/x@sha256:ab", ("nvcr.io/nvidia/x", "", "sha256:ab")),
    ],
)
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert transformers.split_image(image) == parts


@pytest.mark.parametrize(
    ("image", "name", "matches"),
    [
        ("nvcr.io/nvidia/pytorch:24.05-py3", "nvcr.io/nvidia/pytorch", True),
        ("nvcrXio/nvidia/pytorch:1", "nvcr.io/nvidia/pytorch", True),  # name is a regex, as in kustomize
        ("nvcr.io/nvidia/pytorch-lightning:1", "nvcr.io/nvidia/pytorch", False),
        ("busybox@sha256:abc", "busybox", True),
        ("busybox:1\n", "busybox", False),
        ("busybox", "busy(", False),
    ],
)
def test_image_matches(image: str, name: str, matches: bool) -> None:
    assert transformers.image_matches(image, name) is matches


def test_split_path_escapes() -> None:
    assert fieldspecs.split_path("/metadata/annotations/a.io\\/b") == ("metadata", "annotations", "a.io/b")


def test_walker_errors_on_scalar_midway() -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": "oops"}
    with pytest.raises(GitopsGenError, match="expected sequence or mapping node"):
        transformers.apply_labels([Resource(obj, Origin("x", "resource"))], {"a": "b"}, True, True)


def test_prefix_records_previous_ids_and_affixes() -> None:
    res = Resource(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, Origin("x", "resource")
    )
    transformers.apply_name_affix([res], prefix="a-", suffix="-z")
    transformers.apply_name_affix([res], prefix="b-")
    assert res.name == "b-a-cfg-z"
    assert [p.name for p in res.previous_ids()] == ["cfg", "a-cfg", "a-cfg-z"]
    assert transformers.name_prefixes(res) == ["a-", "b-"]
    assert transformers.name_suffixes(res) == ["-z"]


def test_image_entry_rejects_unknown_field() -> None:
    with pytest.raises(GitopsGenError, match="unknown field"):
        transformers.apply_image([], {"name": "x", "newTg": "1"})
