"""The engine applied to a directory (`gitops-gen build`) or to every cluster of a fleet (`render`).

Nothing here prints: engine warnings go to the caller's ``on_warning`` callback.
"""

from __future__ import annotations

import marshal
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from gitops_gen import workers
from gitops_gen.errors import GitopsGenError, UsageError
from gitops_gen.kustomize.build import Engine, ParseCache
from gitops_gen.repo.tree import DiskTree, Tree

Warn = Callable[[str], None]


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
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    top = out.stdout.strip()
    return Path(top).resolve() if out.returncode == 0 and top else None


def kustomize_binary() -> list[str]:
    import shutil  # only --engine kustomize needs it; it pulls in bz2 and lzma at start-up

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


def build_directory(directory: Path, engine: str = "python", on_warning: Warn | None = None) -> str:
    """What `kustomize build DIRECTORY` prints, by our engine or by kustomize itself."""
    if not directory.is_dir():
        raise GitopsGenError("no such directory", str(directory))
    if engine == "kustomize":
        return run_kustomize(directory)
    full = directory.resolve()
    # Kustomize may read `../base` anywhere above DIR; the git top-level (or /) bounds what we read.
    root = git_toplevel(full) or Path(full.anchor)
    tree = DiskTree(root, display_from=Path.cwd())
    rel = full.relative_to(root).as_posix()
    return Engine(tree, on_warning=on_warning).render("" if rel == "." else rel)


def fleet_clusters(tree: Tree) -> list[str]:
    """Clusters with a generated mapping, by name."""
    return [name for name in tree.listdir("mapping") if tree.kind(f"mapping/{name}") == "dir"]


def render_clusters(
    tree: Tree,
    clusters: list[str],
    engine: Engine | None = None,
    cache: DocumentCache | None = None,
    on_warning: Warn | None = None,
    applied: bool = False,
) -> Iterable[tuple[str, str]]:
    """(cluster, rendered text) for each cluster, sharing one engine and one document cache.
    APPLIED renders what the cluster's GitOps engine applies (gitops_gen.applied.view)."""
    engine = engine or Engine(tree, parse_cache=ParseCache(), warnings="once", on_warning=on_warning)
    cache = cache or DocumentCache()
    for name in clusters:
        if applied:
            from gitops_gen.applied.view import applied_view

            result = applied_view(tree, engine, name)
            for note in result.notes:
                _warn(engine, note.format())
            yield name, cache.dump_all(result.objects)
            continue
        resources = engine.build(f"mapping/{name}")
        try:
            text = cache.dump_all(r.obj for r in resources)
        except GitopsGenError as err:
            raise unprintable(resources, err) if err.path is None else err from None
        yield name, text


def unprintable(resources: Iterable[Any], err: GitopsGenError) -> GitopsGenError:
    """ERR (an object kustomize would not print) at the file of the object that caused it."""
    from gitops_gen.repo.emit import check_printable

    for res in resources:
        try:
            check_printable(res.obj)
        except GitopsGenError as found:
            return GitopsGenError(f"{res.kind}/{res.name}: {found.message}", res.origin.path, res.origin.line)
    return err


def _warn(engine: Engine, message: str) -> None:
    """Say MESSAGE once per run the way the engine says its own warnings."""
    if message in engine.collected:
        return
    engine.collected.append(message)
    if engine.warnings != "collect" and engine.on_warning is not None:
        engine.on_warning(message)


_WORKER: dict[str, tuple[Engine, DocumentCache]] = {}


def _render_chunk(
    root: str, names: list[str], applied: bool = False
) -> tuple[list[tuple[str, str]] | GitopsGenError, list[str]]:
    """One worker's share, and the warnings it met. Each worker process keeps one engine and
    document cache for all the chunks it is given, so shared layers are built once per worker."""
    if root not in _WORKER:
        tree = DiskTree(Path(root))
        _WORKER[root] = (Engine(tree, parse_cache=ParseCache(), warnings="collect"), DocumentCache())
    engine, cache = _WORKER[root]
    seen = len(engine.collected)
    try:
        result: list[tuple[str, str]] | GitopsGenError = list(
            render_clusters(engine.tree, names, engine, cache, applied=applied)
        )
    except GitopsGenError as err:
        result = GitopsGenError(err.message, err.path, err.line, err.col)
    return result, engine.collected[seen:]


