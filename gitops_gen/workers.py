"""Worker processes: how many a run may use, and the one way they are started.

render, validate and diff fan their clusters out over processes only when that is never slower
than one process: a small fleet stays in this process (workers would each rebuild the layers
the clusters share, and forking costs more than it saves), a large one gets the CPUs that are
really free now.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

# Below this many clusters per worker, starting processes costs more than it saves.
PARALLEL_MIN_CLUSTERS = 8
# Below this many clusters the default (-j not given) is to render in one process.
PARALLEL_MIN_FLEET = 50


def fork_safe() -> bool:
    """This process may fork workers: it runs one thread. A thread holding a lock at the fork leaves
    the lock held forever in the child; the helm SDK's Go runtime always runs threads, so once a
    chart was rendered here (a library caller, a test session) every run stays in one process."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # not Linux
        import threading

        return threading.active_count() == 1 and "helm_python" not in sys.modules


def default_jobs(clusters: int | None = None) -> int:
    """Worker processes for a render of CLUSTERS clusters when -j is not given: never slower than one.

    The rule: a fleet below PARALLEL_MIN_FLEET clusters renders in this process (workers would
    each rebuild the layers the clusters share, and forking costs more than it saves); a larger
    one gets one worker per CPU that is really free now, ``usable_cpus``, and at least
    PARALLEL_MIN_CLUSTERS clusters per worker; 1 means no worker processes at all.
    """
    if (clusters is not None and clusters < PARALLEL_MIN_FLEET) or not fork_safe():
        return 1
    jobs = usable_cpus()
    if clusters is not None:
        jobs = min(jobs, max(1, clusters // PARALLEL_MIN_CLUSTERS))
    return jobs


def worker_count(jobs: int | None, clusters: int, per_worker: int | None = None) -> int:
    """Processes for CLUSTERS clusters: JOBS (-j) if given, else ``default_jobs``; never so many that a
    worker gets fewer than PER_WORKER (default PARALLEL_MIN_CLUSTERS) clusters, one where forking is
    unsafe."""
    jobs = jobs or default_jobs(clusters)
    per_worker = per_worker or PARALLEL_MIN_CLUSTERS
    return min(jobs, max(1, clusters // per_worker)) if fork_safe() else 1


def usable_cpus(cpus: int | None = None, quota: float | None = None, load: float | None = None) -> int:
    """The CPUs this process may use (affinity), capped by the cgroup's CPU quota, minus the load the
    rest of the machine puts on them now (``other_load``, rounded); at least 1. A container limited to
    1.5 CPUs on a 64-CPU host gets 1; a 2-CPU machine with another process running gets 1."""
    cpus = affinity_cpus() if cpus is None else cpus
    quota = cgroup_cpu_quota() if quota is None else quota
    if quota > 0:
        cpus = min(cpus, max(1, math.floor(quota)))
    load = other_load() if load is None else load
    return max(1, min(cpus, round(cpus - load)))


def other_load(loadavg: Path = Path("/proc/loadavg"), samples: int = 5) -> float:
    """Tasks of other processes runnable right now (Linux: the running count of /proc/loadavg, less
    this process, the least of SAMPLES reads 2 ms apart, so a task that runs for an instant does not
    count); elsewhere the 1-minute load average. Not the average on Linux: it still counts the
    commands that just finished (a CI step, the previous command of a script) for a minute."""
    import time

    try:
        least = None
        for i in range(samples):
            if i:
                time.sleep(0.002)
            running = int(loadavg.read_text().split()[3].split("/")[0])
            least = running if least is None else min(least, running)
        return float(max(0, (least or 1) - 1))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


def affinity_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> float:
    """CPUs the cgroup may use per period (cgroup v2 ``cpu.max``, or v1 ``cpu.cfs_quota_us`` over
    ``cpu.cfs_period_us``); 0 when unlimited or unknown."""
    try:
        quota, _, period = (root / "cpu.max").read_text().partition(" ")
        if quota.strip() != "max":
            return int(quota) / int(period)
        return 0.0
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota_us / period_us if quota_us > 0 and period_us > 0 else 0.0
    except (OSError, ValueError):
        return 0.0


def worker_signals() -> None:
    # A forked worker inherits the CLI's SIGTERM/SIGHUP handlers; Pool.terminate stops workers with
    # SIGTERM, so they must die on it or the pool's exit waits for them forever.
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def pool(jobs: int) -> Pool:
    """JOBS forked worker processes (they inherit what this process has loaded) that stop on SIGTERM."""
    import multiprocessing

    return multiprocessing.get_context("fork").Pool(jobs, initializer=worker_signals)


def runs(names: Sequence[str], count: int, cost: Callable[[str], int] | None = None) -> list[list[str]]:
    """NAMES cut into at most COUNT contiguous runs (neighbours in sorted order share company, zone
    and env layers, so a run shares most of its work inside one worker), balanced by COST (default:
    one each); no run is empty."""
    weights = [max(1, cost(n)) if cost is not None else 1 for n in names]
    total = sum(weights)
    out: list[list[str]] = []
    done = 0
    for name, weight in zip(names, weights, strict=True):
        # Start run k once the names before cross k/COUNT of the total.
        if not out or (len(out) < count and done * count >= len(out) * total):
            out.append([])
        out[-1].append(name)
        done += weight
    return out
