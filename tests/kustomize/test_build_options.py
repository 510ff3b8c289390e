"""Build-wide options (a custom openapi schema, buildMetadata) stay inside the build that asks for them.

A fleet render builds many directories with one engine: the expected outputs are the kubectl
recordings of tests/cases, built here one after the other by one engine, in both orders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.build import Engine
from gitops_gen.repo.tree import DiskTree

CASES_DIR = Path(__file__).parents[1] / "cases"
SPECIAL = [
    "openapi-custom-schema",
    "build-metadata-origin-annotations",
    "openapi-custom-schema-yaml-base-ignored",
]
PLAIN = ["openapi-version-builtin", "chain-with-components", "transformers-builtin-plugins"]


@pytest.mark.parametrize("order", ["special-first", "plain-first"])
def test_one_engine_builds_each_case_as_kubectl_did(order: str) -> None:
    names = SPECIAL + PLAIN if order == "special-first" else PLAIN + SPECIAL
    engine = Engine(DiskTree(CASES_DIR), warnings=False)
    for name in [*names, *names]:  # twice: cached results must not carry one build's options into another
        assert engine.render(name) == (CASES_DIR / name / "expected.yaml").read_text(), name


def test_openapi_path_below_the_built_kustomization_is_refused(tmp_path: Path) -> None:
    """kustomize applies a base's schema or not depending on what it merged before: no single answer."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    (tmp_path / "base" / "schema.json").write_text('{"definitions": {}}\n')
    (tmp_path / "base" / "kustomization.yaml").write_text(
        "resources:\n- cm.yaml\nopenapi:\n  path: schema.json\n"
    )
    (tmp_path / "kustomization.yaml").write_text("resources:\n- base\n")
    with pytest.raises(GitopsGenError) as err:
        Engine(DiskTree(tmp_path), warnings=False).build("")
    assert err.value.message.startswith("not supported: openapi in base/kustomization.yaml")
    assert err.value.path == "base/kustomization.yaml"
    # Built on its own, the base is the kustomization built: its schema applies.
    assert Engine(DiskTree(tmp_path), warnings=False).build("base")[0].name == "a"
