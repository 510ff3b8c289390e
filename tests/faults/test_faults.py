"""The fast half of the fault harness: every row of tests/faults/cases.py against the contract.

Each case runs the CLI in a subprocess (under a network namespace where one can be made), on a
fresh copy of the example fleet that the row's setup spoiled, and fails with the list of broken
promises: crash, unclean message, changed files, leftovers, leaked secret, or the row's own check.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.faults.cases import CASES, Case
from tests.faults.harness import can_drop_privileges, cli, judge, netns_available, scene

NETNS = netns_available()


def _marks(case: Case) -> list[pytest.MarkDecorator]:
    marks = []
    if case.known:
        marks.append(pytest.mark.xfail(reason=f"known: {case.known}", strict=case.owner is None))
    if case.root_only and (os.geteuid() != 0 or shutil.which("chattr") is None):
        marks.append(pytest.mark.skip(reason="needs root and chattr (immutable files)"))
    if case.nobody and not can_drop_privileges():
        marks.append(pytest.mark.skip(reason="running as root without setpriv: permissions cannot bite"))
    return marks


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c.family}-{c.id}", marks=_marks(c)) for c in CASES])
def test_case(case: Case) -> None:
    with scene() as world:
        if case.setup is not None:
            case.setup(world)
        if case.nobody:
            world.run_as_nobody()
        argv = [
            a.format(repo=world.repo, out=world.out, target=world.target, base=world.base) for a in case.argv
        ]
        if "--out" in argv:
            world.watch("out", world.base / argv[argv.index("--out") + 1])
        before = world.snapshots()
        outcome = cli(argv, world.repo, as_nobody=case.nobody, netns=NETNS)
        after = world.snapshots()
        verdict = judge(
            outcome,
            case.expect,
            case.where,
            before,
            after,
            problems_ok=case.problems_ok,
            changes_ok=case.changes_ok,
            exit_code=case.exit_code,
        )
        extra = case.post(world, outcome) if case.post is not None else []
        assert verdict.clean and not extra, (
            f"{verdict}; {extra}\n--- stdout\n{outcome.out[-1500:]}\n--- stderr\n{outcome.err[-1500:]}"
        )
