"""Every validate rule, in one list: id, default severity, scope, summary and the check emitting it.

A rule is declared as a ``Rule`` constant next to its check (``fleet.inventory``,
``fleet.generate``, ``checks.k8sschema``, ``checks.hygiene``, ``checks.gpu.rules``, or here for
the orchestration's own); ``RULES`` gathers them. ``configure`` applies a fleet's
``rules:`` levels from gitops-gen.yaml and refuses problems whose rule is not registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from gitops_gen.applied import rules as applied_rules
from gitops_gen.checks import hygiene, k8sschema, namespaces, silent
from gitops_gen.checks.gpu import rules as gpu_rules
from gitops_gen.checks.model import LEVELS, Problem, Rule
from gitops_gen.fleet import generate, inventory

RENDER = Rule(
    "render",
    "error",
    "kustomization",
    "a cluster's mapping does not build (at the file:line the engine names)",
    "checks.validate.validate",
)

RULES: tuple[Rule, ...] = (
    *inventory.RULES,
    *generate.RULES,
    RENDER,
    *k8sschema.RULES,
    *namespaces.RULES,
    *silent.RULES,
    *gpu_rules.RULES,
    *hygiene.RULES,
    *applied_rules.RULES,
)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
assert len(BY_ID) == len(RULES), "two rules share an id"


def unknown_levels(levels: Mapping[str, str]) -> list[str]:
    """Rule ids of gitops-gen.yaml's `rules:` that are not registered (the schema checks the levels)."""
    return [rule_id for rule_id in levels if rule_id not in BY_ID]


def configure(problems: Iterable[Problem], levels: Mapping[str, str]) -> list[Problem]:
    """PROBLEMS with the fleet's levels applied: `off` drops a rule, `error`/`warning` replaces its severity."""
    out = []
    for problem in problems:
        if problem.rule not in BY_ID:
            raise AssertionError(f"rule {problem.rule!r} is emitted but not in checks.registry.RULES")
        level = levels.get(problem.rule)
        if level == "off":
            continue
        if level is not None and level != problem.severity:
            assert level in LEVELS
            problem = replace(problem, severity=level)
        out.append(problem)
    return out


def enabled(*rules: Rule, levels: Mapping[str, str]) -> bool:
    """Whether any of RULES is on: validate skips a check whose every rule the fleet turned off."""
    return any(levels.get(rule.id) != "off" for rule in rules)


def table(rules: Iterable[Rule] = RULES) -> str:
    """The rules as a Markdown table (the README's; `python -m gitops_gen.checks.registry` prints it)."""
    rows = ["| rule | severity | scope | what it finds |", "|---|---|---|---|"]
    rows += [f"| `{r.id}` | {r.severity} | {r.scope} | {r.summary.replace('|', '/')} |" for r in rules]
    return "\n".join(rows) + "\n"


def listing(rules: Iterable[Rule] = RULES) -> str:
    """The rules as aligned text, one a line (`validate --list-rules`)."""
    rules = list(rules)
    width = max(len(r.id) for r in rules)
    scope = max(len(r.scope) for r in rules)
    return "".join(
        f"{r.id.ljust(width)}  {r.severity.ljust(7)}  {r.scope.ljust(scope)}  {r.summary}\n" for r in rules
    )


if __name__ == "__main__":
    # The README's rule table: paste between its `<!-- rules: begin -->` / `<!-- rules: end -->` lines.
    print(table(), end="")
