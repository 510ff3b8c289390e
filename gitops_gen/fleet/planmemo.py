"""generate's plan, remembered with everything it looked at: `commit` and `generate` run it on every
call, and on a fleet whose inventory and layer directories did not move it is the same plan.

A plan (``generate.plan`` over ``inventory.load_fleet``) reads the tree only through ``Tree``:
file contents, kinds and directory listings. ``Recorder`` notes each answer the tree gave; the next
run asks the same questions again (syscalls and a hash, no YAML, no rendering) and takes the
remembered plan only when every answer is the same, so it is the plan a fresh run would make.
Only a plan with nothing to write is kept (after writing, the files it read have changed).
Kept in ``.git/gitops-gen/`` like the demand cache; GITOPS_GEN_NO_CACHE turns it off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

from gitops_gen import __version__
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.generate import Plan, plan
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo.tree import DiskTree, Kind, Tree

MEMO_FILE = ("gitops-gen", "generate-plan.marshal")
MEMO_FORMAT = 1

Question = tuple[str, str]  # (read | kind | listdir, path)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class Recorder:
    """A Tree that notes the answer to every question asked of TREE."""

    def __init__(self, tree: Tree):
        self.tree = tree
        self.answers: dict[Question, Any] = {}

    def read(self, path: str) -> bytes:
        try:
            data = self.tree.read(path)
        except GitopsGenError as err:
            self.answers[("read", path)] = ("error", err.message)
            raise
        self.answers[("read", path)] = _digest(data)
        return data

    def kind(self, path: str) -> Kind | None:
        found = self.tree.kind(path)
        self.answers[("kind", path)] = found
        return found

    def listdir(self, path: str) -> list[str]:
        names = self.tree.listdir(path)
        self.answers[("listdir", path)] = tuple(names)
        return names

    def display(self, path: str) -> str:
        return self.tree.display(path)


def _answer(tree: Tree, question: Question) -> Any:
    what, path = question
    if what == "kind":
        return tree.kind(path)
    if what == "listdir":
        return tuple(tree.listdir(path))
    try:
        return _digest(tree.read(path))
    except GitopsGenError as err:
        return ("error", err.message)


def _memo_path(tree: DiskTree) -> Path | None:
    git = tree.root / ".git"
    if os.environ.get("GITOPS_GEN_NO_CACHE") or not git.is_dir():
        return None
    return git.joinpath(*MEMO_FILE)


def _remembered(path: Path, tree: DiskTree) -> Plan | None:
    try:
        data = marshal.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != (MEMO_FORMAT, __version__):
            return None
        answers: dict[Question, Any] = data["answers"]
        # A fresh tree: a DiskTree remembers paths it has resolved, and nothing here may be stale.
        fresh = DiskTree(tree.root)
        if any(_answer(fresh, q) != a for q, a in answers.items()):
            return None
        return Plan(data["files"], list(data["extra"]), [tuple(c) for c in data["changes"]])
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None


def _remember(path: Path, answers: dict[Question, Any], result: Plan) -> None:
    data = marshal.dumps(
        {
            "format": (MEMO_FORMAT, __version__),
            "answers": answers,
            "files": result.files,
            "extra": result.extra,
            "changes": result.changes,
        }
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".plan.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a memo we cannot write only costs time next run


def plan_tree(tree: DiskTree) -> Plan:
    """``plan(tree, load_fleet(tree))``, from the memo when the tree answers as it did then."""
    where = _memo_path(tree)
    if where is not None:
        known = _remembered(where, tree)
        if known is not None:
            return known
    recorder = Recorder(tree)
    result = plan(recorder, load_fleet(recorder))
    if where is not None and not result.changes:
        _remember(where, recorder.answers, result)
    return result
