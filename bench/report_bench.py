#!/usr/bin/env python3
"""What `gitops-gen report` costs next to `gitops-gen render` on the same synthetic fleet, side by side.

    python bench/report_bench.py [--clusters 200] [--apps 60] [--repeat 3] [--seed 1] [--keep]

Writes the fleet with fleetgen.py, runs `generate`, then alternates, REPEAT times: `render --out`
(-j 1, the report's single process, and the default parallel render), `report --format json`,
`report --format html`, `report --format text`. Prints the best wall and CPU time of each and the
report / render ratios. Serial render is the fair comparison: the report runs in one process.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fleetgen  # noqa: E402
from run import Run, gitops_gen, measure  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--apps", type=int, default=60)
    parser.add_argument("--apps-per-cluster", type=int, default=28)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the fleet in bench/.fleets/")
    args = parser.parse_args(argv)
    (BENCH / ".fleets").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="report-", dir=BENCH / ".fleets"))
    repo = work / "repo"
    params = fleetgen.FleetParams(
        clusters=args.clusters, apps=args.apps, apps_per_cluster=args.apps_per_cluster, seed=args.seed
    )
    for rel, text in fleetgen.build_fleet(params).items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    cli = gitops_gen()
    generated = measure("generate", [*cli, "generate", "--repo", str(repo)], work)
    if not generated.ok:
        print(generated.stderr, file=sys.stderr)
        return 1
    commands = {
        "render -j 1": [*cli, "render", "--repo", str(repo), "--out", str(work / "render"), "-j", "1"],
        "render (parallel)": [*cli, "render", "--repo", str(repo), "--out", str(work / "render")],
        "report --format json": [
            *cli,
            "report",
            "--repo",
            str(repo),
            "--format",
            "json",
            "--out",
            str(work / "r.json"),
        ],
        "report --format html": [
            *cli,
            "report",
            "--repo",
            str(repo),
            "--format",
            "html",
            "--out",
            str(work / "r.html"),
        ],
        "report --format text": [*cli, "report", "--repo", str(repo), "--out", str(work / "r.txt")],
    }
    best: dict[str, Run] = {}
    for _ in range(args.repeat):
        for label, cmd in commands.items():
            run = measure(label, cmd, work)
            if not run.ok:
                print(f"{label} failed:\n{run.stderr}", file=sys.stderr)
                return 1
            if label not in best or run.seconds < best[label].seconds:
                best[label] = run
    print(
        f"fleet: {args.clusters} clusters x {args.apps} apps ({args.apps_per_cluster} per cluster), seed "
        f"{args.seed}; best of {args.repeat}"
    )
    serial = best["render -j 1"]
    for label, run in best.items():
        ratio = (
            f"  {run.seconds / serial.seconds:.2f}x wall, {run.cpu_seconds / serial.cpu_seconds:.2f}x CPU of "
            "render -j 1"
            if label.startswith("report")
            else ""
        )
        print(
            f"{label:22} {run.seconds:6.2f} s wall, {run.cpu_seconds:6.2f} s CPU, "
            f"{run.maxrss_kb // 1024:4d} MiB{ratio}"
        )
    html = work / "r.html"
    print(f"html page: {html.stat().st_size / 1e6:.2f} MB")
    if args.keep:
        print(f"kept in {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
