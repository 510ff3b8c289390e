"""Which clusters a set of changed files can affect, from kustomization files alone.

``validate FILE...`` (the pre-commit hook) checks only those clusters, so this must be
much cheaper than rendering: it reads kustomization files and follows the paths they
name (resources, bases, components, patch paths, generator files) backwards from the
changed files to ``mapping/<cluster>/``. Nothing is built.

Rules:
- ``gitops-gen.yaml`` affects every cluster; anything under ``clusters/<c>/`` or
  ``mapping/<c>/`` affects cluster ``c``.
- Any other file affects the clusters whose mapping reaches it through kustomization
  references (a kustomization file itself counts as part of its directory).
- A deleted path (or the source of a rename) is looked up in the tree that still has it
  (``Index(root, TreeFiles(GitTree(repo, "HEAD")))``): the working tree no longer names
  a directory that is gone.

Cost control, for fleets of hundreds of clusters: the generated variants
(``apps/<app>/overlays/<cluster>/``) are read only for apps one of whose hand-written
directories reaches a changed file; generated files are parsed by a line scan when
they have the shape ``generate`` writes. A hand-written kustomization whose text has no
``..`` can only point below itself, so it is not parsed unless it lies above a changed
file: it is assumed to reach every kustomization below it (an over-approximation, never
a miss). Limitation: a hand-edited generated variant of an app that no hand-written
directory connects to a changed file is not followed (``generate --check`` reports
such edits).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import time_ns
from typing import Any, Protocol

import yaml

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.layout import CONFIG_PATH, HEADER_PREFIX
from gitops_gen.kustomize.types import FILE_NAMES, fields_naming
from gitops_gen.repo import memo
from gitops_gen.repo.tree import Stamp, Tree, dir_stamp, file_stamp, normalize, settled

SKIP_TOP = {".git", "clusters", "mapping"}
MEMO_FILE = "deps-index.marshal"
MEMO_FORMAT = 1
PLUGIN_FIELDS = ("generators", "transformers", "validators")
_GENERATED_KEYS = (b"apiVersion:", b"kind:", b"resources:", b"components:")


@dataclass
class Refs:
    """What one kustomization directory points at (repo-relative, normalised)."""

    dirs: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    below: bool = False  # not parsed: assumed to reach everything below its directory
    # Directories any of whose files it may read: its own (configurations, plugin configs, helm values
    # files: kustomize's loader keeps them in or below it) and helm chart homes (which may climb).
    trees: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Affected:
    """The clusters some files affect; ``every`` when a file touches the whole fleet."""

    every: bool
    clusters: frozenset[str]
    reaching: frozenset[str] = frozenset()  # kustomization directories that reach a changed file

    def union(self, other: Affected) -> Affected:
        return Affected(
            self.every or other.every, self.clusters | other.clusters, self.reaching | other.reaching
        )

    def names(self, known: Iterable[str]) -> list[str]:
        return sorted(known) if self.every else sorted(c for c in known if c in self.clusters)


class DiskFiles:
    """The working tree, read with plain os calls (the hook's fast path)."""

    def __init__(self, root: Path):
        self.root = root

    def is_file(self, rel: str) -> bool:
        return os.path.isfile(os.path.join(self.root, rel))

    def is_dir(self, rel: str) -> bool:
        return os.path.isdir(os.path.join(self.root, rel))

    def read(self, rel: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, rel), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(os.path.join(self.root, rel)))
        except OSError:
            return []

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]:
        """(repo-relative dir, sub-directory names (prune in place), file names), top-down."""
        top = str(self.root)
        for dirpath, dirnames, filenames in os.walk(top):
            yield dirpath[len(top) + 1 :].replace(os.sep, "/"), dirnames, filenames


