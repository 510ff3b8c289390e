"""Regenerate the oracle outputs of the generator cases with `kubectl kustomize` (never our code).

For every case folder: `expected.yaml` when kubectl succeeds, else `expected_error.txt`
holding kubectl's error (error cases also carry a hand-written `expect_error`: a phrase our
own message must contain). Run from anywhere: python tests/data/generators/regen.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# klog prefixes errors with a timestamp and pid; drop them so reruns do not churn the files.
KLOG_PREFIX = re.compile(r"^E\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ", re.MULTILINE)
GO_POINTER = re.compile(r"&\{0x[0-9a-f]+ <nil>\}")


def regen(case: Path, kubectl: str) -> str:
    proc = subprocess.run(
        [kubectl, "kustomize", str(case)], capture_output=True, text=True, check=False, timeout=120
    )
    for name in ("expected.yaml", "expected_error.txt"):
        (case / name).unlink(missing_ok=True)
    if proc.returncode == 0:
        (case / "expected.yaml").write_text(proc.stdout)
        return "ok"
    message = GO_POINTER.sub("&{...}", KLOG_PREFIX.sub("", proc.stderr)).replace(str(case), "<case>")
    (case / "expected_error.txt").write_text(message)
    return "error"


def main() -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl not found: it is the oracle for these files", file=sys.stderr)
        return 1
    wanted = set(sys.argv[1:])
    for case in sorted(p for p in HERE.iterdir() if p.is_dir() and (p / "kustomization.yaml").exists()):
        if wanted and case.name not in wanted:
            continue
        print(f"{case.name}: {regen(case, kubectl)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
