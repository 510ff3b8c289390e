"""Import budget of the commands the pre-commit hook and scripts call most: a command imports only
what it uses (a behaviour test on sys.modules, not a timing test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("git", "jsonschema", "referencing", "ruamel.yaml", "kubernetes_validate", "gitops_gen.checks")

# Runs the CLI as `python -m gitops_gen ARGS...` would, then prints which watched modules got imported.
_PROBE = (
    "import atexit, json, runpy, sys\n"
    "watched = json.loads(sys.argv[1])\n"
    "sys.argv = ['gitops-gen', *sys.argv[2:]]\n"
    "atexit.register(lambda: print(json.dumps(sorted(m for m in watched if m in sys.modules)), file=sys.stderr))\n"
    "runpy.run_module('gitops_gen', run_name='__main__')\n"
)


def imported(watched: tuple[str, ...], *args: str) -> tuple[int, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(watched), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_version_imports_neither_yaml_nor_the_engine_nor_package_metadata() -> None:
    watched = (*HEAVY, "yaml", "importlib.metadata", "gitops_gen.kustomize", "gitops_gen.secrets")
    code, out, found = imported(watched, "--version")
    assert code == 0 and "0." in out
    assert found == []


def test_build_of_one_file_imports_no_heavy_library(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n")
    code, out, found = imported((*HEAVY, "gitops_gen.kustomize"), "build", str(tmp_path))
    assert code == 0 and "name: settings" in out
    assert found == ["gitops_gen.kustomize"]  # the watch works: the engine is there, nothing heavy


@pytest.mark.parametrize("args", [["--help"], ["render", "--help"], ["validate", "--help"]])
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    code, out, found = imported(HEAVY, *args)
    assert code == 0 and "Usage" in out
    assert found == []
