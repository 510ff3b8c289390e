"""Start-up cost of small commands, side by side with kubectl: median wall time of N runs each.

    python bench/startup.py [-n 15]

Measures `gitops-gen --version`, `gitops-gen build` of a one-file kustomization against
`kubectl kustomize` of the same directory, and `gitops-gen validate FILE` in this repository
(the pre-commit hook's call); prints the median of each and the build ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_time(cmd: list[str], runs: int, cwd: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--runs", type=int, default=15)
    args = parser.parse_args()
    gg = [sys.executable, "-m", "gitops_gen"]
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp)
        (one / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
        (one / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n")
        rows = [("gitops-gen --version", median_time([*gg, "--version"], args.runs, ROOT))]
        build = median_time([*gg, "build", str(one)], args.runs, ROOT)
        rows.append(("gitops-gen build (one file)", build))
        kubectl = shutil.which("kubectl")
        if kubectl:
            rows.append(
                (
                    "kubectl kustomize (one file)",
                    median_time([kubectl, "kustomize", str(one)], args.runs, ROOT),
                )
            )
        patch = sorted(ROOT.glob("apps/*/env/*/*.yaml"))
        if patch:
            rows.append(
                (
                    f"gitops-gen validate {patch[0].relative_to(ROOT)}",
                    median_time([*gg, "validate", str(patch[0])], max(3, args.runs // 3), ROOT),
                )
            )
    for label, seconds in rows:
        print(f"{label:55} {seconds * 1000:7.0f} ms")
    if kubectl:
        print(f"build / kubectl: {build / rows[2][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
