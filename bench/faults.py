#!/usr/bin/env python3
"""The slow half of the fault harness: kill -9, signals, concurrent runs and a full disk on a synthetic fleet.

    python bench/faults.py [--clusters 100] [--apps 16] [--trials 6] [--seed 1] [--family NAME]...

Builds a fleet with bench/fleetgen.py, generates and commits it, then for each family runs the CLI
(a subprocess, as a user would) and hurts it:

- kill-*: SIGKILL at a random moment of generate, commit, an authoring command and render --out;
- term-*/hup-*: SIGTERM and SIGHUP at a random moment of generate;
- concurrent-*: two generates, two authoring commands, two render --out into one directory, and
  commit while another process keeps editing an input file, all at the same time;
- full-disk: generate on a small tmpfs filled to a random level (needs root and mount namespaces).

After each trial it checks the contract: no traceback or exit 3 (crash), every file either as it
was or as a complete run leaves it (torn), no temp files or locks left (leftovers), and a next run
of the same command succeeding and giving the complete run's files (blocked) and removing what the
killed run left (stuck: leftovers still there after it). A kill -9 cannot clean up after itself, so
leftovers right after one (temp files, the lock) count only if the next run does not remove them. The whole run happens
in a network namespace where one can be made (``--no-netns`` to skip). Figures go to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.harness import (  # noqa: E402
    Entry,
    Outcome,
    cli,
    cli_env,
    command,
    commit_all,
    init_repo,
    is_crash,
    leftovers,
    snapshot,
    unlock_tree,
)

Snap = dict[str, Entry]


@dataclass
class Tally:
    tried: int = 0
    hit: int = 0  # the signal arrived while the command still ran
    clean: int = 0
    crashes: int = 0
    torn: int = 0
    leftovers: int = 0
    blocked: int = 0
    stuck: int = 0  # leftovers still there after the next run
    notes: list[str] = field(default_factory=list)

    def record(self, problems: dict[str, str]) -> None:
        """Count one trial; a kind ending in "_soft" is counted but does not make the trial unclean."""
        self.tried += 1
        if not [k for k in problems if not k.endswith("_soft")]:
            self.clean += 1
        for kind, detail in problems.items():
            kind = kind.removesuffix("_soft")
            setattr(self, kind, getattr(self, kind) + 1)
            if len(self.notes) < 3:
                self.notes.append(f"{kind}: {detail[:160]}")


def worktree(snap: Snap) -> Snap:
    return {p: e for p, e in snap.items() if p != ".git" and not p.startswith(".git/")}


def torn(before: Snap, after: Snap, complete: Snap) -> list[str]:
    """Paths that are neither as they were nor as a complete run leaves them (temp files aside)."""
    bad = []
    for path in sorted(worktree(before).keys() | worktree(after).keys() | worktree(complete).keys()):
        now = after.get(path)
        if now is not None and path in leftovers({}, {path: now}):
            continue
        if now != before.get(path) and now != complete.get(path):
            bad.append(path)
    return bad


# ---------------------------------------------------------------- fleets


def make_fleet(dest: Path, clusters: int, apps: int, seed: int) -> Path:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "fleetgen.py"),
            str(dest),
            "--clusters",
            str(clusters),
            "--apps",
            str(apps),
            "--apps-per-cluster",
            str(max(1, apps // 2)),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
    )
    init_repo(dest)
    done = cli(["generate"], dest)
    if done.code != 0:
        raise SystemExit(f"faults: generate failed on the synthetic fleet: {done.err.strip()[-300:]}")
    commit_all(dest)
    return dest


def copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def make_stale(repo: Path) -> None:
    for path in sorted(repo.glob("mapping/*/kustomization.yaml")) + sorted(
        repo.glob("apps/*/overlays/*/*.yaml")
    ):
        path.write_text(path.read_text() + "# stale\n")


def first_app(repo: Path) -> str:
    return sorted(p.name for p in (repo / "apps").iterdir() if (p / "base").is_dir())[0]


def first_image(repo: Path) -> str:
    """The first image name of the first app's base, to set a new tag on."""
    for path in sorted((repo / "apps" / first_app(repo) / "base").glob("*.yaml")):
        for line in path.read_text().splitlines():
            if line.strip().startswith("image:"):
                return line.split(":", 1)[1].strip().rsplit(":", 1)[0]
    raise SystemExit("faults: the synthetic fleet's first app has no image")


