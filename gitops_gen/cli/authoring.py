"""The authoring commands: `new cluster|app|layer`, `enable`, `disable`, `set image`.

Each is a thin click function calling ``run(cmd_x, ...)``. A ``cmd_x`` plans the
whole change (see gitops_gen.authoring.edits), checks the repository as it will be
(inventory and generate plan) and only then writes: the edited files, then the
generated ones, as `gitops-gen generate` would. Bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gitops_gen.authoring.edits import Change
    from gitops_gen.fleet.inventory import Fleet
    from gitops_gen.repo.tree import DiskTree

ENGINES = click.Choice(["flux", "argocd"])
# The same option as gitops_gen.cli's; not imported from there because cli.py imports this module.
repo_option = click.option("--repo", "repo", default=None, help="Fleet repository (default: git top-level of cwd).")


def _run(fn: Callable[..., int], repo: str | None, **kwargs: object) -> None:
    from gitops_gen.cli import find_repo, run

    run(fn, repo=find_repo(repo), **kwargs)


def _load(repo: Path) -> tuple[DiskTree, Fleet]:
    from gitops_gen.fleet.inventory import load_fleet
    from gitops_gen.repo.tree import DiskTree

    tree = DiskTree(repo)
    return tree, load_fleet(tree)


def apply_change(repo: Path, change: Change) -> list[tuple[str, str]]:
    """Write CHANGE and regenerate; (path, created|edited|written|removed) for everything touched.

    The repository as it will be is checked first (inventory, generate plan), so
    a change that would leave it broken fails before any file is written.
    """
    from gitops_gen.authoring.edits import OverlayTree
    from gitops_gen.fleet.generate import apply_plan, plan
    from gitops_gen.fleet.inventory import load_fleet
    from gitops_gen.repo.files import inside, write_atomic
    from gitops_gen.repo.tree import DiskTree

    disk = DiskTree(repo)
    after = OverlayTree(disk, change.files)
    generated = plan(after, load_fleet(after))
    root = repo.resolve()
    targets = {path: inside(root, path) for path in change.files}
    done = [(path, "edited" if disk.kind(path) == "file" else "created") for path in sorted(change.files)]
    for path in sorted(change.files):
        write_atomic(targets[path], change.files[path])
    return done + apply_plan(repo, generated)


def report(repo: Path, change: Change) -> int:
    for note in change.notes:
        click.echo(f"note: {note}")
    if not change.files:
        click.echo("nothing to change")
        return 0
    for path, what in apply_change(repo, change):
        click.echo(f"{path}: {what}")
    click.echo(f"clusters affected: {', '.join(change.clusters) or 'none'}")
    return 0


# ---------------------------------------------------------------- the command functions


def cmd_new_cluster(repo: Path, name: str, layers: list[str], engine: str | None, from_cluster: str | None,
                    kubernetes_version: str | None) -> int:
    from gitops_gen.authoring.edits import parse_assignments, plan_new_cluster

    tree, fleet = _load(repo)
    change = plan_new_cluster(tree, fleet, name, parse_assignments(layers, "--layer"), engine, from_cluster,
                              kubernetes_version)
    return report(repo, change)


def cmd_new_app(repo: Path, name: str, image: str | None) -> int:
    from gitops_gen.authoring.edits import plan_new_app

    tree, _ = _load(repo)
    return report(repo, plan_new_app(tree, name, image))


def cmd_new_layer(repo: Path, app: str, assignment: str) -> int:
    from gitops_gen.authoring.edits import parse_assignments, plan_new_layer

    tree, fleet = _load(repo)
    ((key, value),) = parse_assignments([assignment], "layer").items()
    return report(repo, plan_new_layer(tree, fleet, app, key, value))


def cmd_enable(repo: Path, app: str, enabled: bool, clusters: list[str], where: list[str]) -> int:
    from gitops_gen.authoring.edits import parse_assignments, plan_enable

    if bool(clusters) == bool(where):
        raise click.UsageError("give either --cluster or --where (not both)")
    tree, fleet = _load(repo)
    change = plan_enable(tree, fleet, app, enabled, clusters, parse_assignments(where, "--where"))
    return report(repo, change)


def cmd_set_image(repo: Path, app: str, image: str, layer: str | None) -> int:
    from gitops_gen.authoring.edits import parse_assignments, plan_set_image

    tree, fleet = _load(repo)
    target = next(iter(parse_assignments([layer], "--layer").items())) if layer else None
    return report(repo, plan_set_image(tree, fleet, app, image, target))


# ---------------------------------------------------------------- click


@click.group("new")
def new() -> None:
    """Scaffold a cluster, an app or a layer component."""


@new.command("cluster")
@repo_option
@click.argument("name")
@click.option("--layer", "layers", multiple=True, metavar="KEY=VALUE", help="One per layer of gitops-gen.yaml.")
@click.option("--engine", type=ENGINES, default=None, help="GitOps engine (default: gitops-gen.yaml's).")
@click.option("--from", "from_cluster", default=None, metavar="CLUSTER",
              help="Copy node pools, Kubernetes version and apps from this cluster.")
@click.option("--kubernetes-version", "kubernetes_version", default=None, metavar="V")
def new_cluster(repo: str | None, name: str, layers: tuple[str, ...], engine: str | None, from_cluster: str | None,
                kubernetes_version: str | None) -> None:
    """Write clusters/NAME/cluster.yaml, then regenerate."""
    _run(cmd_new_cluster, repo, name=name, layers=list(layers), engine=engine,
        from_cluster=from_cluster, kubernetes_version=kubernetes_version)


@new.command("app")
@repo_option
@click.argument("name")
@click.option("--image", default=None, help="Container image, pinned to a tag or digest.")
def new_app(repo: str | None, name: str, image: str | None) -> None:
    """Scaffold apps/NAME/base/ (a GPU Deployment and its Service); adds it to no cluster."""
    _run(cmd_new_app, repo, name=name, image=image)


@new.command("layer")
@repo_option
@click.argument("app")
@click.argument("assignment", metavar="KEY=VALUE")
def new_layer(repo: str | None, app: str, assignment: str) -> None:
    """Scaffold the component apps/APP/KEY/VALUE/ with an empty patch of the app's Deployment."""
    _run(cmd_new_layer, repo, app=app, assignment=assignment)


