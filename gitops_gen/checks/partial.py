"""What one run of validate found, before the fleet-wide sums: the unit shards hand to a merge.

A whole validate is one ``Part`` finished; ``validate --shard I/N`` writes its part and
``validate --from-shards`` finishes the parts of all N shards together, so both go through
``finish_parts`` and cannot drift apart. Which problems are which:

- ``fleet_wide``: inventory schemas, generated files, missing bases, layer values, unknown rule
  levels. Computed over the whole fleet, by one shard only (``Shard.first``).
- ``per_cluster``: what a cluster's own render shows (render, Kubernetes schemas, sync objects,
  GPU feasibility, images), already grouped with the clusters they occur on. Each cluster is in
  exactly one shard; the merge joins the cluster lists of equal problems.
- ``patch_hits``: per kustomization directory, the clusters reaching it and whether each targeted
  patch matched anything; summed over shards, then judged (``patch-target-unmatched``).
- ``layer_unused``: the layer directories no cluster of this part reaches (None: not checked); a
  directory is unused when it is so in every part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from gitops_gen.checks import hygiene, registry
from gitops_gen.errors import Problem


@dataclass
class Part:
    levels: dict[str, str] = field(default_factory=dict)
    fleet_wide: list[Problem] = field(default_factory=list)
    per_cluster: list[Problem] = field(default_factory=list)
    patch_hits: dict[str, tuple[int, list[hygiene.PatchHit]]] = field(default_factory=dict)
    layer_unused: list[Problem] | None = None


def join_clusters(problems: Iterable[Problem]) -> list[Problem]:
    """Equal problems once, with the union of the clusters they were found on."""
    by_problem: dict[Problem, set[str]] = {}
    for problem in problems:
        by_problem.setdefault(replace(problem, clusters=()), set()).update(problem.clusters)
    return [replace(p, clusters=tuple(sorted(names))) for p, names in by_problem.items()]


def join_hits(parts: Iterable[Part]) -> dict[str, tuple[int, list[hygiene.PatchHit]]]:
    """Users added up and hits ORed, per directory and patch."""
    users: dict[str, int] = {}
    hits: dict[str, dict[tuple[str, int, int, str], bool]] = {}
    for part in parts:
        for directory, (count, patches) in part.patch_hits.items():
            users[directory] = users.get(directory, 0) + count
            seen = hits.setdefault(directory, {})
            for path, line, col, target, hit in patches:
                key = (path, line, col, target)
                seen[key] = seen.get(key, False) or hit
    return {d: (users[d], [(*key, hit) for key, hit in hits[d].items()]) for d in users}


def finish_parts(parts: Iterable[Part]) -> list[Problem]:
    """The problems of the parts together, as one run over all their clusters reports them: sorted,
    de-duplicated, the fleet's rule levels applied."""
    parts = list(parts)
    levels: Mapping[str, str] = next((p.levels for p in parts if p.levels), {})
    problems = [q for p in parts for q in p.fleet_wide]
    problems.extend(join_clusters(q for p in parts for q in p.per_cluster))
    problems.extend(hygiene.unmatched_problems(join_hits(parts)))
    unused = [set(p.layer_unused) for p in parts if p.layer_unused is not None]
    if unused and len(unused) == len(parts):
        problems.extend(set.intersection(*unused))
    return sorted(set(registry.configure(problems, levels)))
