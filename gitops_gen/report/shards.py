"""Shard results: what `validate --shard I/N` and `diff --shard I/N` write, and their merge.

A shard result is one JSON document (``--format json`` of a sharded run) holding everything
the merge needs to print what one unsharded run prints, in any format, with its exit code:

    {"gitopsGenShard": 1, "command": "diff", "shard": "2/4", "clusters": [...], "run": {...},
     "result": {...}}

``run`` says what was run (options, revisions, commit); the merge refuses results of different
runs, a shard given twice, a missing shard, or shards of different N, naming the file. The
merge itself is pure: ``merge_validate`` gives the parts ``checks.partial.finish_parts`` joins,
``merge_diff`` one ``FleetDiff`` for the ordinary diff reporters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_gen import __version__
from gitops_gen.errors import GitopsGenError, Problem, UsageError

if TYPE_CHECKING:
    from gitops_gen.checks.partial import Part
    from gitops_gen.fleet.shard import Shard
    from gitops_gen.fleetview.change import PoolChange
    from gitops_gen.gitflow.diff import FleetDiff

FORMAT = 1
KEY = "gitopsGenShard"


def document(command: str, shard: Shard, clusters: list[str], run: dict[str, Any], result: Any) -> str:
    """A shard result as JSON text, every string in it scrubbed of the repository's secret values first
    (JSON escapes quotes and non-ASCII letters, which would hide a value from a scrub of the text, and
    the merge has no repository to find them in)."""
    doc = {
        KEY: FORMAT,
        "command": command,
        "shard": shard.label(),
        "clusters": clusters,
        "run": {**run, "version": __version__},  # another gitops-gen may judge differently
        "result": result,
    }
    return json.dumps(_scrubbed(doc), indent=2) + "\n"


def _scrubbed(node: Any) -> Any:
    from gitops_gen import secrets

    if isinstance(node, str):
        return secrets.scrub(node)
    if isinstance(node, dict):
        return {_scrubbed(k): _scrubbed(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_scrubbed(v) for v in node]
    return node


# ---------------------------------------------------------------- reading a set of shard results


def shard_files(paths: Iterable[Path]) -> list[tuple[Path, bool]]:
    """PATHS, with each directory replaced by the *.json files under it (sorted); each with whether it
    was found in a directory (where the results of another command are passed over)."""
    out: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            out.extend((p, True) for p in sorted(path.rglob("*.json")) if p.is_file())
        elif path.is_file():
            out.append((path, False))
        else:
            raise UsageError(f"--from-shards {path}: no such file or directory")
    if not out:
        raise UsageError("--from-shards: no shard results (*.json) found")
    return out


def _read(path: Path, command: str, in_directory: bool = False) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise GitopsGenError(f"not a gitops-gen shard result: {err}", str(path)) from None
    if not isinstance(doc, dict) or doc.get(KEY) is None:
        raise GitopsGenError(
            f"not a gitops-gen shard result (run `gitops-gen {command} --shard I/N --format json`)", str(path)
        )
    if doc.get(KEY) != FORMAT:
        raise GitopsGenError(
            f"shard result format {doc.get(KEY)!r}, this gitops-gen reads {FORMAT}", str(path)
        )
    if doc.get("command") != command:
        if in_directory and isinstance(doc.get("command"), str):
            return None  # validate's and diff's results may share one directory
        raise GitopsGenError(f"a shard result of `{doc.get('command')}`, not of `{command}`", str(path))
    if not isinstance(doc.get("run"), dict) or not isinstance(doc.get("result"), dict):
        raise GitopsGenError("a shard result without its run or result: truncated or edited?", str(path))
    from gitops_gen.fleet.shard import parse_shard

    try:
        doc["_shard"] = parse_shard(str(doc.get("shard")))
    except UsageError as err:
        raise GitopsGenError(err.message, str(path)) from None
    return doc


def read_results(paths: Iterable[Path], command: str) -> list[dict[str, Any]]:
    """The shard results of COMMAND in PATHS, in shard order: every shard of one run exactly once."""
    docs: dict[int, tuple[Path, dict[str, Any]]] = {}
    first: tuple[Path, dict[str, Any]] | None = None
    for path, in_directory in shard_files(paths):
        doc = _read(path, command, in_directory)
        if doc is None:
            continue
        shard = doc["_shard"]
        if first is None:
            first = (path, doc)
        elif doc["run"] != first[1]["run"]:
            raise GitopsGenError(
                f"not the same run as {first[0]}: {_difference(first[1]['run'], doc['run'])}", str(path)
            )
        elif shard.total != first[1]["_shard"].total:
            raise GitopsGenError(
                f"shard {shard.label()}, but {first[0]} is of {first[1]['_shard'].label()}", str(path)
            )
        if shard.index in docs:
            raise GitopsGenError(f"shard {shard.label()} again (also in {docs[shard.index][0]})", str(path))
        docs[shard.index] = (path, doc)
    if first is None:
        raise UsageError(f"--from-shards: no shard results of `{command}` found")
    total = first[1]["_shard"].total
    missing = [str(i) for i in range(1, total + 1) if i not in docs]
    if missing:
        raise GitopsGenError(f"shard result(s) missing: {', '.join(missing)} of {total}")
    return [docs[i][1] for i in range(1, total + 1)]


def _difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "; ".join(f"{k} {json.dumps(a.get(k))} vs {json.dumps(b.get(k))}" for k in keys)


# ---------------------------------------------------------------- validate


def _problem(d: dict[str, Any]) -> Problem:
    return Problem(
        str(d["path"]),
        int(d["line"]),
        int(d["col"]),
        str(d["severity"]),
        str(d["rule"]),
        str(d["message"]),
        tuple(d.get("clusters") or ()),
    )


def part_json(part: Part) -> dict[str, Any]:
    return {
        "levels": part.levels,
        "fleetWide": [asdict(p) for p in part.fleet_wide],
        "perCluster": [asdict(p) for p in part.per_cluster],
        "patchHits": {
            d: {"users": n, "patches": [list(h) for h in hits]} for d, (n, hits) in part.patch_hits.items()
        },
        "layerUnused": None if part.layer_unused is None else [asdict(p) for p in part.layer_unused],
    }


def part_of(result: dict[str, Any]) -> Part:
    from gitops_gen.checks.partial import Part

    unused = result.get("layerUnused")
    return Part(
        dict(result.get("levels") or {}),
        [_problem(p) for p in result.get("fleetWide") or []],
        [_problem(p) for p in result.get("perCluster") or []],
        {
            d: (
                int(v["users"]),
                [(str(h[0]), int(h[1]), int(h[2]), str(h[3]), bool(h[4])) for h in v["patches"]],
            )
            for d, v in (result.get("patchHits") or {}).items()
        },
        None if unused is None else [_problem(p) for p in unused],
    )


def merge_validate(docs: list[dict[str, Any]]) -> list[Problem]:
    """The problems one validate over every shard's clusters reports."""
    from gitops_gen.checks.partial import finish_parts

    try:
        return finish_parts(part_of(d["result"]) for d in docs)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise GitopsGenError(f"a shard result is malformed: {type(err).__name__}: {err}") from None