def _toggle(enabled: bool) -> Callable[..., None]:
    @repo_option
    @click.argument("app")
    @click.option("--cluster", "clusters", multiple=True, metavar="C", help="This cluster (repeatable).")
    @click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
                  help="Every cluster whose layer KEY is VALUE (repeatable, ANDed).")
    def command(repo: str | None, app: str, clusters: tuple[str, ...], where: tuple[str, ...]) -> None:
        _run(cmd_enable, repo, app=app, enabled=enabled, clusters=list(clusters), where=list(where))

    verb = "Enable" if enabled else "Disable"
    command.__doc__ = f"{verb} APP in spec.apps of the chosen clusters, then regenerate."
    return command


@click.group("set")
def set_group() -> None:
    """Change a setting of an app."""


@set_group.command("image")
@repo_option
@click.argument("app")
@click.argument("image", metavar="IMAGE[:TAG|@DIGEST]")
@click.option("--layer", "layer", default=None, metavar="KEY=VALUE",
              help="Set it in that layer component (default: the app's base).")
def set_image(repo: str | None, app: str, image: str, layer: str | None) -> None:
    """Set the kustomize images: entry for IMAGE, then regenerate."""
    _run(cmd_set_image, repo, app=app, image=image, layer=layer)


def register(main: click.Group) -> None:
    """Add the authoring commands to the top-level group."""
    main.add_command(new)
    main.add_command(click.command("enable")(_toggle(True)))
    main.add_command(click.command("disable")(_toggle(False)))
    main.add_command(set_group)
