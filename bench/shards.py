#!/usr/bin/env python3
"""What `--shard I/N` buys: one run against N shards and their merge, on a synthetic fleet.

    .venv/bin/python bench/shards.py [--clusters 50 --apps 40 --apps-per-cluster 28] [--shards 4] [--keep]

Generates a fleet (bench/fleetgen.py), commits it, changes one base (so diff has work on many
clusters), then times, each as its own `gitops-gen` process: the unsharded `validate` and
`diff --format markdown`, every shard of each (one after the other: N runners side by side would
each take one shard's time), and the merges. Prints per command the one-run time, the slowest
shard (the wall time of an N-runner CI), the sum of the shards (the work, incl. what every shard
repeats: start-up, inventory, the split), the merge, and the shards' cluster counts; checks that
every merge prints exactly what the one run prints, and exits 1 if not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fleetgen  # noqa: E402

GITOPS_GEN = [sys.executable, "-m", "gitops_gen"]


def timed(args: list[str], cwd: Path, out: Path | None = None) -> tuple[float, str, int]:
    start = time.perf_counter()
    proc = subprocess.run([*GITOPS_GEN, *args], cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"gitops-gen {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    if out is not None:
        out.write_text(proc.stdout)
    return elapsed, proc.stdout, proc.returncode


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_fleet(root: Path, params: fleetgen.FleetParams) -> Path:
    repo = root / "repo"
    repo.mkdir()
    fleetgen.write_fleet(fleetgen.build_fleet(params), repo)
    git(repo, "init", "-q", "-b", "main")  # first: gitops-gen finds its fleet at the git top-level
    if timed(["generate"], repo)[2] != 0:
        sys.exit("gitops-gen generate failed")
    for key, value in (
        ("user.email", "bench@example.com"),
        ("user.name", "bench"),
        ("commit.gpgsign", "false"),
    ):
        git(repo, "config", key, value)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    # A base every cluster running the app renders differently: diff's work on many clusters.
    base = sorted(repo.glob("apps/*/base/kustomization.yaml"))[0]
    base.write_text(base.read_text() + "commonAnnotations:\n  bench.example.com/changed: 'yes'\n")
    return repo


def measure(
    repo: Path, shards_dir: Path, name: str, args: list[str], fmt: str, n: int
) -> tuple[list[str], bool]:
    one_time, one_out, one_rc = timed([*args, "--format", fmt], repo)
    out = shards_dir / name
    out.mkdir()
    times, counts = [], []
    for i in range(1, n + 1):
        path = out / f"{i}.json"
        seconds, text, _ = timed([*args, "--shard", f"{i}/{n}", "--format", "json"], repo, path)
        times.append(seconds)
        counts.append(str(len(json.loads(text)["clusters"])))
    merge_time, merged, merge_rc = timed([name, "--from-shards", str(out), "--format", fmt], repo)
    same = merged == one_out and merge_rc == one_rc
    row = [
        f"{name} --format {fmt}",
        f"{one_time:.2f}",
        f"{max(times):.2f}",
        f"{sum(times):.2f}",
        f"{merge_time:.2f}",
        f"{one_time / (max(times) + merge_time):.2f}x",
        "/".join(counts),
        "yes" if same else "NO",
    ]
    return row, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--apps-per-cluster", type=int, default=28)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the fleet and shard results")
    args = parser.parse_args(argv)
    params = fleetgen.FleetParams(
        clusters=args.clusters, apps=args.apps, apps_per_cluster=args.apps_per_cluster, seed=args.seed
    )
    root = Path(
        tempfile.mkdtemp(prefix="shards-", dir=BENCH / ".fleets" if (BENCH / ".fleets").is_dir() else None)
    )
    try:
        repo = make_fleet(root, params)
        shards_dir = root / "shards"
        shards_dir.mkdir()
        rows, ok = [], True
        for name, cmd, fmt in (
            ("validate", ["validate"], "text"),
            ("diff", ["diff", "--base", "HEAD"], "markdown"),
        ):
            row, same = measure(repo, shards_dir, name, cmd, fmt, args.shards)
            rows.append(row)
            ok = ok and same
        head = [
            "command",
            "one run s",
            "slowest shard s",
            "sum of shards s",
            "merge s",
            "speed-up",
            "clusters",
            "same",
        ]
        print(
            f"{args.clusters} clusters x {args.apps} apps ({args.apps_per_cluster} per cluster), {args.shards} shards"
        )
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        if args.keep:
            print(f"kept: {root}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
