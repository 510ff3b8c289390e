"""One module per command: a typed function that calls the library, writes its output and returns
the exit code. Parsing lives in ``gitops_gen.cli``; errors are raised, never turned into exits here."""

from __future__ import annotations

import sys


def warn(message: str) -> None:
    """Where the library's warnings go: one line on stderr, as soon as they arise."""
    sys.stderr.write(message + "\n")
