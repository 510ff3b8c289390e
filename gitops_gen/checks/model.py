"""What validate's findings are made of: a ``Problem`` at a source line, and the ``Rule`` it breaks.

Each rule is declared once, as a ``Rule`` constant next to the check that emits it; the
constant's ``id`` is what that check puts in its problems. ``checks.registry`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_gen.errors import Problem

__all__ = ["LEVELS", "SCOPES", "SEVERITIES", "Problem", "Rule", "Scope", "Severity"]

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
# What gitops-gen.yaml's `rules:` may set a rule to.
LEVELS = (*SEVERITIES, "off")

# Where a rule looks: the inventory files, a kustomization, one rendered object, or a whole
# cluster's rendered objects against its node pools.
Scope = Literal["inventory", "kustomization", "rendered object", "cluster capacity"]
SCOPES: tuple[Scope, ...] = ("inventory", "kustomization", "rendered object", "cluster capacity")


@dataclass(frozen=True)
class Rule:
    """One validate rule. SEVERITY is its default (a few rules also emit the other one for milder
    cases, see their summaries); CHECK names the function that emits it."""

    id: str
    severity: Severity
    scope: Scope
    summary: str
    check: str

    def __str__(self) -> str:
        return self.id
