"""One progress bar for long runs (render, validate, diff): on stderr, only on a terminal, only when
there are more than PROGRESS_MIN clusters, never in CI. Library code reports progress through a
``(done, total)`` callback; this module is the CLI side that turns the calls into a bar."""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

import click

PROGRESS_MIN = 50


def wanted(total: int) -> bool:
    return total > PROGRESS_MIN and sys.stderr.isatty() and not os.environ.get("CI")


class Progress:
    """A ``(done, total)`` callback drawing a bar labelled LABEL; the bar starts on the first call
    that makes it worth showing, and ``with`` closes it (the line ends) however the run ends."""

    def __init__(self, label: str):
        self.label = label
        self.bar: Any = None
        self.shown = 0
        self.off = False

    def __call__(self, done: int, total: int) -> None:
        if self.off:
            return
        if self.bar is None:
            if not wanted(total):
                self.off = True
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, exc, tb)
            self.bar = None
