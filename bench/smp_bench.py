#!/usr/bin/env python3
"""Time ``gitops_gen.kustomize.smp.merge`` on the merges a real fleet render performs.

    .venv/bin/python bench/smp_bench.py [--clusters 10 --apps 12] [--old OLD_SMP.py [--old-openapi OLD_OPENAPI.py]]

Writes a synthetic fleet with ``bench/fleetgen.py`` into a temp dir, runs ``generate`` and renders every
cluster once with ``smp.merge`` wrapped to record its inputs (the engine's real bases, patches and
metadata), then adds the recorded kubectl cases of ``tests/data/smp``. Each input is then merged many
times and the mean time per merge is printed for the non-mutating default and for
``consume_base=True`` (the engine's contract: it hands over ``res.obj``).

``--old`` imports another copy of ``smp.py`` (e.g. the version before an optimisation, copied to
/tmp) under a private module name and times it on the same inputs, checking both give equal results.
``--old-openapi`` does the same for the schema module that copy should use.
"""

from __future__ import annotations

import argparse
import importlib.util
import marshal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import fleetgen  # noqa: E402

from gitops_gen.kustomize import openapi, smp  # noqa: E402

# (base, patch, apiVersion, kind) as the engine passed them.
Case = tuple[dict[str, Any], dict[str, Any], str, str]


def _copy(obj: Any) -> Any:
    return marshal.loads(marshal.dumps(obj))


def _generate(repo: Path) -> None:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "gitops_gen", "generate", "--repo", str(repo)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def record_fleet(clusters: int, apps: int) -> list[Case]:
    from gitops_gen.fleet.render import fleet_clusters
    from gitops_gen.kustomize.build import Engine, ParseCache
    from gitops_gen.repo.tree import DiskTree

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        fleetgen.main([str(repo), "--clusters", str(clusters), "--apps", str(apps)])
        _generate(repo)
        tree = DiskTree(repo)
        recorded: list[Case] = []
        real_merge = smp.merge

        def recording(base: Any, patch: Any, meta: Any = None, **kw: Any) -> Any:
            api_version, kind = str(base.get("apiVersion", "")), str(base.get("kind", ""))
            recorded.append((_copy(base), _copy(patch), api_version, kind))
            return real_merge(base, patch, meta, **kw)

        smp.merge = recording
        try:
            engine = Engine(tree, parse_cache=ParseCache(), warnings=False)
            for name in sorted(fleet_clusters(tree)):
                engine.build(f"mapping/{name}")
        finally:
            smp.merge = real_merge
    return recorded


def data_cases() -> list[Case]:
    out: list[Case] = []
    for case in sorted((ROOT / "tests" / "data" / "smp").glob("*/patch.yaml")):
        if (case.parent / "expected.error").exists():
            continue
        base = yaml.load((case.parent / "base.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        patch = yaml.load(case.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        out.append((base, patch, str(base.get("apiVersion", "")), str(base.get("kind", ""))))
    return out


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


Merge = Callable[[dict[str, Any], dict[str, Any], Any], Any]


def time_merges(
    merges: dict[str, tuple[Merge, Callable[[str, str], Any], bool]], cases: list[Case], rounds: int
) -> dict[str, float]:
    """Best mean milliseconds per merge of each named merge function.

    Rounds alternate between the functions so that a busy machine slows all of
    them alike. A function marked as consuming gets a fresh copy of each base
    (made outside the timed loop).
    """
    best = dict.fromkeys(merges, float("inf"))
    for _ in range(rounds):
        for label, (merge, meta_of, consumes) in merges.items():
            metas = [meta_of(api_version, kind) for _, _, api_version, kind in cases]
            bases = [_copy(c[0]) for c in cases] if consumes else [c[0] for c in cases]
            patches = [_copy(c[1]) for c in cases]
            start = time.perf_counter()
            for base, patch, meta in zip(bases, patches, metas, strict=True):
                merge(base, patch, meta)
            best[label] = min(best[label], time.perf_counter() - start)
    return {label: seconds * 1000 / len(cases) for label, seconds in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--apps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=7, help="repeat and keep the best round")
    parser.add_argument("--old", type=Path, help="another smp.py to compare against")
    parser.add_argument("--old-openapi", type=Path, help="the openapi.py that --old should use")
    args = parser.parse_args(argv)

    sets = {"fleet render": record_fleet(args.clusters, args.apps), "tests/data/smp": data_cases()}
    old: ModuleType | None = None
    old_meta: Callable[[str, str], Any] = openapi.patch_meta
    if args.old:
        if args.old_openapi:
            old_openapi = load_module("_bench_old_openapi", args.old_openapi)
            old_openapi.TABLE_PATH = openapi.TABLE_PATH  # type: ignore[attr-defined]
            old_meta = old_openapi.patch_meta
        old = load_module("_bench_old_smp", args.old)
        if args.old_openapi:
            old.patch_meta = old_meta  # type: ignore[attr-defined]

    def fast(base: dict[str, Any], patch: dict[str, Any], meta: Any) -> Any:
        return smp.merge(base, patch, meta, consume_base=True)

    print(f"fleet: {args.clusters} clusters x {args.apps} apps; best of {args.rounds} rounds; ms per merge")
    for label, cases in sets.items():
        if old is not None:
            for base, patch, api_version, kind in cases:
                want = old.merge(_copy(base), _copy(patch), old_meta(api_version, kind))
                got = smp.merge(
                    _copy(base), _copy(patch), openapi.patch_meta(api_version, kind), consume_base=True
                )
                if want != got:
                    print(f"MISMATCH in {label}: {kind} {base.get('metadata')}")
                    return 1
        merges: dict[str, tuple[Merge, Callable[[str, str], Any], bool]] = {
            "new default": (smp.merge, openapi.patch_meta, False),
            "new consume_base": (fast, openapi.patch_meta, True),
        }
        if old is not None:
            merges["old"] = (old.merge, old_meta, False)
        ms = time_merges(merges, cases, args.rounds)
        row = [f"{label:<16} {len(cases):>5} merges"]
        row += [f"{name} {ms[name]:.4f}" for name in ("old", "new default", "new consume_base") if name in ms]
        if old is not None:
            row.append(
                f"speed-up {ms['old'] / ms['new default']:.1f}x / {ms['old'] / ms['new consume_base']:.1f}x"
            )
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
