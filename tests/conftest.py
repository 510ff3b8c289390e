"""Shared fixtures. kubectl (with its embedded kustomize v5.5) is the oracle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

KUBECTL = shutil.which("kubectl")

requires_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not installed: the kustomize oracle is unavailable on this machine"
)


def kubectl_kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    """Run the oracle on DIR; callers must be marked ``requires_kubectl``."""
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