class TreeFiles:
    """Any Tree (a git revision: what HEAD's kustomizations referenced before a deletion or rename)."""

    def __init__(self, tree: Tree):
        self.tree = tree

    def is_file(self, rel: str) -> bool:
        return self._kind(rel) == "file"

    def is_dir(self, rel: str) -> bool:
        return self._kind(rel) == "dir"

    def _kind(self, rel: str) -> str | None:
        try:
            return self.tree.kind(rel)
        except GitopsGenError:
            return None

    def read(self, rel: str) -> bytes | None:
        try:
            return self.tree.read(rel)
        except GitopsGenError:
            return None

    def listdir(self, rel: str) -> list[str]:
        try:
            return self.tree.listdir(rel)
        except GitopsGenError:
            return []

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]:
        pending = [""]
        while pending:
            rel = pending.pop(0)
            names = self.listdir(rel)
            dirs = [n for n in names if self.is_dir(posixpath.join(rel, n) if rel else n)]
            files = [n for n in names if n not in dirs]
            yield rel, dirs, files
            pending[:0] = [posixpath.join(rel, d) if rel else d for d in dirs]


class Files(Protocol):
    """What the index reads: repo-relative paths of one tree (the working tree, or a git revision)."""

    def is_file(self, rel: str) -> bool: ...

    def is_dir(self, rel: str) -> bool: ...

    def read(self, rel: str) -> bytes | None: ...

    def listdir(self, rel: str) -> list[str]: ...

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]: ...


def _kust_file(files: Files, directory: str) -> str | None:
    for name in FILE_NAMES:
        rel = posixpath.join(directory, name) if directory else name
        if files.is_file(rel):
            return rel
    return None


