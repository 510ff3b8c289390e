"""How render and validate scale with the fleet: 200 x 60 and 500 x 80 side by side in one run.

    python bench/scale.py [--fleet 200x60 --fleet 500x80] [--keep DIR]

For each fleet (bench/fleetgen.py, 28 apps per cluster, seed 1; generated and committed to a fresh
git repository, as a pre-commit hook sees it) it times, each in a fresh process: `render --out`
(default -j), `render -j 1`, a full `validate` (no cache yet: it fills the cache), a second full
`validate` (cache filled), and `validate FILE` for one zone-layer patch (warm), and prints wall
time, CPU time (user + sys, workers included), peak RSS (the largest single process: ru_maxrss)
and CPU per cluster, so linear scaling shows as a flat last column.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fleetgen  # noqa: E402

# A fresh wrapper per command, so RUSAGE_CHILDREN sees only that command (and its workers).
_MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "wall = time.perf_counter() - t\n"
    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'rc': rc, 'wall': wall, 'cpu': ru.ru_utime + ru.ru_stime, 'rss_kb': ru.ru_maxrss}))\n"
)


def measure(cmd: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, "-", *cmd], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def make_fleet(work: Path, clusters: int, apps: int) -> tuple[Path, Path]:
    repo = work / f"fleet-{clusters}x{apps}"
    fleetgen.write_fleet(fleetgen.build_fleet(fleetgen.FleetParams(clusters=clusters, apps=apps)), repo)
    subprocess.run([*GG, "generate", "--repo", str(repo)], check=True, capture_output=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "gc.auto=0"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "fleet"], cwd=repo, check=True)
    return repo, sorted(repo.glob("apps/*/zone/*/deployment-patch.yaml"))[0]


GG = [sys.executable, "-m", "gitops_gen"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--fleet", action="append", metavar="CxA", help="clusters x apps (default 200x60, 500x80)"
    )
    parser.add_argument("--keep", type=Path, help="build the fleets here and keep them")
    args = parser.parse_args()
    fleets = [tuple(map(int, f.lower().split("x"))) for f in args.fleet or ["200x60", "500x80"]]
    work = args.keep or Path(
        tempfile.mkdtemp(prefix="scale-", dir=BENCH / ".fleets" if (BENCH / ".fleets").is_dir() else None)
    )
    work.mkdir(parents=True, exist_ok=True)
    failed = False
    try:
        print(f"{'fleet':9} {'command':32} {'wall':>9} {'CPU':>9} {'peak RSS':>9} {'CPU/cluster':>12}")
        for clusters, apps in fleets:
            repo, patch = make_fleet(work, clusters, apps)
            out = work / f"render-{clusters}x{apps}"
            steps = [
                ("render --out (default -j)", [*GG, "render", "--repo", str(repo), "--out", str(out)]),
                ("render -j 1 --out", [*GG, "render", "--repo", str(repo), "--out", str(out), "-j", "1"]),
                ("validate (cold: fills the cache)", [*GG, "validate", "--repo", str(repo)]),
                ("validate (cache filled)", [*GG, "validate", "--repo", str(repo)]),
                ("validate FILE (warm)", [*GG, "validate", "--repo", str(repo), str(patch)]),
            ]
            for label, cmd in steps:
                r = measure(cmd)
                if r["rc"] not in (0, 1):
                    failed = True
                per = r["cpu"] / clusters * 1000
                print(
                    f"{clusters}x{apps:<5} {label:32} {r['wall']:8.2f}s {r['cpu']:8.2f}s "
                    f"{r['rss_kb'] / 1024:7.0f}MiB {per:9.1f} ms"
                    + ("" if r["rc"] in (0, 1) else f"  (exit {r['rc']:.0f})"),
                    flush=True,
                )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
