"""generate's plan, remembered with everything it looked at: `commit` and `generate` run it on every
call, and on a fleet whose inventory and layer directories did not move it is the same plan.

A plan (``generate.plan`` over ``inventory.load_fleet``) reads the tree only through ``Tree``:
file contents, kinds and directory listings. ``Recorder`` notes each answer the tree gave; the next
run asks the same questions again (syscalls and a hash, no YAML, no rendering) and takes the
remembered plan only when every answer is the same, so it is the plan a fresh run would make. A file
that had settled when it was read is known by its stamp (``DiskTree.stamp``: one stat, as git's index
knows a clean file), so a repeated run reads almost nothing.
Only a plan with nothing to write is kept (after writing, the files it read have changed).
Kept in ``.git/gitops-gen/`` like the demand cache; GITOPS_GEN_NO_CACHE turns it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from time import time_ns
from typing import Any

from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.generate import Plan, plan
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo import memo
from gitops_gen.repo.tree import DiskTree, Kind, Stamp, Tree, file_stamp, settled

MEMO_FILE = "generate-plan.marshal"
MEMO_FORMAT = 2

Question = tuple[str, str]  # (read | kind | listdir, path)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class Recorder:
    """A Tree that notes the answer to every question asked of TREE, and the stamp of each file read
    that had settled (``tree.settled``): the next run trusts that file's stamp instead of reading it."""

    def __init__(self, tree: DiskTree):
        self.tree = tree
        self.answers: dict[Question, Any] = {}
        self.stamps: dict[str, Stamp] = {}
        self.started = time_ns()  # no read is earlier

    def read(self, path: str) -> bytes:
        try:
            data = self.tree.read(path)
        except GitopsGenError as err:
            self.answers[("read", path)] = ("error", err.message)
            raise
        self.answers[("read", path)] = _digest(data)
        found = self.tree.stamp(path)
        if found is not None and settled(found, self.started):
            self.stamps[path] = found
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


def _remembered(path: Path, tree: DiskTree) -> Plan | None:
    data = memo.load(path, MEMO_FORMAT)
    if data is None:
        return None
    try:
        answers: dict[Question, Any] = data["answers"]
        stamps: dict[str, Stamp] = data["stamps"]
        # A fresh tree: a DiskTree remembers paths it has resolved, and nothing here may be stale.
        fresh = DiskTree(tree.root)
        started = time_ns()
        settling: dict[str, Stamp] = {}  # files read now whose stamps the next run can trust
        top = str(fresh.root)
        for question, known in answers.items():
            what, rel = question
            # The same inode with the same times and size: the very file read then, unchanged (one stat,
            # not a walk of the path: where it lies was checked when it was read).
            if what == "read" and rel in stamps and file_stamp(os.path.join(top, rel)) == stamps[rel]:
                continue
            if _answer(fresh, question) != known:
                return None
            found = fresh.stamp(rel) if what == "read" else None
            if found is not None and settled(found, started):
                settling[rel] = found
        result = Plan(data["files"], list(data["extra"]), [tuple(c) for c in data["changes"]])
    except (ValueError, TypeError, KeyError, GitopsGenError):
        return None  # GitopsGenError: a fresh plan says it with its context
    if settling:
        _remember(path, answers, {**stamps, **settling}, result)
    return result


def _remember(path: Path, answers: dict[Question, Any], stamps: dict[str, Stamp], result: Plan) -> None:
    memo.store(
        path,
        MEMO_FORMAT,
        {
            "answers": answers,
            "stamps": stamps,
            "files": result.files,
            "extra": result.extra,
            "changes": result.changes,
        },
    )


def plan_tree(tree: DiskTree) -> Plan:
    """``plan(tree, load_fleet(tree))``, from the memo when the tree answers as it did then."""
    where = memo.memo_path(tree.root, MEMO_FILE)
    if where is not None:
        known = _remembered(where, tree)
        if known is not None:
            return known
    recorder = Recorder(tree)
    result = plan(recorder, load_fleet(recorder))
    if where is not None and not result.changes:
        _remember(where, recorder.answers, recorder.stamps, result)
    return result
