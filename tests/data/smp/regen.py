"""Regenerate expected.yaml of every strategic-merge case with the oracle.

For each ``<case>/`` holding ``base.yaml`` and ``patch.yaml`` this builds a
throw-away kustomization (the base as its only resource, the patch under
``patches: - path: patch.yaml``), runs ``kubectl kustomize`` and stores its
stdout in ``expected.yaml``. When kubectl fails, its stderr goes to
``expected.error`` instead (the case then asserts that we fail too).

    .venv/bin/python tests/data/smp/regen.py [CASE ...]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
# kubectl's log header (level, date, time, pid, source) changes on every run.
KLOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ", re.MULTILINE)
KUSTOMIZATION = "resources:\n- base.yaml\npatches:\n- path: patch.yaml\n"


def run_oracle(base: str, patch: str) -> subprocess.CompletedProcess[str]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        sys.exit("kubectl not found: it is the oracle")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "base.yaml").write_text(base, encoding="utf-8")
        (root / "patch.yaml").write_text(patch, encoding="utf-8")
        (root / "kustomization.yaml").write_text(KUSTOMIZATION, encoding="utf-8")
        return subprocess.run(
            [kubectl, "kustomize", str(root)], capture_output=True, text=True, check=False, timeout=120
        )


def regen_case(case: Path) -> None:
    proc = run_oracle(
        (case / "base.yaml").read_text(encoding="utf-8"), (case / "patch.yaml").read_text(encoding="utf-8")
    )
    for name in ("expected.yaml", "expected.error"):
        (case / name).unlink(missing_ok=True)
    if proc.returncode == 0:
        (case / "expected.yaml").write_text(proc.stdout, encoding="utf-8")
    else:
        (case / "expected.error").write_text(KLOG_PREFIX.sub("", proc.stderr), encoding="utf-8")
    print(f"{case.name}: {'ok' if proc.returncode == 0 else 'error'}")


def main(names: list[str]) -> None:
    cases = [HERE / n for n in names] if names else sorted(p.parent for p in HERE.glob("*/patch.yaml"))
    for case in cases:
        regen_case(case)


if __name__ == "__main__":
    main(sys.argv[1:])