def render_parallel(
    root: Path, names: list[str], jobs: int, on_warning: Warn | None = None, applied: bool = False
) -> Iterator[tuple[str, str]]:
    """Render clusters in JOBS processes; results come back in NAMES order.

    Clusters are handed out in contiguous runs (sorted names share company/zone/env, so a
    run shares most of its layer work inside one worker); an error raises the first
    failing cluster's error, in order, exactly as the serial render would.
    """
    chunks = workers.runs(names, jobs * 2)
    warned: set[str] = set()
    with workers.pool(jobs) as pool:
        pending = [pool.apply_async(_render_chunk, (str(root), chunk, applied)) for chunk in chunks]
        for result in pending:
            value, warnings = result.get()
            for message in warnings:
                if message not in warned:
                    warned.add(message)
                    if on_warning is not None:
                        on_warning(message)
            if isinstance(value, GitopsGenError):
                raise value
            yield from value


def select_clusters(tree: Tree, wanted: list[str]) -> list[str]:
    known = fleet_clusters(tree)
    if not known:
        raise GitopsGenError("no mapping/<cluster>/ directories: run `gitops-gen generate` first", "mapping")
    for name in wanted:
        if name not in known:
            raise UsageError(f"unknown cluster {name!r} (clusters: {', '.join(known)})")
    return list(dict.fromkeys(wanted)) if wanted else known


def render_fleet(
    repo: Path,
    names: list[str],
    engine: str = "python",
    jobs: int | None = None,
    on_warning: Warn | None = None,
    applied: bool = False,
) -> Iterable[tuple[str, str]]:
    """(cluster, rendered text) for NAMES, in order: by kustomize, or our engine in up to JOBS processes.
    APPLIED: what each cluster's GitOps engine applies (our engine only)."""
    if engine == "kustomize" and applied:
        raise GitopsGenError("--applied needs --engine python (it edits the build as Flux does)")
    if engine == "kustomize":
        return ((n, run_kustomize(repo / "mapping" / n)) for n in names)
    jobs = workers.worker_count(jobs, len(names))
    if jobs > 1:
        return render_parallel(repo, names, jobs, on_warning, applied)
    return render_clusters(DiskTree(repo), names, on_warning=on_warning, applied=applied)


# ---------------------------------------------------------------- render --out

OUT_MANIFEST = ".gitops-gen-rendered"
# Where the fleet's inputs (and generated files) live: an --out there would overwrite them.
FLEET_DIRS = ("clusters", "apps", "mapping", ".git")


def check_out_dir(repo: Path, out: Path) -> Path:
    """OUT, resolved; refused when it lies among the fleet's inputs, or cannot be a directory."""
    real = Path(os.path.realpath(out))
    root = Path(os.path.realpath(repo))
    if real == root or root in real.parents:
        rel = real.relative_to(root).as_posix()
        top = rel.split("/", 1)[0]
        if rel == "." or top in FLEET_DIRS:
            raise GitopsGenError(
                "--out must not be inside the fleet's inputs (clusters/, apps/, mapping/) or the "
                "repository root: pick a directory of its own, e.g. out/",
                str(out),
            )
    for parent in [real, *real.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise GitopsGenError("--out lies under a file, not a directory", str(parent))
            break
    return real


def write_out(repo: Path, out: Path, rendered: dict[str, str], known: list[str]) -> list[str]:
    """Write one ``<cluster>.yaml`` per rendered cluster into OUT, all or nothing; returns the files removed.

    OUT's ``.gitops-gen-rendered`` lists the files gitops-gen wrote there: a file that is
    not listed is never overwritten (unless it already holds exactly the new bytes), and a
    listed file of a cluster no longer in the fleet (KNOWN) is removed.
    """
    from gitops_gen.repo.files import remove_dead_temp_files, remove_file, write_atomic_many

    real = check_out_dir(repo, out)
    manifest = real / OUT_MANIFEST
    owned: set[str] = set()
    if manifest.is_file():
        try:
            owned = {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}
        except (OSError, UnicodeDecodeError) as err:
            raise GitopsGenError(f"cannot read: {err}", str(out / OUT_MANIFEST)) from None
    files = {f"{name}.yaml": text.encode() for name, text in rendered.items()}
    for rel, data in files.items():
        path = real / rel
        if rel not in owned and (path.exists() or path.is_symlink()):
            try:
                same = path.is_file() and not path.is_symlink() and path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                raise GitopsGenError(
                    f"not written by gitops-gen (it is not listed in {OUT_MANIFEST}): move it away "
                    "or pick another --out; nothing was written",
                    str(out / rel),
                )
    keep = {f"{name}.yaml" for name in known}
    stale = sorted(rel for rel in owned if rel not in keep and "/" not in rel and rel.endswith(".yaml"))
    listed = sorted((owned - set(stale)) | set(files))
    try:
        real.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GitopsGenError(f"cannot create the directory: {err.strerror or err}", str(out)) from None
    remove_dead_temp_files([real])
    write_atomic_many(
        [
            *((real / rel, data) for rel, data in files.items()),
            (manifest, "".join(f"{rel}\n" for rel in listed).encode()),
        ]
    )
    for rel in stale:
        remove_file(real / rel, real)
    return stale