# ---------------------------------------------------------------- diff


def _figures(value: Any) -> tuple[int | None, int, int] | None:
    return None if value is None else (value[0], int(value[1]), int(value[2]))


def diff_json(fd: FleetDiff, capacity: list[PoolChange] | None) -> dict[str, Any]:
    """FD in full (sources and capacity included, which `--format json` leaves out); CAPACITY None:
    the capacity summary could not be computed on this shard."""
    return {
        "base": fd.base,
        "head": fd.head,
        "unchanged": fd.unchanged,
        "clusters": [
            {
                "name": cd.name,
                "status": cd.status,
                "gpuBefore": cd.gpu_before,
                "gpuAfter": cd.gpu_after,
                "changes": [
                    {
                        "key": list(c.key),
                        "status": c.status,
                        "diff": c.diff,
                        "oldName": c.old_name,
                        "fields": c.fields,
                        "sources": c.sources,
                    }
                    for c in cd.changes
                ],
            }
            for cd in fd.clusters
        ],
        "capacity": None if capacity is None else [asdict(p) for p in capacity],
    }


def merge_diff(docs: list[dict[str, Any]]) -> FleetDiff:
    """The fleet diff one run over every shard's clusters gives."""
    try:
        return _merge_diff([d["result"] for d in docs])
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise GitopsGenError(f"a shard result is malformed: {type(err).__name__}: {err}") from None


def _merge_diff(results: list[dict[str, Any]]) -> FleetDiff:
    from gitops_gen.fleetview.change import PoolChange
    from gitops_gen.gitflow.diff import ClusterDiff, FleetDiff, ObjectChange

    clusters = [
        ClusterDiff(
            str(c["name"]),
            str(c["status"]),
            [
                ObjectChange(
                    (str(o["key"][0]), str(o["key"][1]), str(o["key"][2])),
                    str(o["status"]),
                    str(o["diff"]),
                    str(o["oldName"]),
                    [str(f) for f in o["fields"]],
                    {str(k): str(v) for k, v in o["sources"].items()},
                )
                for o in c["changes"]
            ],
            {str(k): int(v) for k, v in c["gpuBefore"].items()},
            {str(k): int(v) for k, v in c["gpuAfter"].items()},
        )
        for r in results
        for c in r["clusters"]
    ]
    clusters.sort(key=lambda cd: cd.name)  # one run goes through the clusters by name
    capacity: list[PoolChange] = []
    # One run's capacity summary is all or nothing: a shard that could not compute it voids it.
    if all(r["capacity"] is not None for r in results):
        pools = [
            PoolChange(
                str(p["cluster"]),
                str(p["pool"]),
                str(p["hardware"]),
                str(p["resource"]),
                _figures(p["before"]),
                _figures(p["after"]),
                [str(a) for a in p["apps"]],
            )
            for r in results
            for p in r["capacity"]
        ]
        capacity = sorted(pools, key=lambda p: p.cluster)  # stable: each cluster's own order stays
    first = results[0]
    return FleetDiff(
        str(first["base"]), str(first["head"]), clusters, sum(int(r["unchanged"]) for r in results), capacity
    )