def _generated_entries(raw: bytes) -> list[str] | None:
    """List items of a generated mapping / variant, or None if it is not in generate's shape."""
    entries = []
    for line in raw.split(b"\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            continue
        if line.startswith(b"- "):
            entries.append(line[2:].strip().decode("utf-8", "replace"))
        elif not line.startswith(_GENERATED_KEYS):
            return None
    return entries


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _paths_of(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(entries that may be dirs or files, entries that are files) named by a parsed kustomization."""
    either = [entry for key in fields_naming("entries") for entry in _strings(data.get(key))]
    # Plugin config entries: a file in the kustomization, or a kustomization directory anywhere.
    either += [entry for key in PLUGIN_FIELDS for entry in _strings(data.get(key)) if "\n" not in entry]
    files: list[str] = []
    for key in fields_naming("path"):
        for entry in data.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                files.append(entry["path"])
    for key in fields_naming("files"):
        files.extend(entry for entry in _strings(data.get(key)) if "\n" not in entry)
    for key in fields_naming("generator"):
        for gen in data.get(key) or []:
            if not isinstance(gen, dict):
                continue
            for item in [*_strings(gen.get("files")), *_strings(gen.get("envs"))]:
                files.append(item.split("=", 1)[1] if "=" in item else item)
            if isinstance(gen.get("env"), str):
                files.append(gen["env"])
    return either, files


@dataclass(frozen=True)
class Named:
    """The paths one kustomization text names, joined onto its directory (what any tree reads alike)."""

    either: tuple[str, ...] = ()  # entries that may be directories or files
    files: tuple[str, ...] = ()
    trees: tuple[str, ...] = ()  # directories any of whose files it may read (see ``Refs.trees``)


def named_paths(directory: str, raw: bytes, parsed: Parsed | None = None) -> Named:
    """What the kustomization RAW in DIRECTORY names (bad YAML: nothing; the render reports it).
    PARSED: where a parse of RAW already made (the engine's) may be found."""
    entries = _generated_entries(raw) if raw.startswith(HEADER_PREFIX) else None
    if entries is not None:
        return _joined(directory, entries, [], [])
    data = parsed(directory, raw) if parsed is not None else None
    if data is None:
        try:
            data = yaml.load(raw, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            return Named()
        if not isinstance(data, dict):
            return Named()
    either, files = _paths_of(data)
    trees = [directory]
    if data.get("helmCharts") or data.get("helmGlobals"):
        home = (data.get("helmGlobals") or {}) if isinstance(data.get("helmGlobals"), dict) else {}
        chart_home = normalize(str(home.get("chartHome") or "charts"), directory)
        trees.append(directory if chart_home is None else chart_home)
    return _joined(directory, either, files, trees)


def _joined(directory: str, either: list[str], files: list[str], trees: list[str]) -> Named:
    joined = (normalize(entry, directory) for entry in either)
    return Named(
        tuple(p for p in joined if p is not None),
        tuple(p for p in (normalize(entry, directory) for entry in files) if p is not None),
        tuple(trees),
    )


# (directory, kustomization text) -> that text parsed, if some reader has it (None: parse it here).
Parsed = Callable[[str, bytes], "dict[str, Any] | None"]


# (directory, kustomization text) -> what it names: the two sides of a diff hold mostly the same texts.
NamedCache = dict[tuple[str, bytes], Named]


def parse_refs(
    root: Path,
    directory: str,
    raw: bytes,
    is_dir: Callable[[str], bool] | None = None,
    cache: NamedCache | None = None,
    parsed: Parsed | None = None,
) -> Refs:
    """The references of the kustomization RAW in DIRECTORY (bad YAML: none; the render reports it).
    CACHE: what texts seen before name, kept across calls (and trees); PARSED: see ``named_paths``."""
    if is_dir is None:
        is_dir = DiskFiles(root).is_dir
    return _refs(_named_cached(directory, raw, cache, parsed), is_dir)


def _named_cached(directory: str, raw: bytes, cache: NamedCache | None, parsed: Parsed | None) -> Named:
    named = cache.get((directory, raw)) if cache is not None else None
    if named is None:
        named = named_paths(directory, raw, parsed)
        if cache is not None:
            cache[(directory, raw)] = named
    return named


def _refs(named: Named, is_dir: Callable[[str], bool]) -> Refs:
    refs = Refs(trees=set(named.trees))
    for path in named.either:
        if not path or is_dir(path):
            refs.dirs.add(path)
        else:
            # A file, or a directory this side does not have (yet): anything below it counts too.
            refs.files.add(path)
            refs.dirs.add(path)
    refs.files.update(named.files)
    return refs


# A directory as the last run listed it: (its stamp, sub-directory names, other entry names).
Listing = tuple[Stamp, tuple[str, ...], tuple[str, ...]]
# A kustomization as the last run read it: (its stamp, whether its text is plain, what it names when parsed).
Learnt = tuple[Stamp, bool, "tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None"]


class Memory:
    """What the working tree's directories held and its kustomizations named when the index last read
    them, each known by its stamp: the hook lists and parses only what moved since, as git's index knows
    a clean file by its stat. A directory's stamp moves when an entry is added, removed or renamed in it.
    An entry is trusted only if it had settled (``tree.settled``) when it was recorded; a listing with a
    symlink in it is never recorded (its target may turn from file to directory with nothing else moving).
    Kept in ``.git/gitops-gen/`` like the demand cache; GITOPS_GEN_NO_CACHE turns it off."""

    def __init__(self, root: Path, where: Path, known: dict[str, Any]):
        self.root = str(root)
        self.where = where
        self.started = time_ns()  # nothing is read earlier
        self.old_dirs: dict[str, Listing] = known.get("dirs") or {}
        self.old_kusts: dict[str, Learnt] = known.get("kusts") or {}
        self.dirs: dict[str, Listing] = {}
        self.kusts: dict[str, Learnt] = {}
        self.stale: set[str] = set()  # paths whose recorded entry no longer holds
        self.dirty = False

    @classmethod
    def open(cls, root: Path) -> Memory | None:
        """The memory of the repository at ROOT; None when memos are off or ROOT is not a git work tree."""
        where = memo.memo_path(root, MEMO_FILE)
        if where is None:
            return None
        known = memo.load(where, MEMO_FORMAT) or {}
        return cls(root, where, known)

    def _full(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def is_dir(self, rel: str) -> bool | None:
        """Whether REL is a directory, if the listing of its parent is known good this run."""
        parent, _, name = rel.rpartition("/")
        listing = self.dirs.get(parent)
        return None if listing is None else name in listing[1]

    def walk(self) -> Iterator[tuple[str, list[str], list[str]]]:
        """``DiskFiles.walk`` with each directory whose stamp did not move taken from the last run."""
        pending = [""]
        while pending:
            rel = pending.pop()
            listing = self._listing(rel)
            if listing is None:
                continue  # unreadable: os.walk skips it too
            dirs, files, links = listing
            dirnames = list(dirs)
            yield rel, dirnames, list(files)
            # As os.walk: a symlinked directory is listed but not descended into.
            pending.extend(f"{rel}/{d}" if rel else d for d in reversed(dirnames) if d not in links)

    def _listing(self, rel: str) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]] | None:
        full = self._full(rel)
        stamp = dir_stamp(full)  # before listing: a change after it moves the stamp the next run sees
        hit = self.old_dirs.get(rel)
        if stamp is not None and hit is not None and tuple(hit[0]) == stamp:
            self.dirs[rel] = hit
            return hit[1], hit[2], frozenset()
        if hit is not None:
            self.stale.add(rel)
            self.dirty = True
        try:
            with os.scandir(full) as entries:
                found = list(entries)
        except OSError:
            return None
        dirs: list[str] = []
        files: list[str] = []
        links: set[str] = set()
        for entry in found:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
            if entry.is_symlink():
                links.add(entry.name)
        if stamp is not None and not links and settled(stamp, self.started):
            self.dirs[rel] = (stamp, tuple(dirs), tuple(files))
            self.dirty = True
        return tuple(dirs), tuple(files), frozenset(n for n in links if n in dirs)

    def stamp(self, rel: str) -> Stamp | None:
        return file_stamp(self._full(rel))

    def kust(self, rel: str, stamp: Stamp) -> tuple[bool, Named | None] | None:
        """(plain, what it names if it was parsed) of the kustomization REL, if its stamp is STAMP."""
        hit = self.kusts.get(rel) or self.old_kusts.get(rel)
        if hit is None:
            return None
        if tuple(hit[0]) != stamp:
            self.stale.add(rel)
            self.dirty = True
            return None
        self.kusts[rel] = hit
        return hit[1], None if hit[2] is None else Named(*hit[2])

    def learn(self, rel: str, stamp: Stamp, plain: bool, named: Named | None) -> None:
        if settled(stamp, self.started):
            self.kusts[rel] = (
                stamp,
                plain,
                None if named is None else (named.either, named.files, named.trees),
            )
            self.dirty = True

    def save(self) -> None:
        """Keep what this run learnt, and what the last one knew that still holds of paths that exist."""
        if not self.dirty:
            return
        dirs = {
            r: v
            for r, v in self.old_dirs.items()
            if r not in self.dirs and r not in self.stale and os.path.isdir(self._full(r))
        }
        kusts = {
            r: v
            for r, v in self.old_kusts.items()
            if r not in self.kusts and r not in self.stale and os.path.isfile(self._full(r))
        }
        memo.store(self.where, MEMO_FORMAT, {"dirs": {**dirs, **self.dirs}, "kusts": {**kusts, **self.kusts}})
        self.dirty = False


class Index:
    """Kustomization directories of a repository and their references, loaded lazily."""

    def __init__(
        self,
        root: Path,
        files: Files | None = None,
        named: NamedCache | None = None,
        memory: Memory | None = None,
    ):
        """MEMORY: what the last run learnt of the working tree (only with FILES the working tree)."""
        self.root = root.resolve()
        self.files = files if files is not None else DiskFiles(self.root)
        self.memory = memory
        self.named: NamedCache = {} if named is None else named  # shared by the indexes of a diff's sides
        # Kustomizations a reader of the same tree parsed already (validate: its engine's), not parsed again.
        self.parsed: Parsed | None = None
        self.refs: dict[str, Refs] = {}
        self._closures: dict[str, frozenset[str]] = {}
        self._dirs: dict[str, bool] = {}
        self.files_read = 0

    def is_dir(self, path: str) -> bool:
        # Hundreds of generated variants name the same ../../base: one stat each.
        found = self._dirs.get(path)
        if found is None:
            known = self.memory.is_dir(path) if self.memory is not None else None
            found = self._dirs[path] = self.files.is_dir(path) if known is None else known
        return found

    def remember(self) -> None:
        """Keep what this index learnt of the working tree for the next run."""
        if self.memory is not None:
            self.memory.save()

    def _named(self, directory: str, rel: str, must_parse: bool) -> tuple[bool, Named | None] | None:
        """(whether the kustomization REL of DIRECTORY is plain: names nothing above itself and is not
        generated; what it names, parsed only if MUST_PARSE or not plain); None if it cannot be read."""
        memory = self.memory
        stamp = memory.stamp(rel) if memory is not None else None
        if memory is not None and stamp is not None:
            hit = memory.kust(rel, stamp)
            if hit is not None and (hit[1] is not None or (hit[0] and not must_parse)):
                return hit
        raw = self.files.read(rel)
        if raw is None:
            return None
        self.files_read += 1
        plain = b".." not in raw and not raw.startswith(HEADER_PREFIX)
        named = _named_cached(directory, raw, self.named, self.parsed) if must_parse or not plain else None
        if memory is not None and stamp is not None:
            memory.learn(rel, stamp, plain, named)
        return plain, named

    def read_refs(self, directory: str) -> Refs | None:
        """The references of the kustomization in DIRECTORY, read (or remembered) but not indexed."""
        rel = _kust_file(self.files, directory)
        found = self._named(directory, rel, must_parse=True) if rel is not None else None
        if found is None or found[1] is None:
            return None
        return _refs(found[1], self.is_dir)

    def _load(self, directory: str, must_parse: bool, name: str | None = None) -> Refs | None:
        rel = _kust_file(self.files, directory) if name is None else posixpath.join(directory, name)
        if rel is None:
            return None
        found = self._named(directory, rel, must_parse)
        if found is None:
            return None
        plain, named = found
        if named is None or (plain and not must_parse):
            refs = Refs(files={rel}, below=True)
        else:
            refs = _refs(named, self.is_dir)
            refs.files.add(rel)
        self.refs[directory] = refs
        return refs

    def hand_written(
        self, targets: list[str], parse_all: bool = False, skip: frozenset[str] | set[str] = SKIP_TOP
    ) -> None:
        """Index every kustomization outside clusters/, mapping/ (top-level SKIP) and generated variants."""
        ancestors = {posixpath.dirname(t) for t in targets}
        for t in list(ancestors):
            while t:
                t = posixpath.dirname(t)
                ancestors.add(t)
        walk = self.memory.walk() if self.memory is not None else self.files.walk()
        for rel, dirnames, filenames in walk:
            if not rel:
                dirnames[:] = [d for d in dirnames if d not in skip]
            elif rel.startswith("apps/") and rel.count("/") == 1:
                dirnames[:] = [d for d in dirnames if d != "overlays"]
            name = next((n for n in FILE_NAMES if n in filenames), None)
            if name is not None and rel not in self.refs:
                self._load(rel, must_parse=parse_all or rel in ancestors, name=name)

    def variants(self, app: str) -> None:
        for name in self.files.listdir(f"apps/{app}/overlays"):
            directory = f"apps/{app}/overlays/{name}"
            if directory not in self.refs:
                self._load(directory, must_parse=True)

    def all_variants(self) -> None:
        for app in self.files.listdir("apps"):
            self.variants(app)

    def closure(self, directory: str) -> frozenset[str]:
        """Indexed kustomization directories reachable from DIRECTORY (itself included)."""
        done = self._closures.get(directory)
        if done is not None:
            return done
        self._closures[directory] = frozenset()  # a cycle (the build reports it) ends here
        refs = self.refs.get(directory)
        if refs is None or refs.below:
            refs = self._load(directory, must_parse=True)
        if refs is None:
            return frozenset()
        found = {directory}
        for sub in refs.dirs:
            found |= self.closure(sub)
        result = frozenset(found)
        self._closures[directory] = result
        return result

    def reaching(self, targets: set[str]) -> set[str]:
        """Indexed directories from which some path in TARGETS is reachable."""
        reach: set[str] = set()
        # Every directory some target lies in (or is): "a target under D" is one set lookup.
        above = {""} if targets else set()
        for target in targets:
            while target and target not in above:
                above.add(target)
                target = posixpath.dirname(target)
        inside: set[str] = set()  # every directory some member of REACH lies strictly below
        changed = True
        while changed:
            changed = False
            for directory, refs in self.refs.items():
                if directory in reach:
                    continue
                if _hits(directory, refs, targets, reach, above, inside):
                    reach.add(directory)
                    parent = directory
                    while parent:
                        parent = posixpath.dirname(parent)
                        if parent in inside:
                            break
                        inside.add(parent)
                    changed = True
        return reach


def _under(path: str, directory: str) -> bool:
    return directory == "" or path == directory or path.startswith(directory + "/")


def _hits(
    directory: str, refs: Refs, targets: set[str], reach: set[str], above: set[str], inside: set[str]
) -> bool:
    """Whether DIRECTORY reaches a target; ABOVE holds every directory a target lies in, INSIDE every
    directory a member of REACH lies strictly below."""
    if refs.below:
        return directory in above or directory in inside
    for path in refs.files:
        if path in targets:
            return True
    if any(tree in above for tree in refs.trees):
        return True
    # A directory it names is read only below itself or through kustomizations of its own (indexed
    # or not, e.g. under clusters/): anything changed below it counts.
    return any(sub in reach or sub in above for sub in refs.dirs)


def cluster_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 2 and parts[0] in ("clusters", "mapping") and parts[1]:
        return parts[1]
    return None


def relative(root: Path, file: Path, cwd: Path | None = None) -> str | None:
    """FILE (absolute, or relative to CWD) as a repo-relative path; None when outside the repository."""
    full = file if file.is_absolute() else (cwd or Path.cwd()) / file
    full = Path(os.path.normpath(full))
    try:
        rel = full.relative_to(root.resolve())
    except ValueError:
        try:
            rel = full.resolve().relative_to(root.resolve())
        except ValueError:
            return None
    text = rel.as_posix()
    return "" if text == "." else text


def affected(
    root: Path, paths: list[str], index: Index | None = None, through_inventory: bool = False
) -> Affected:
    """The clusters that PATHS (repo-relative) can affect; INDEX, if given, is filled for reuse.

    THROUGH_INVENTORY follows paths under clusters/ and mapping/ through the kustomization graph
    too (a kustomization elsewhere may name a directory there), not only to their own cluster.
    """
    if any(p == CONFIG_PATH for p in paths):
        return Affected(True, frozenset())
    clusters = {c for c in map(cluster_of, paths) if c}
    rest = sorted(p for p in paths if (through_inventory or cluster_of(p) is None) and p)
    if not rest:
        return Affected(False, frozenset(clusters))
    index = index if index is not None else Index(root)
    # Through the inventory: kustomizations under clusters/ and mapping/ are indexed too, so a chain
    # through one of them is followed.
    index.hand_written(rest, skip={".git"} if through_inventory else SKIP_TOP)
    targets = set(rest)
    reach = index.reaching(targets)
    apps = {d.split("/")[1] for d in reach if d.startswith("apps/") and d.count("/") >= 1}
    apps |= {p.split("/")[1] for p in rest if p.startswith("apps/") and p.count("/") >= 2}
    for app in sorted(apps):
        index.variants(app)
    if apps:
        reach = index.reaching(targets)
    for name in index.files.listdir("mapping"):
        refs = index.read_refs(f"mapping/{name}")
        if refs is None:
            continue
        if refs.dirs & reach or refs.dirs & targets or refs.files & targets:
            clusters.add(name)
    return Affected(False, frozenset(clusters), frozenset(reach))


def reads(index: Index, path: str) -> bool:
    """Whether some indexed kustomization may read PATH (names it, or holds it in a directory it reads)."""
    for directory, refs in index.refs.items():
        if path in refs.files or path in refs.dirs:
            return True
        if refs.below and _under(path, directory):
            return True
        if any(_under(path, tree) for tree in refs.trees):
            return True
    return False


def near(index: Index, directory: str) -> bool:
    """Whether some indexed kustomization lies in DIRECTORY, above it, or names a path below it."""
    for rel, refs in index.refs.items():
        if _under(rel, directory) or _under(directory, rel):
            return True
        if any(_under(p, directory) for p in (*refs.files, *refs.dirs, *refs.trees)):
            return True
    return False


def affected_sides(root: Path, paths: list[str], indexes: list[Index]) -> Affected:
    """The clusters PATHS affect in any of several trees (both sides of a diff), each index filled
    completely first (every hand-written kustomization and every generated variant), so a
    hand-edited variant is followed too."""
    found = Affected(False, frozenset())
    for index in indexes:
        index.all_variants()
        found = found.union(affected(root, paths, index, through_inventory=True))
    return found
