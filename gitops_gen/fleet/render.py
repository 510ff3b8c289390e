"""`gitops-gen build` and `gitops-gen render`: the engine applied to a directory or a fleet."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.build import Engine, ParseCache
from gitops_gen.repo.tree import DiskTree, Tree

# Below this many clusters per worker, starting processes costs more than it saves.
PARALLEL_MIN_CLUSTERS = 8


class DocumentCache:
    """Serialised text per distinct object: clusters sharing layers share most documents.

    Keyed by the object's marshal bytes, so an equal object built in a different order
    only misses the cache; it can never serve different content.
    """

    def __init__(self) -> None:
        self._text: dict[bytes, str] = {}

    def dump(self, obj: dict[str, Any]) -> str:
        from gitops_gen.repo import emit

        key = marshal.dumps(obj)
        text = self._text.get(key)
        if text is None:
            text = emit.dump(obj)
            self._text[key] = text
        return text

    def dump_all(self, objs: Iterable[dict[str, Any]]) -> str:
        from gitops_gen.repo import emit

        return emit.join_documents([self.dump(o) for o in objs])


def git_toplevel(path: Path) -> Path | None:
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=False)
    except OSError:
        return None
    top = out.stdout.strip()
    return Path(top).resolve() if out.returncode == 0 and top else None


def kustomize_binary() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise GitopsGenError("--engine kustomize needs `kustomize` or `kubectl` on PATH")


def run_kustomize(directory: Path) -> str:
    proc = subprocess.run([*kustomize_binary(), str(directory)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["kustomize failed"])[-1]
        raise GitopsGenError(f"kustomize: {first}", str(directory))
    return proc.stdout


def cmd_build(directory: Path, engine: str = "python") -> int:
    """Print what `kustomize build DIRECTORY` prints."""
    if not directory.is_dir():
        raise GitopsGenError("no such directory", str(directory))
    if engine == "kustomize":
        sys.stdout.write(run_kustomize(directory))
        return 0
    full = directory.resolve()
    # Kustomize may read `../base` anywhere above DIR; the git top-level (or /) bounds what we read.
    root = git_toplevel(full) or Path(full.anchor)
    tree = DiskTree(root, display_from=Path.cwd())
    rel = full.relative_to(root).as_posix()
    text = Engine(tree).render("" if rel == "." else rel)
    sys.stdout.write(text)
    return 0


def fleet_clusters(tree: Tree) -> list[str]:
    """Clusters with a generated mapping, by name."""
    return [name for name in tree.listdir("mapping") if tree.kind(f"mapping/{name}") == "dir"]


def render_clusters(tree: Tree, clusters: list[str], engine: Engine | None = None,
                    cache: DocumentCache | None = None) -> Iterable[tuple[str, str]]:
    """(cluster, rendered text) for each cluster, sharing one engine and one document cache."""
    engine = engine or Engine(tree, parse_cache=ParseCache(), warnings="once")
    cache = cache or DocumentCache()
    for name in clusters:
        resources = engine.build(f"mapping/{name}")
        yield name, cache.dump_all(r.obj for r in resources)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_WORKER: dict[str, tuple[Engine, DocumentCache]] = {}


def _render_chunk(root: str, names: list[str]) -> tuple[list[tuple[str, str]] | GitopsGenError, list[str]]:
    """One worker's share, and the warnings it met. Each worker process keeps one engine and
    document cache for all the chunks it is given, so shared layers are built once per worker."""
    if root not in _WORKER:
        tree = DiskTree(Path(root))
        _WORKER[root] = (Engine(tree, parse_cache=ParseCache(), warnings="collect"), DocumentCache())
    engine, cache = _WORKER[root]
    seen = len(engine.collected)
    try:
        result: list[tuple[str, str]] | GitopsGenError = list(render_clusters(engine.tree, names, engine, cache))
    except GitopsGenError as err:
        result = GitopsGenError(err.message, err.path, err.line, err.col)
    return result, engine.collected[seen:]


def render_parallel(root: Path, names: list[str], jobs: int) -> Iterator[tuple[str, str]]:
    """Render clusters in JOBS processes; results come back in NAMES order.

    Clusters are handed out in contiguous runs (sorted names share company/zone/env, so a
    run shares most of its layer work inside one worker); an error raises the first
    failing cluster's error, in order, exactly as the serial render would.
    """
    import multiprocessing

    size = max(1, -(-len(names) // (jobs * 2)))
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    warned: set[str] = set()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending = [pool.apply_async(_render_chunk, (str(root), chunk)) for chunk in chunks]
        for result in pending:
            value, warnings = result.get()
            for message in warnings:
                if message not in warned:
                    warned.add(message)
                    sys.stderr.write(message + "\n")
            if isinstance(value, GitopsGenError):
                raise value
            yield from value


def select_clusters(tree: Tree, wanted: list[str]) -> list[str]:
    known = fleet_clusters(tree)
    if not known:
        raise GitopsGenError("no mapping/<cluster>/ directories: run `gitops-gen generate` first", "mapping")
    for name in wanted:
        if name not in known:
            raise GitopsGenError(f"unknown cluster {name!r} (known: {', '.join(known)})")
    return list(dict.fromkeys(wanted)) if wanted else known


def _progress_wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def cmd_render(repo: Path, clusters: list[str], out: Path | None, engine: str = "python",
               jobs: int | None = None) -> int:
    """Render each cluster's mapping; one file per cluster (stdout for exactly one --cluster)."""
    from gitops_gen.repo.files import write_atomic_many

    tree = DiskTree(repo)
    names = select_clusters(tree, clusters)
    if out is None and len(names) != 1:
        raise click.UsageError("several clusters need --out DIR (or name exactly one with --cluster)")
    if engine == "kustomize":
        results: Iterable[tuple[str, str]] = ((n, run_kustomize(repo / "mapping" / n)) for n in names)
    else:
        jobs = min(jobs or default_jobs(), max(1, len(names) // PARALLEL_MIN_CLUSTERS))
        results = render_parallel(repo, names, jobs) if jobs > 1 else render_clusters(tree, names)
    if out is None:
        for _, text in results:
            sys.stdout.write(text)
        return 0
    rendered: dict[str, str] = {}
    if _progress_wanted():
        with click.progressbar(results, length=len(names), label="rendering", file=sys.stderr) as bar:
            for name, text in bar:
                rendered[name] = text
    else:
        rendered = dict(results)
    # Everything is rendered before anything is written: an error leaves --out untouched.
    out.mkdir(parents=True, exist_ok=True)
    write_atomic_many((out / f"{name}.yaml", text.encode()) for name, text in rendered.items())
    return 0
