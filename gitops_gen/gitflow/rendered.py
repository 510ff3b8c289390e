"""``commit --rendered-to PATH``: the rendered-manifests pattern.

Every cluster's objects are written as plain YAML into the git repository at
PATH, one file per object at ``<cluster>/<namespace>/<kind>-<name>.yaml`` (cluster-scoped
kinds under ``_cluster/``, namespaced objects without a namespace under ``default/``),
on a dedicated branch, so Flux or Argo CD can apply them without running kustomize.

The branch is written with git plumbing (blobs, a private index, ``commit-tree``, then one
``update-ref`` guarded by the old value), so the target's checkout, index and working tree are
never touched, and a run killed half way leaves only unreferenced objects. The one exception is
a branch the target has checked out: its clean working tree is moved along as a pull would.
``.gitops-gen-rendered`` on the branch lists the files gitops-gen wrote; only those are ever
removed, so files others keep on the branch stay.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitops_gen.errors import GitopsGenError

CLUSTER_SCOPED_DIR = "_cluster"
DEFAULT_NAMESPACE = "default"
MANIFEST = ".gitops-gen-rendered"
# A path part made of an object's namespace, kind or name: what Kubernetes allows there, no more.
SAFE_PART = re.compile(r"[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?\Z")
# The layout older versions wrote without a manifest: <cluster>/<namespace>/<kind>-<name>.yaml.
LEGACY = re.compile(r"[^/]+/[^/]+/[^/]+\.yaml\Z")
INDEX_PREFIX = "gitops-gen-index."


@dataclass(frozen=True)
class Rendered:
    """The files of the rendered branch, checked, ready to be written after the source commit."""

    target: Path
    branch: str
    files: dict[str, bytes]


def _part(value: object, what: str, where: str) -> str:
    text = str(value).lower() if what == "kind" else str(value)
    if not SAFE_PART.match(text) or text in (".", ".."):
        raise GitopsGenError(
            f"{where}: {what} {str(value)!r} cannot name a file of the rendered branch "
            "(it must be a lowercase DNS name); nothing was committed"
        )
    return text


def object_path(cluster: str, obj: dict[str, object], cluster_scoped: bool) -> str:
    """Where OBJ of CLUSTER goes on the rendered branch; refuses parts that would leave their directory."""
    md = obj.get("metadata")
    md = md if isinstance(md, dict) else {}
    where = f"cluster {cluster}, {obj.get('kind', 'object')}/{md.get('name', 'unnamed')}"
    if cluster_scoped:
        ns = CLUSTER_SCOPED_DIR
    else:
        ns = _part(md.get("namespace") or DEFAULT_NAMESPACE, "namespace", where)
    kind = _part(obj.get("kind", "object"), "kind", where)
    name = _part(md.get("name", "unnamed"), "name", where)
    return f"{_part(cluster, 'cluster name', where)}/{ns}/{kind}-{name}.yaml"


def render_files(repo: Path) -> dict[str, bytes]:
    from gitops_gen.fleet.render import DocumentCache, fleet_clusters
    from gitops_gen.kustomize.build import Engine, ParseCache
    from gitops_gen.repo.tree import DiskTree

    tree = DiskTree(repo)
    engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
    docs = DocumentCache()
    files: dict[str, bytes] = {}
    for cluster in fleet_clusters(tree):
        for res in engine.build(f"mapping/{cluster}"):
            files[object_path(cluster, res.obj, res.is_cluster_scoped())] = docs.dump(res.obj).encode()
    return files


def _toplevel(path: Path) -> Path | None:
    out = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    return Path(out.stdout.strip()).resolve() if out.returncode == 0 and out.stdout.strip() else None


def prepare_rendered(repo: Path, target: Path, branch: str) -> Rendered:
    """Check TARGET and BRANCH and render every file before anything is committed anywhere."""
    if (
        branch.startswith("-")
        or subprocess.run(
            ["git", "check-ref-format", "--branch", branch], capture_output=True, check=False
        ).returncode
        != 0
    ):
        raise GitopsGenError(f"--branch {branch!r} is not a valid branch name")
    if not target.is_dir():
        raise GitopsGenError(f"--rendered-to {target}: no such directory")
    top = _toplevel(target)
    if top is None:
        raise GitopsGenError(f"--rendered-to {target} is not a git repository")
    source = repo.resolve()
    if source == top or top in source.parents:
        raise GitopsGenError(
            f"--rendered-to {target}: that repository holds the fleet itself; "
            "render into a separate repository"
        )
    return Rendered(top, branch, render_files(repo))


class _Git:
    """git plumbing in TARGET with a private index file (removed afterwards, even on failure)."""

    def __init__(self, target: Path):
        self.target = target
        git_dir = self.run("rev-parse", "--absolute-git-dir").strip()
        self.git_dir = Path(git_dir)
        _remove_dead_indexes(self.git_dir)
        self.index = self.git_dir / f"{INDEX_PREFIX}{os.getpid()}"
        self.env = {**os.environ, "GIT_INDEX_FILE": str(self.index)}

    def run(self, *args: str, data: bytes | None = None, check: bool = True, private: bool = False) -> str:
        env = getattr(self, "env", None) if private else None
        proc = subprocess.run(
            ["git", "-C", str(self.target), *args], input=data, capture_output=True, check=False, env=env
        )
        if check and proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"]
            raise GitopsGenError(f"git {args[0]} in {self.target} failed: {reason[-1]}")
        return proc.stdout.decode("utf-8", "replace")

    def close(self) -> None:
        for path in (self.index, self.index.with_name(self.index.name + ".lock")):
            path.unlink(missing_ok=True)


def _remove_dead_indexes(git_dir: Path) -> None:
    from gitops_gen.repo.files import pid_alive

    for entry in git_dir.glob(f"{INDEX_PREFIX}*"):
        pid = entry.name[len(INDEX_PREFIX) :].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            entry.unlink(missing_ok=True)


def _owned(g: _Git, parent: str | None) -> set[str]:
    """The files an earlier run wrote on the branch: its manifest, or for a branch from before
    manifests, the files in the rendered layout."""
    if parent is None:
        return set()
    listed = g.run("ls-tree", "-r", "--name-only", "-z", parent).split("\0")
    if MANIFEST in listed:
        return {p for p in g.run("show", f"{parent}:{MANIFEST}").splitlines() if p}
    return {p for p in listed if LEGACY.match(p)}


def commit_rendered(
    rendered: Rendered, source: str, push: bool, say: Callable[[str], None] | None = None
) -> None:
    """Commit RENDERED's files on its branch of the target (when anything changed); SAY hears what."""
    say = say or (lambda _: None)
    target, branch, files = rendered.target, rendered.branch, rendered.files
    g = _Git(target)
    try:
        ref = f"refs/heads/{branch}"
        parent = g.run("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).strip() or None
        g.run("read-tree", parent or "--empty", private=True)
        owned = _owned(g, parent)
        manifest = "".join(f"{p}\n" for p in sorted(files)).encode()
        lines = []
        for rel, data in [*sorted(files.items()), (MANIFEST, manifest)]:
            blob = g.run("hash-object", "-w", "--stdin", data=data).strip()
            lines.append(f"100644 {blob}\t{rel}")
        lines += [f"0 {'0' * 40}\t{rel}" for rel in sorted(owned - set(files))]
        g.run("update-index", "--index-info", data=("\n".join(lines) + "\n").encode(), private=True)
        tree = g.run("write-tree", private=True).strip()
        if parent and g.run("rev-parse", f"{parent}^{{tree}}").strip() == tree:
            say(f"rendered manifests in {target} ({branch}) already current")
            return
        clusters = sorted({p.split("/", 1)[0] for p in files})
        msg = f"Render {source[:12]}: {len(clusters)} cluster(s)\n\nSource-Commit: {source}\n"
        commit = g.run(
            "commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-", data=msg.encode()
        ).strip()
        checked_out = g.run("symbolic-ref", "-q", "HEAD", check=False).strip() == ref
        if checked_out and parent and g.run("status", "--porcelain", "--untracked-files=no").strip():
            raise GitopsGenError(
                f"--rendered-to {target}: branch {branch} is checked out there with "
                "uncommitted changes; commit or stash them first"
            )
        g.run("update-ref", "-m", f"gitops-gen: render {source[:12]}", ref, commit, parent or "0" * 40)
        if checked_out:
            # Move the clean checkout along as a pull would: only the files that changed are touched.
            g.run("read-tree", "-m", "-u", *([parent] if parent else []), commit)
    finally:
        g.close()
    say(f"rendered manifests committed in {target} ({branch}) {commit[:12]}")
    if push:
        proc = subprocess.run(
            ["git", "-C", str(target), "push", "-u", "origin", branch],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            raise GitopsGenError(f"git push of {branch} failed (the local commit stays): {reason}")
