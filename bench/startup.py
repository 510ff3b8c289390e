"""Start-up cost of small commands, side by side with kubectl and, with --before REV, with an older
gitops-gen in the same run: median wall time and CPU time of N runs each.

    python bench/startup.py [-n 15] [--before REV] [--clusters 200 --apps 60]

Measures `gitops-gen --version`, `gitops-gen build` of a one-file kustomization (against `kubectl
kustomize` of the same directory), and `gitops-gen validate FILE` for one zone-layer patch of a
fleetgen fleet (the pre-commit hook's call): cold (no validate cache in .git/) and warm (cache
filled by a full validate first). --before REV checks REV out into a temporary git worktree and runs
it from there (PYTHONPATH) with the same interpreter and inputs, alternating with the current tree
run by run, so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleetgen  # noqa: E402

CACHE = Path(".git/gitops-gen/validate-demand.marshal")


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start, children_cpu() - cpu


def env_for(source: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if source is not None:  # the older tree first on the path: its package wins over this one
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(source), env.get("PYTHONPATH")) if p)
    return env


def make_fleet(work: Path, clusters: int, apps: int) -> Path:
    """A fleetgen fleet, generated."""
    repo = work / "fleet"
    fleetgen.write_fleet(fleetgen.build_fleet(fleetgen.FleetParams(clusters=clusters, apps=apps)), repo)
    subprocess.run(
        [sys.executable, "-m", "gitops_gen", "generate", "--repo", str(repo)], check=True, capture_output=True
    )
    return repo


def commit(repo: Path) -> None:
    """validate keeps its cache under .git/, so a pre-commit hook runs in a git work tree."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "gc.auto=0"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "fleet"], cwd=repo, check=True)


def main() -> int:
    # Time gitops-gen as an installed copy runs, with its bytecode cached: a shell that sets
    # PYTHONDONTWRITEBYTECODE makes every command compile its modules again (about 0.2 s).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--before", metavar="REV", help="also run gitops-gen at REV (a git revision)")
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--apps", type=int, default=60)
    args = parser.parse_args()
    gg = [sys.executable, "-m", "gitops_gen"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources: dict[str, Path | None] = {"now": None}
        if args.before:
            old = work / "before"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.before],
                check=True,
                capture_output=True,
            )
            sources = {"before": old, "now": None}
        try:
            return run(args, gg, work, sources)
        finally:
            if args.before:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(work / "before")],
                    check=False,
                    capture_output=True,
                )


def run(args: argparse.Namespace, gg: list[str], work: Path, sources: dict[str, Path | None]) -> int:
    one = work / "one"
    one.mkdir()
    (one / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (one / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n")
    repo = make_fleet(work, args.clusters, args.apps)
    rel = sorted(repo.glob("apps/*/zone/*/deployment-patch.yaml"))[0].relative_to(repo)
    # One copy of the fleet per version: each keeps its own validate cache (formats may differ).
    repos = {name: Path(shutil.copytree(repo, work / f"fleet-{name}", symlinks=True)) for name in sources}
    for copy in repos.values():
        commit(copy)

    def validate(name: str) -> list[str]:
        return [*gg, "validate", "--repo", str(repos[name]), str(repos[name] / rel)]

    def cold(name: str) -> None:
        (repos[name] / CACHE).unlink(missing_ok=True)

    def warm(name: str) -> None:
        if not (repos[name] / CACHE).is_file():
            full = [*gg, "validate", "--repo", str(repos[name])]
            subprocess.run(full, env=env_for(sources[name]), capture_output=True, check=False)

    cases: list[tuple[str, Callable[[str], list[str]], int, Callable[[str], None] | None]] = [
        ("gitops-gen --version", lambda _: [*gg, "--version"], args.runs, None),
        ("gitops-gen build (one file)", lambda _: [*gg, "build", str(one)], args.runs, None),
        (f"validate {rel} (cold: no cache)", validate, max(3, args.runs // 3), cold),
        (f"validate {rel} (warm)", validate, max(3, args.runs // 3), warm),
    ]
    names = list(sources)
    print(f"fleet: {args.clusters} clusters x {args.apps} apps; median of N runs, wall / CPU")
    header = "".join(f"{name:>26}" for name in names)
    print(f"{'':58}{header}{'  CPU now/before' if len(names) > 1 else ''}")
    for label, command, runs, prepare in cases:
        results: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for _ in range(runs):
            for name in names:
                if prepare is not None:
                    prepare(name)
                results[name].append(timed(command(name), work, env_for(sources[name])))
        row = ""
        cpus = {}
        for name in names:
            wall = statistics.median(w for w, _ in results[name])
            cpu = cpus[name] = statistics.median(c for _, c in results[name])
            row += f"{wall * 1000:11.0f} ms /{cpu * 1000:7.0f} ms"
        ratio = f"  {cpus['now'] / cpus['before']:.2f}" if len(names) > 1 and cpus["before"] else ""
        print(f"{label:58}{row}{ratio}")
    kubectl = shutil.which("kubectl")
    if kubectl:
        walls = [timed([kubectl, "kustomize", str(one)], ROOT, dict(os.environ)) for _ in range(args.runs)]
        wall = statistics.median(w for w, _ in walls)
        cpu = statistics.median(c for _, c in walls)
        print(f"{'kubectl kustomize (one file)':58}{wall * 1000:11.0f} ms /{cpu * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
