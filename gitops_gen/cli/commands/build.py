"""`gitops-gen build DIRECTORY`."""

from __future__ import annotations

import sys
from pathlib import Path

from gitops_gen.cli.commands import warn
from gitops_gen.fleet.render import build_directory


def build(directory: Path, engine: str) -> int:
    """Print what `kustomize build DIRECTORY` prints."""
    sys.stdout.write(build_directory(directory, engine, on_warning=warn))
    return 0