def stage_edit(repo: Path) -> None:
    patch = sorted(repo.glob("apps/*/zone/*/*.yaml"))[0]
    patch.write_text(patch.read_text() + "# edited\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)


@dataclass(frozen=True)
class Family:
    name: str
    argv: Callable[[Path, Path], list[str]]  # (repo, scratch) -> arguments
    prepare: Callable[[Path], None] = lambda repo: None
    sig: int = signal.SIGKILL


def families() -> list[Family]:
    def gen(repo: Path, scratch: Path) -> list[str]:
        return ["generate"]

    def authoring(repo: Path, scratch: Path) -> list[str]:
        return ["set", "image", first_app(repo), f"{first_image(repo)}:9.9.9"]

    def render(repo: Path, scratch: Path) -> list[str]:
        return ["render", "--out", str(scratch / "out"), "-j", "1"]

    def commit(repo: Path, scratch: Path) -> list[str]:
        return ["commit", "-m", "faults"]

    return [
        Family("kill-generate", gen, make_stale),
        Family("kill-commit", commit, lambda r: (make_stale(r), stage_edit(r))),
        Family("kill-authoring", authoring),
        Family("kill-render", render),
        Family("term-generate", gen, make_stale, signal.SIGTERM),
        Family("hup-generate", gen, make_stale, signal.SIGHUP),
        Family("int-generate", gen, make_stale, signal.SIGINT),
    ]


# ---------------------------------------------------------------- trials


def timed(argv: list[str], repo: Path) -> tuple[Outcome, float]:
    start = time.monotonic()
    outcome = cli(argv, repo)
    return outcome, time.monotonic() - start


def signal_trials(fam: Family, fleet: Path, work: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    prepared = work / f"{fam.name}-prepared"
    copy(fleet, prepared)
    fam.prepare(prepared)
    ref = copy(prepared, work / f"{fam.name}-ref")
    done, took = timed(fam.argv(ref, work / f"{fam.name}-ref-scratch"), ref)
    if done.code != 0:
        tally.notes.append(f"reference run failed: {done.err.strip()[-200:]}")
        return tally
    complete = snapshot(ref)
    complete_out = snapshot(work / f"{fam.name}-ref-scratch" / "out")
    for i in range(trials):
        repo = copy(prepared, work / f"{fam.name}-{i}")
        scratch = work / f"{fam.name}-{i}-scratch"
        scratch.mkdir()
        before, before_out = snapshot(repo), snapshot(scratch / "out")
        proc = subprocess.Popen(
            command(fam.argv(repo, scratch)),
            cwd=repo,
            env=cli_env(repo),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        # Most of a run is reading and planning; aim at its second half, where the writes happen.
        time.sleep(took * rng.uniform(0.3, 0.95))
        if proc.poll() is None:
            tally.hit += 1
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, fam.sig)
        out, err = proc.communicate()
        time.sleep(0.2)  # children (git) of a killed process finish on their own
        outcome = Outcome(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        problems = judge_trial(
            outcome,
            fam.sig,
            before,
            snapshot(repo),
            complete,
            before_out,
            snapshot(scratch / "out"),
            complete_out,
        )
        again = cli(fam.argv(repo, scratch), repo)
        if again.code != 0 or (worktree(snapshot(repo)) != worktree(complete) and fam.name != "kill-commit"):
            problems.setdefault("blocked", f"next run exit {again.code}: {again.err.strip()[-200:]}")
        tally.record(problems)
        shutil.rmtree(repo, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return tally


def judge_trial(
    outcome: Outcome,
    sig: int,
    before: Snap,
    after: Snap,
    complete: Snap,
    before_out: Snap,
    after_out: Snap,
    complete_out: Snap,
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if sig == signal.SIGKILL:
        crashed = "Traceback (most recent call last)" in outcome.text
    else:
        crashed = is_crash(outcome) and outcome.code not in (-sig, 128 + sig, 130)
        crashed = crashed or "Traceback (most recent call last)" in outcome.text
    if crashed:
        problems["crashes"] = f"exit {outcome.code}: {outcome.err.strip()[-200:]}"
    bad = torn(before, after, complete) + [f"out/{p}" for p in torn(before_out, after_out, complete_out)]
    if bad:
        problems["torn"] = ", ".join(bad[:3])
    left = leftovers(before, after) + leftovers(before_out, after_out)
    if left:
        # A kill -9 cannot clean up: what it leaves counts against the next run (stuck) instead.
        problems["leftovers_soft" if sig == signal.SIGKILL else "leftovers"] = (
            f"{len(left)}: {', '.join(left[:2])}"
        )
    return problems


def concurrent_trials(fleet: Path, work: Path, trials: int, rng: random.Random) -> dict[str, Tally]:
    results: dict[str, Tally] = {}
    app = first_app(fleet)
    pairs: dict[str, tuple[Callable[[Path], None], list[str], list[str]]] = {
        "concurrent-generate": (make_stale, ["generate"], ["generate"]),
        "concurrent-authoring": (
            lambda r: None,
            ["set", "image", app, f"{first_image(fleet)}:1.0.0"],
            ["disable", app, "--where", "env=dev"],
        ),
        "concurrent-render": (
            lambda r: None,
            ["render", "--out", "{scratch}/out", "-j", "1"],
            ["render", "--out", "{scratch}/out", "-j", "1"],
        ),
    }
    for name, (prepare, first, second) in pairs.items():
        tally = results[name] = Tally()
        for i in range(trials):
            repo = copy(fleet, work / f"{name}-{i}")
            scratch = work / f"{name}-{i}-scratch"
            scratch.mkdir()
            prepare(repo)
            before = snapshot(repo)
            procs = []
            for argv in (first, second):
                args = [a.replace("{scratch}", str(scratch)) for a in argv]
                procs.append(
                    subprocess.Popen(
                        command(args),
                        cwd=repo,
                        env=cli_env(repo),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                    )
                )
                time.sleep(rng.uniform(0, 0.3))
            outcomes = [
                Outcome(
                    p.wait(),
                    p.stdout.read().decode() if p.stdout else "",
                    p.stderr.read().decode() if p.stderr else "",
                )
                for p in procs
            ]
            problems: dict[str, str] = {}
            for o in outcomes:
                if is_crash(o):
                    problems["crashes"] = f"exit {o.code}: {o.err.strip()[-200:]}"
                elif o.code == 1 and "another gitops-gen is running" not in o.err:
                    problems.setdefault(
                        "blocked", f"refused without the lock message: {o.err.strip()[-160:]}"
                    )
            left = leftovers(before, snapshot(repo)) + leftovers({}, snapshot(scratch))
            if left:
                problems["leftovers"] = ", ".join(left[:2])
            check = cli(["generate", "--check"], repo)
            if check.code != 0:
                problems["torn"] = f"generate --check after both: {check.out.strip()[:160]}"
            tally.record(problems)
            shutil.rmtree(repo, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
    results["concurrent-commit-edit"] = commit_while_editing(fleet, work, trials, rng)
    return results


def keep_editing(victim: Path, text: str, stop: threading.Event, rng: random.Random) -> None:
    n = 0
    while not stop.is_set():
        victim.write_text(text + f"# edit {n}\n")
        n += 1
        time.sleep(rng.uniform(0, 0.01))


def commit_while_editing(fleet: Path, work: Path, trials: int, rng: random.Random) -> Tally:
    """commit while another process keeps rewriting an input file: a commit must match its inputs."""
    tally = Tally()
    for i in range(trials):
        repo = copy(fleet, work / f"commit-edit-{i}")
        stage_edit(repo)
        victim = sorted(repo.glob("clusters/*/cluster.yaml"))[0]
        text = victim.read_text()
        stop = threading.Event()
        editor = threading.Thread(target=keep_editing, args=(victim, text, stop, rng))
        editor.start()
        outcome = cli(["commit", "-m", "race"], repo)
        stop.set()
        editor.join()
        problems: dict[str, str] = {}
        if is_crash(outcome):
            problems["crashes"] = f"exit {outcome.code}: {outcome.err.strip()[-200:]}"
        left = leftovers({}, snapshot(repo))
        if left:
            problems["leftovers"] = ", ".join(left[:2])
        tally.record(problems)
        shutil.rmtree(repo, ignore_errors=True)
    return tally


# ---------------------------------------------------------------- full disk


def full_disk_trials(fleet: Path, work: Path, trials: int, rng: random.Random) -> Tally:
    tally = Tally()
    if os.geteuid() != 0 or not shutil.which("unshare"):
        tally.notes.append("skipped: needs root for a tmpfs in a mount namespace")
        return tally
    size = sum(f.stat().st_size + 4096 for f in fleet.rglob("*") if f.is_file() or f.is_dir())
    for i in range(trials):
        spare = rng.randint(0, 256 * 1024)
        proc = subprocess.run(
            [
                "unshare",
                "-m",
                sys.executable,
                __file__,
                "--inner-full-disk",
                str(fleet),
                str(work / f"disk-{i}"),
                str(size * 2 + (16 << 20)),
                str(spare),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            problems = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            problems = {"crashes": f"trial failed: {proc.stderr.strip()[-300:]}"}
        tally.record(problems)
    return tally


def inner_full_disk(fleet: Path, mount: Path, size: int, spare: int) -> int:
    """In a private mount namespace: the fleet on a tmpfs with SPARE bytes left, then generate."""
    mount.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    repo = copy(fleet, mount / "fleet")
    make_stale(repo)
    free = shutil.disk_usage(mount).free
    with open(mount / "filler", "wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(0, free - spare))
    ref = copy(fleet, Path(tempfile.mkdtemp()) / "ref")
    make_stale(ref)
    cli(["generate"], ref)
    before = snapshot(repo)
    outcome = cli(["generate"], repo)
    after = snapshot(repo)
    problems: dict[str, str] = {}
    if is_crash(outcome):
        problems["crashes"] = f"exit {outcome.code}: {outcome.err.strip()[-200:]}"
    elif outcome.code == 1 and len(outcome.err.strip().splitlines()) != 1:
        problems["crashes"] = f"not one line: {outcome.err.strip()[-200:]}"
    bad = torn(before, after, snapshot(ref)) if outcome.code == 0 else torn(before, after, before)
    if bad:
        problems["torn"] = ", ".join(bad[:3])
    left = leftovers(before, after)
    if left:
        problems["leftovers"] = ", ".join(left[:2])
    print(json.dumps(problems))
    return 0


# ---------------------------------------------------------------- main


def report(results: dict[str, Tally]) -> None:
    print(
        f"{'family':24} {'tried':>5} {'hit':>4} {'clean':>5} {'crashes':>7} {'torn':>4} {'leftovers':>9} "
        f"{'blocked':>7} {'stuck':>5}"
    )
    total = Tally()
    for name, t in results.items():
        print(
            f"{name:24} {t.tried:5} {t.hit:4} {t.clean:5} {t.crashes:7} {t.torn:4} {t.leftovers:9} {t.blocked:7} "
            f"{t.stuck:5}"
        )
        for field_name in ("tried", "hit", "clean", "crashes", "torn", "leftovers", "blocked", "stuck"):
            setattr(total, field_name, getattr(total, field_name) + getattr(t, field_name))
    print(
        f"{'total':24} {total.tried:5} {total.hit:4} {total.clean:5} {total.crashes:7} {total.torn:4} "
        f"{total.leftovers:9} {total.blocked:7} {total.stuck:5}"
    )
    for name, t in results.items():
        for note in t.notes:
            print(f"  {name}: {note}")


def in_netns() -> list[str] | None:
    """The command line that re-runs this script in a network namespace, if one can be made."""
    if os.environ.get("GITOPS_GEN_FAULTS_NETNS") or not shutil.which("unshare"):
        return None
    flag = "-n" if os.geteuid() == 0 else "-rn"
    if subprocess.run(["unshare", flag, "true"], capture_output=True, check=False).returncode != 0:
        return None
    return ["unshare", flag, sys.executable, *sys.argv]


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--inner-full-disk":
        return inner_full_disk(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--apps", type=int, default=16)
    parser.add_argument("--trials", type=int, default=6, help="trials per family")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--family", action="append", default=[], help="only these families (prefix match)")
    parser.add_argument("--no-netns", action="store_true", help="do not run inside a network namespace")
    args = parser.parse_args(argv)
    again = None if args.no_netns else in_netns()
    if again:
        return subprocess.run(
            again, env={**os.environ, "GITOPS_GEN_FAULTS_NETNS": "1"}, check=False
        ).returncode
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="gitops-gen-faults-bench-"))
    try:
        fleet = make_fleet(work / "fleet", args.clusters, args.apps, args.seed)
        wanted = tuple(args.family)
        results: dict[str, Tally] = {}
        for fam in families():
            if not wanted or fam.name.startswith(wanted):
                results[fam.name] = signal_trials(fam, fleet, work, args.trials, rng)
        if not wanted or any("concurrent".startswith(w) or w.startswith("concurrent") for w in wanted):
            results.update(concurrent_trials(fleet, work, args.trials, rng))
        if not wanted or "full-disk" in wanted:
            results["full-disk"] = full_disk_trials(fleet, work, args.trials, rng)
        netns = "yes" if os.environ.get("GITOPS_GEN_FAULTS_NETNS") else "no"
        print(
            f"faults: {args.clusters} clusters x {args.apps} apps, {args.trials} trials per family, seed "
            f"{args.seed}, network namespace: {netns}"
        )
        report(results)
    finally:
        unlock_tree(work)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
