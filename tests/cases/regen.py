"""Regenerate every case's expectation from the oracle, `kubectl kustomize`.

Usage: python tests/cases/regen.py [CASE ...]   (no names: every case)

A case is a folder under tests/cases/ holding kustomization.yaml. When kubectl
succeeds its stdout becomes expected.yaml; when it fails its stderr becomes
expected-error.txt (for reference: the harness only checks that we fail too).
kubectl runs from this directory with the case's relative name, so paths in
error messages do not depend on where the checkout lives. Our own engine is
never used here. Nothing is written outside the case folders, and a file is
only rewritten when its content changes, so a second run touches nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent
# kubectl logs failures through klog: `E1122 06:19:38.297043    9772 run.go:72] "command failed" err=...`;
# the time and pid would make every run differ, so that prefix is dropped.
KLOG_PREFIX = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+:\d+\] ", re.MULTILINE)
# Some messages print Go pointers (`&{0xc000771a00 <nil>}`), which change on every run.
GO_POINTER = re.compile(r"\b0xc[0-9a-f]{6,}\b")


def case_dirs(names: list[str]) -> list[Path]:
    if not names:
        return sorted(p for p in CASES_DIR.iterdir() if (p / "kustomization.yaml").is_file())
    dirs = [CASES_DIR / Path(n).name for n in names]
    missing = [d.name for d in dirs if not (d / "kustomization.yaml").is_file()]
    if missing:
        raise SystemExit(f"regen: no such case: {', '.join(missing)}")
    return dirs


def run_kubectl(kubectl: str, case: Path) -> subprocess.CompletedProcess[str]:
    # The absolute cases path is replaced so stderr is stable across checkouts:
    # kustomize prints absolute paths in some messages (load restrictor, cycles).
    proc = subprocess.run(
        [kubectl, "kustomize", case.name],
        cwd=CASES_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    stderr = proc.stderr.replace(str(CASES_DIR) + "/", "tests/cases/")
    proc.stderr = GO_POINTER.sub("0xPOINTER", KLOG_PREFIX.sub("", stderr))
    return proc


def write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def remove_if_present(path: Path) -> bool:
    if path.exists():
        path.unlink()
        return True
    return False


def regen_case(kubectl: str, case: Path) -> str:
    proc = run_kubectl(kubectl, case)
    ok = proc.returncode == 0
    changed = False
    if ok:
        changed |= write_if_changed(case / "expected.yaml", proc.stdout)
        changed |= remove_if_present(case / "expected-error.txt")
    else:
        changed |= write_if_changed(case / "expected-error.txt", proc.stderr)
        changed |= remove_if_present(case / "expected.yaml")
    status = "ok   " if ok else "error"
    return f"{status} {'changed' if changed else 'same   '} {case.name}"


def main(argv: list[str]) -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("regen: kubectl not found on PATH (it is the oracle)", file=sys.stderr)
        return 2
    for case in case_dirs(argv):
        print(regen_case(kubectl, case))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
