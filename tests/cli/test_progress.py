"""The progress bar: on a terminal and above PROGRESS_MIN clusters only, never in CI; library code
only calls back (done, total)."""

from __future__ import annotations

import io
import sys

import pytest

from gitops_gen.checks.validate import validate
from gitops_gen.cli.progress import PROGRESS_MIN, Progress
from gitops_gen.repo.tree import DiskTree
from tests.fleetrepo import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def draw(total: int) -> str:
    with Progress("checking") as progress:
        for done in range(total + 1):
            progress(done, total)
    assert isinstance(sys.stderr, io.StringIO)
    return sys.stderr.getvalue()


def test_a_bar_on_a_terminal_for_a_large_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", Terminal())
    out = draw(PROGRESS_MIN + 1)
    assert out.count("checking  [") > 1  # redrawn as clusters finish
    assert out.rstrip("\n").endswith("100%\x1b[?25h") and out.endswith("\n")  # drawn to the end, line ended


@pytest.mark.parametrize(
    ("tty", "ci", "total"),
    [(False, None, 500), (True, "true", 500), (True, None, PROGRESS_MIN)],
)
def test_nothing_when_not_a_terminal_in_ci_or_a_small_fleet(
    tty: bool, ci: str | None, total: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys, "stderr", Terminal() if tty else io.StringIO())
    assert draw(total) == ""


def test_validate_reports_each_cluster_then_the_end() -> None:
    calls: list[tuple[int, int]] = []
    validate(DiskTree(ROOT), on_progress=lambda done, total: calls.append((done, total)))
    clusters = len([p for p in (ROOT / "clusters").iterdir() if (p / "cluster.yaml").is_file()])
    assert calls == [(i, clusters) for i in range(clusters + 1)]
