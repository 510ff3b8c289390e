#!/usr/bin/env python3
"""What tracing a chart-rendered field costs, next to the plain build and render it adds nothing to.

    python bench/charttrace.py [--rounds 20]

On the example fleet's zone-1-prod (the llm-server HelmRelease) and the helmCharts test case
(tests/data/charttrace/helmcharts), side by side and alternating, with fresh engines and an empty
Helm cache each round: a plain build through the applied view (what render --applied, validate and
diff do), the traced build (explain's), and explain of a GPU limit (the traced build plus the marker
and probe renders). Prints the best round of each, the ratios to the plain build, and how many Helm
renders each did (tracing must add none to the plain build).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops_gen.applied.view import applied_view  # noqa: E402
from gitops_gen.kustomize.build import Engine  # noqa: E402
from gitops_gen.kustomize.builtins import helm  # noqa: E402
from gitops_gen.provenance.explain import explain, find_object  # noqa: E402
from gitops_gen.provenance.provenance import Locator, chain, parse_field, rejoin_keys  # noqa: E402
from gitops_gen.repo.tree import DiskTree  # noqa: E402

CASE = ROOT / "tests" / "data" / "charttrace" / "helmcharts"
LIMIT = "spec.template.spec.containers[name=server].resources.limits"


def counted(fn: Callable[[], object]) -> tuple[float, int]:
    """Seconds FN took, and the Helm renders it asked the backend for (cache emptied first)."""
    real = helm.backend()
    calls = [0]

    def render(request: helm.Request) -> helm.Rendered:
        calls[0] += 1
        return real(request)

    helm._backend, helm._cache = render, {}
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start, calls[0]
    finally:
        helm._backend = real


def fleet_plain() -> None:
    tree = DiskTree(ROOT)
    engine = Engine(tree, warnings=False)
    applied_view(tree, engine, "zone-1-prod", engine.build("mapping/zone-1-prod"))


def fleet_traced() -> None:
    tree = DiskTree(ROOT)
    engine = Engine(tree, trace=True, warnings=False)
    applied_view(tree, engine, "zone-1-prod", engine.build("mapping/zone-1-prod"))


def fleet_explain() -> None:
    explain(DiskTree(ROOT), "zone-1-prod", "Deployment/llm-server", f"{LIMIT}.nvidia.com/gpu")


def case_plain() -> None:
    Engine(DiskTree(CASE), warnings=False).build("")


def case_traced() -> None:
    Engine(DiskTree(CASE), trace=True, warnings=False).build("")


def case_explain() -> None:
    tree = DiskTree(CASE)
    res = find_object(Engine(tree, trace=True, warnings=False).build(""), "Deployment/llm-serve")
    path = rejoin_keys(res.obj, parse_field(f"{LIMIT}.nvidia.com/mig-3g.40gb"))
    chain(res, path, Locator(tree))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    helm.backend()  # load the library once, outside the timings
    rows = {
        "fleet zone-1-prod: plain build + applied view": fleet_plain,
        "fleet zone-1-prod: traced build + applied view": fleet_traced,
        "fleet zone-1-prod: explain llm-server GPU limit": fleet_explain,
        "helmCharts case: plain build": case_plain,
        "helmCharts case: traced build": case_traced,
        "helmCharts case: traced build + chain of a GPU limit": case_explain,
    }
    best = {name: float("inf") for name in rows}
    renders = {name: 0 for name in rows}
    for _ in range(args.rounds):
        for name, fn in rows.items():
            seconds, calls = counted(fn)
            best[name] = min(best[name], seconds)
            renders[name] = calls
    names = list(rows)
    for i, name in enumerate(names):
        base = best[names[0] if i < 3 else names[3]]
        print(
            f"{name:55s} {best[name] * 1000:8.1f} ms  x{best[name] / base:5.2f}  helm renders: {renders[name]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
