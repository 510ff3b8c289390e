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


# The CLI in a new interpreter, with module attributes set first and functions wrapped to say on stderr
# that they ran. Worker processes are forked only by a process that never loaded the helm SDK (its Go
# runtime threads make a fork unsafe: ``workers.fork_safe``), which a test session has long done, so
# the parallel paths are tested here.
_FRESH = """
import importlib, json, sys
config = json.loads(sys.argv[1])
for target, value in config["set"].items():
    module, attr = target.split(":")
    setattr(importlib.import_module(module), attr, value)
for target in config["spy"]:
    module, attr = target.split(":")
    owner = importlib.import_module(module)
    def spy(*args, _real=getattr(owner, attr), _name=target, **kwargs):
        print("ran " + _name, file=sys.stderr)
        return _real(*args, **kwargs)
    setattr(owner, attr, spy)
from gitops_gen.cli import main
sys.argv = ["gitops-gen", *sys.argv[2:]]
main()
"""


def fresh_cli(
    *args: str, set_attrs: dict[str, object] | None = None, spy: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `gitops-gen ARGS` in a new interpreter. SET_ATTRS: {"module:attr":
    value} set before the command runs; SPY: "module:function" names that print "ran <name>" when called."""
    import json
    import sys

    config = json.dumps({"set": set_attrs or {}, "spy": list(spy)})
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, config, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=Path(__file__).parents[1],
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr
