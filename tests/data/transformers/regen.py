"""Regenerate the expected outputs of the transformer cases with the oracle, `kubectl kustomize`.

Usage: python tests/data/transformers/regen.py [CASE ...]

Each case folder gets ``expected.yaml`` (kubectl's output) or, when kubectl refuses the
input, ``expected-error.txt`` (its error message). Never produced by our own code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def regen(case: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl not found: it is the oracle for these cases")
    proc = subprocess.run(
        [kubectl, "kustomize", str(case)], capture_output=True, text=True, check=False, timeout=120
    )
    out, err = case / "expected.yaml", case / "expected-error.txt"
    for stale in (out, err):
        stale.unlink(missing_ok=True)
    if proc.returncode == 0:
        out.write_text(proc.stdout)
        return "ok"
    err.write_text(error_message(proc.stderr) + "\n")
    return "error"


def error_message(stderr: str) -> str:
    """kubectl's error without its log prefix: the text of ``err="..."`` when present."""
    match = re.search(r'err="((?:[^"\\]|\\.)*)"', stderr)
    if match is not None:
        return match.group(1).encode().decode("unicode_escape")
    # klog prints multi-line errors as err=<, then tab-indented lines, then " >".
    block = re.search(r"err=<\n(.*?)\n >", stderr, re.S)
    if block is not None:
        return "\n".join(line.removeprefix("\t") for line in block.group(1).splitlines())
    return stderr.strip()


def main(argv: list[str]) -> None:
    cases = [HERE / name for name in argv] or sorted(p.parent for p in HERE.glob("*/kustomization.yaml"))
    for case in cases:
        print(f"{case.name}: {regen(case)}")


if __name__ == "__main__":
    main(sys.argv[1:])
