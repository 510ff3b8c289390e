"""Differential test of the whole engine: random strategic-merge patches on a GPU Deployment,
`gitops-gen build` against `kubectl kustomize`, byte for byte (a bounded number of examples)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from gitops_gen.cli import main
from tests.conftest import kubectl_kustomize, requires_kubectl
from tests.kustomize.test_smp_differential import BASE_TEXT, deployment_patch


@requires_kubectl
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deployment_patch())
def test_build_matches_kubectl_byte_for_byte(patch: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "case"
        root.mkdir()
        (root / "base.yaml").write_text(BASE_TEXT, encoding="utf-8")
        (root / "patch.yaml").write_text(yaml.safe_dump(patch, sort_keys=False), encoding="utf-8")
        (root / "kustomization.yaml").write_text(
            "resources:\n- base.yaml\npatches:\n- path: patch.yaml\nnamePrefix: prod-\n"
            "images:\n- name: nvcr.io/nvidia/tritonserver\n  newTag: 24.09-py3\n",
            encoding="utf-8",
        )
        proc = kubectl_kustomize(root)
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            result = CliRunner().invoke(main, ["build", "case"])
        finally:
            os.chdir(cwd)
    if proc.returncode != 0:
        assert result.exit_code == 1, f"kubectl failed but we did not:\n{proc.stderr}"
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
        return
    assert result.exit_code == 0, result.stderr
    assert result.stdout == proc.stdout
