"""`gitops-gen new cluster|app|layer`: scaffolds, planned whole and checked before anything is written."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.authoring.edits import parse_assignments
from gitops_gen.authoring.plan import plan_new_app, plan_new_cluster, plan_new_layer
from gitops_gen.cli.commands._change import apply, load


def new_cluster(
    repo: Path,
    name: str,
    layers: list[str],
    engine: str | None,
    from_cluster: str | None,
    kubernetes_version: str | None,
    from_nodes: Path | None = None,
) -> int:
    tree, fleet = load(repo)
    change = plan_new_cluster(
        tree, fleet, name, parse_assignments(layers, "--layer"), engine, from_cluster, kubernetes_version
    )
    if from_nodes is not None:
        from gitops_gen.cli.commands.nodes import with_snapshot_pools

        change = with_snapshot_pools(change, from_nodes)
    return apply(repo, change)


def new_app(repo: Path, name: str, image: str | None) -> int:
    tree, _ = load(repo)
    return apply(repo, plan_new_app(tree, name, image))


def new_layer(repo: Path, app: str, assignment: str) -> int:
    tree, fleet = load(repo)
    ((key, value),) = parse_assignments([assignment], "layer").items()
    return apply(repo, plan_new_layer(tree, fleet, app, key, value))
