#!/usr/bin/env python3
"""What the applied view costs a fleet that uses neither post-build variables nor Helm.

    python bench/applied.py [--clusters 50] [--apps 40] [--rounds 3]

Generates the synthetic fleet (bench/fleetgen.py), then, side by side in one process and
alternating rounds, builds every cluster's mapping plainly (what `render` and `validate` did
before) and through the applied view (what `validate` and `diff` do now, and `render --applied`).
Each round uses fresh engines, so neither side profits from the other's caches. Prints the
best round of each and their ratio; the two outputs are checked to be the same objects.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops_gen.applied.view import applied_view  # noqa: E402
from gitops_gen.fleet.render import fleet_clusters  # noqa: E402
from gitops_gen.kustomize.build import Engine, ParseCache  # noqa: E402
from gitops_gen.repo.tree import DiskTree  # noqa: E402


def plain(repo: Path) -> tuple[float, list[object]]:
    tree = DiskTree(repo)
    engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
    start = time.perf_counter()
    out = [[r.obj for r in engine.build(f"mapping/{c}")] for c in fleet_clusters(tree)]
    return time.perf_counter() - start, out


def applied(repo: Path) -> tuple[float, list[object]]:
    tree = DiskTree(repo)
    engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
    start = time.perf_counter()
    out = [applied_view(tree, engine, c).objects for c in fleet_clusters(tree)]
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitops-gen-bench-") as tmp:
        repo = Path(tmp) / "fleet"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "fleetgen.py"),
                str(repo),
                "--clusters",
                str(args.clusters),
                "--apps",
                str(args.apps),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [sys.executable, "-m", "gitops_gen", "generate", "--repo", str(repo)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        best_plain = best_applied = float("inf")
        for i in range(args.rounds):
            # Alternate which side goes first, so warm-up and machine load fall on both.
            if i % 2:
                t_applied, b = applied(repo)
                t_plain, a = plain(repo)
            else:
                t_plain, a = plain(repo)
                t_applied, b = applied(repo)
            assert a == b, "the applied view of a fleet without vars or Helm must be the plain build"
            best_plain, best_applied = min(best_plain, t_plain), min(best_applied, t_applied)
    print(
        f"{args.clusters} clusters x {args.apps} apps, best of {args.rounds}: plain build {best_plain:.2f} s, "
        f"applied view {best_applied:.2f} s, ratio {best_applied / best_plain:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
