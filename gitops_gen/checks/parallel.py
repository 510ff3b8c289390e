"""A whole-fleet validate in worker processes: each checks a contiguous run of the clusters as a
``Part`` (exactly what ``validate --shard`` computes), and the parts are finished together as the
shards of a CI matrix are, so one process, N processes and N shards cannot disagree.

Only this process writes the demand cache: each worker hands back the entries it saw. Progress
comes back through one shared-memory counter per worker (no queue: its feeder threads and locks
are what a forked process must not inherit half-held).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from gitops_gen import workers
from gitops_gen.checks.demand import CacheShare, DemandCache
from gitops_gen.checks.partial import Part
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet import deps
from gitops_gen.fleet.shard import costs_of
from gitops_gen.repo.tree import DiskTree

OnProgress = Callable[[int, int], None]


class PartCheck(Protocol):
    """``checks.validate.validate_part``, handed in (it imports this module)."""

    def __call__(
        self,
        tree: DiskTree,
        clusters: list[str] | None,
        *,
        shard: frozenset[str],
        fleet_wide: bool,
        on_progress: OnProgress | None,
        keep_cache: Callable[[DemandCache], None],
    ) -> Part: ...


_DONE: Any = None  # clusters done per worker (a shared array the forked workers inherit)


def _chunk(
    check: PartCheck, root: str, clusters: list[str] | None, names: list[str], slot: int
) -> tuple[Part, CacheShare | None] | GitopsGenError:
    shares: list[CacheShare] = []
    done = _DONE

    def tell(count: int, _total: int) -> None:
        done[slot] = count

    try:
        part = check(
            DiskTree(Path(root)),
            clusters,
            shard=frozenset(names),
            fleet_wide=slot == 0,
            on_progress=tell if done is not None else None,
            keep_cache=lambda cache: shares.append(cache.seen()),
        )
    except GitopsGenError as err:
        return GitopsGenError(err.message, err.path, err.line, err.col)
    return part, (shares[0] if shares else None)


def validate_parallel(
    check: PartCheck,
    tree: DiskTree,
    clusters: list[str] | None,
    names: list[str],
    jobs: int,
    on_progress: OnProgress | None = None,
) -> list[Part]:
    """The parts of NAMES, in JOBS processes; the fleet-wide checks in the first. The first error a
    part raises (a broken gitops-gen.yaml read the first time) is raised here, as the serial run does."""
    import multiprocessing

    global _DONE
    costs = costs_of([tree], names)
    chunks = workers.runs(sorted(names), jobs, costs.__getitem__)
    _DONE = multiprocessing.get_context("fork").RawArray("l", len(chunks)) if on_progress else None
    try:
        with workers.pool(len(chunks)) as pool:
            pending = [
                pool.apply_async(_chunk, (check, str(tree.root), clusters, chunk, slot))
                for slot, chunk in enumerate(chunks)
            ]
            if on_progress is not None:
                for result in pending:
                    while not result.ready():
                        on_progress(sum(_DONE), len(names))
                        result.wait(0.2)
            results = [p.get() for p in pending]
    finally:
        _DONE = None
    parts: list[Part] = []
    shares: list[CacheShare] = []
    for value in results:
        if isinstance(value, GitopsGenError):
            raise value
        part, share = value
        parts.append(part)
        if share is not None:
            shares.append(share)
    _save_cache(tree, shares, whole_fleet=not clusters)
    if on_progress is not None:
        on_progress(len(names), len(names))
    return parts


def _save_cache(tree: DiskTree, shares: list[CacheShare], whole_fleet: bool) -> None:
    if not shares:
        return
    cache = DemandCache.open(tree.root, deps.Index(tree.root))
    if cache is None:
        return
    for share in shares:
        cache.absorb(share)
    cache.save(keep_only_seen=whole_fleet)
