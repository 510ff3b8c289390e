"""The thin click shell: options are parsed here; each command is a typed function in
``gitops_gen.cli.commands.<name>`` that calls the library and returns an exit code.

Exit codes, decided only in ``run``: 0 ok, 1 problems in the input (GitopsGenError, or
findings a command reports), 2 usage (click's, a UsageError, or no gitops-gen.yaml at the
repository), 3 a bug in gitops-gen, 130 Ctrl-C.
Command modules are imported inside the callbacks, so `gitops-gen build` does not pay
for git or jsonschema, and an import that fails is reported as the bug it is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from gitops_gen import __version__
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleetview import render as fleet_reports
from gitops_gen.report import diff as diff_reports
from gitops_gen.report import explain as explain_reports
from gitops_gen.report import problems as problem_reports

ENGINES = click.Choice(["flux", "argocd"])


CONFIG_FILE = "gitops-gen.yaml"


def find_repo(repo: str | None) -> Path:
    """--repo, else the git top-level of the cwd, else the cwd; it must hold gitops-gen.yaml (else exit 2)."""
    if repo:
        path = Path(repo).resolve()
        if not path.is_dir():
            raise click.BadParameter(f"{repo} is not a directory", param_hint="--repo")
    else:
        try:
            top = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            top = ""
        path = Path(top).resolve() if top else Path.cwd().resolve()
    if not (path / CONFIG_FILE).is_file():
        click.echo(
            f"gitops-gen: error: not a gitops-gen fleet: no {CONFIG_FILE} at {path} (give --repo DIR)",
            err=True,
        )
        sys.exit(2)
    from gitops_gen import secrets

    return secrets.note_root(path)


# Every recursive walk over user data (loader, emitter, merge, JSON patch, provenance, diff) takes a
# few frames per level; this leaves room for the deepest document the loader accepts (MAX_DEPTH).
RECURSION_LIMIT = 20_000


class Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so temp files go and half-done writes roll back."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: Any) -> None:
    if os.getpid() != _MAIN_PID:  # a forked render worker: die as the signal says, the parent cleans up
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise Terminated(signum)


_MAIN_PID = os.getpid()


def one_line(text: str) -> str:
    """TEXT's summary on one line: line breaks (from names, refs or dumps) shown escaped. What git
    said, indented under the summary (see gitflow.git.indented), stays on its own lines."""
    summary, sep, said = text.strip("\n").partition("\n    ")
    return summary.replace("\r", "\\r").replace("\n", "\\n") + sep + said


def run(command: Callable[[], Any]) -> NoReturn:
    """The one top-level handler: user errors are one line and exit 1; anything else is a bug, exit 3."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    # Restored afterwards: a host process (tests, an embedding tool) keeps its own handlers and limits.
    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGTERM, signal.SIGHUP)}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        _run(command)
    finally:
        # Only a command that imported the lock module can hold a lock (build and --version do not).
        files = sys.modules.get("gitops_gen.repo.files")
        if files is not None:
            files.release_repo_locks()
        sys.setrecursionlimit(limit)
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(signum, handler)


def _run(command: Callable[[], Any]) -> NoReturn:
    try:
        code = command()
    except GitopsGenError as err:
        from gitops_gen import secrets

        click.echo(f"gitops-gen: error: {one_line(secrets.scrub(str(err)))}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Terminated as err:
        sys.exit(128 + err.signum)
    except RecursionError:
        from gitops_gen.repo.yamlio import MAX_DEPTH

        click.echo(
            f"gitops-gen: error: the input is nested too deeply (gitops-gen handles at most {MAX_DEPTH} "
            "levels)",
            err=True,
        )
        sys.exit(1)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except BrokenPipeError:
        sys.exit(1)
    except Exception as err:
        import traceback

        traceback.print_exc()
        click.echo(
            f"gitops-gen: internal error (a bug, please report it): {type(err).__name__}: {err}", err=True
        )
        sys.exit(3)
    sys.exit(code or 0)


class Shell(click.Group):
    """The top-level group: every command, nested ones included, runs inside ``run``."""

    def invoke(self, ctx: click.Context) -> Any:
        run(lambda: super(Shell, self).invoke(ctx))


repo_option = click.option(
    "--repo", "repo", default=None, help="Fleet repository (default: git top-level of cwd)."
)


def _parse_shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from gitops_gen.errors import UsageError
    from gitops_gen.fleet.shard import parse_shard

    try:
        return parse_shard(value)
    except UsageError as err:
        raise click.BadParameter(
            err.message.removeprefix(f"--shard {value!r}: ").removeprefix(f"--shard {value}: ")
        ) from None


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one process below 50 clusters, else the CPUs free now).",
)


shard_option = click.option(
    "--shard",
    "shard",
    default=None,
    metavar="I/N",
    callback=_parse_shard,
    help="Only shard I of N (from 1): a stable split of the clusters balanced by their size (CI matrices).",
)
from_shards_option = click.option(
    "--from-shards",
    "from_shards",
    multiple=True,
    metavar="PATH",
    type=click.Path(exists=True, path_type=Path),
    help="Merge the --shard results (files, or directories of *.json): the output and exit code of one run.",
)


@click.group(cls=Shell, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, package_name="gitops-gen")  # given: no importlib.metadata lookup
@click.option(
    "--helm-command",
    "helm_command",
    default=None,
    envvar="GITOPS_GEN_HELM_COMMAND",
    metavar="PATH",
    help="Render helmCharts with this helm binary instead of the in-process helm-python-sdk.",
)
def main(helm_command: str | None) -> None:
    """Compose, validate, render and diff the Kustomize tree of a GPU Kubernetes fleet."""
    if helm_command:
        from gitops_gen.kustomize.builtins import helm

        helm.use_command(helm_command)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(["python", "kustomize"]), default="python", show_default=True)
def build(directory: Path, engine: str) -> int:
    """Print what `kustomize build DIRECTORY` prints."""
    from gitops_gen.cli.commands.build import build

    return build(directory, engine)


@main.command()
@repo_option
@click.option("--check", is_flag=True, help="Write nothing; list stale, missing and extra generated files.")
def generate(repo: str | None, check: bool) -> int:
    """Write every generated file (variants, mappings, sync objects)."""
    from gitops_gen.cli.commands.generate import generate

    return generate(find_repo(repo), check)


@main.command()
@repo_option
@click.option("--cluster", "clusters", multiple=True, help="Render only this cluster (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--engine", type=click.Choice(["python", "kustomize"]), default="python", show_default=True)
@jobs_option
@click.option(
    "--applied",
    is_flag=True,
    help="What the GitOps engine applies: sync-object transforms, post-build variables, Helm.",
)
@shard_option
def render(
    repo: str | None,
    clusters: tuple[str, ...],
    out: Path | None,
    engine: str,
    jobs: int | None,
    applied: bool,
    shard: Any,
) -> int:
    """Render each cluster's mapping; one file per cluster."""
    from gitops_gen.cli.commands.render import render

    return render(find_repo(repo), list(clusters), out, engine, jobs, applied, shard)


@main.command()
@repo_option
@click.option("--cluster", "clusters", multiple=True, help="Validate only this cluster (repeatable).")
@click.option(
    "--format", "fmt", type=click.Choice(list(problem_reports.REPORTERS)), default="text", show_default=True
)
@click.option(
    "--list-rules", "list_rules", is_flag=True, help="List every rule (id, severity, scope) and exit."
)
@click.option(
    "--staged",
    is_flag=True,
    help="Only the clusters the staged changes affect, deletions and renames included (the pre-commit hook).",
)
@click.option("--strict", "strict", is_flag=True, help="Exit 1 on warnings too.")
@jobs_option
@shard_option
@from_shards_option
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate(
    repo: str | None,
    clusters: tuple[str, ...],
    fmt: str,
    list_rules: bool,
    staged: bool,
    strict: bool,
    jobs: int | None,
    shard: Any,
    from_shards: tuple[Path, ...],
    files: tuple[Path, ...],
) -> int:
    """Run every check; with FILEs (or --staged) only the clusters those files affect."""
    from gitops_gen.cli.commands import validate as command

    if list_rules:
        return command.list_rules(fmt)
    if staged and files:
        raise click.UsageError("give FILEs or --staged, not both")
    if from_shards:
        if shard is not None or clusters or files or staged or repo:
            raise click.UsageError(
                "--from-shards merges finished shard results: give --cluster, FILEs, --staged and --repo "
                "to the --shard runs"
            )
        return command.merge(list(from_shards), fmt, strict)
    if shard is not None and (fmt != "json" or strict):
        raise click.UsageError(
            "--shard writes a shard result for --from-shards: give --format json "
            "(--format and --strict go with the merge)"
        )
    return command.validate(find_repo(repo), list(clusters), list(files), fmt, staged, strict, shard, jobs)


@main.command()
@repo_option
@click.option("--base", "base", default=None, help="Base git revision (required but with --from-shards).")
@click.option("--head", "head", default=None, help="Head revision (default: the working tree).")
@click.option(
    "--format", "fmt", type=click.Choice(list(diff_reports.REPORTERS)), default="text", show_default=True
)
@click.option(
    "--exit-code",
    "exit_code",
    is_flag=True,
    help="Exit 1 when anything differs, 0 when nothing does, 2 on any error (as git diff).",
)
@click.option(
    "--max-chars", "max_chars", type=int, default=60000, show_default=True, help="Markdown size cap."
)
@jobs_option
@shard_option
@from_shards_option
def diff(
    repo: str | None,
    base: str | None,
    head: str | None,
    fmt: str,
    exit_code: bool,
    max_chars: int,
    jobs: int | None,
    shard: Any,
    from_shards: tuple[Path, ...],
) -> int:
    """Per-cluster rendered diff between two git revisions."""
    from gitops_gen.cli.commands import diff as command

    if from_shards:
        if shard is not None or base or head or repo:
            raise click.UsageError(
                "--from-shards merges finished shard results: give --base, --head and --repo to the --shard runs"
            )
        return command.merge(list(from_shards), fmt, exit_code, max_chars)
    if base is None:
        raise click.UsageError("Missing option '--base' (or merge shard results with --from-shards).")
    if shard is not None and (fmt != "json" or exit_code):
        raise click.UsageError(
            "--shard writes a shard result for --from-shards: give --format json "
            "(--format and --exit-code go with the merge)"
        )
    return command.diff(find_repo(repo), base, head, fmt, exit_code, max_chars, shard, jobs)


@main.command()
@repo_option
@click.option("--cluster", "cluster", required=True)
@click.option(
    "--format", "fmt", type=click.Choice(list(explain_reports.REPORTERS)), default="text", show_default=True
)
@click.argument("obj")
@click.argument("field")
def explain(repo: str | None, cluster: str, fmt: str, obj: str, field: str) -> int:
    """The chain of files and lines that set FIELD of KIND/NAME."""
    from gitops_gen.cli.commands.explain import explain

    return explain(find_repo(repo), cluster, obj, field, fmt)


@main.command()
@repo_option
@click.option("-m", "--message", "message", required=True)
@click.option("--push", is_flag=True)
@click.option("--rendered-to", "rendered_to", type=click.Path(path_type=Path), default=None)
@click.option("--branch", "branch", default="rendered", show_default=True)
def commit(repo: str | None, message: str, push: bool, rendered_to: Path | None, branch: str) -> int:
    """Generate, validate, then commit the generated files."""
    from gitops_gen.cli.commands.commit import commit

    return commit(find_repo(repo), message, push, rendered_to, branch)


# ---------------------------------------------------------------- authoring: plan the whole change, then write


@main.group("new")
def new() -> None:
    """Scaffold a cluster, an app or a layer component."""


@new.command("cluster")
@repo_option
@click.argument("name")
@click.option(
    "--layer", "layers", multiple=True, metavar="KEY=VALUE", help="One per layer of gitops-gen.yaml."
)
@click.option("--engine", type=ENGINES, default=None, help="GitOps engine (default: gitops-gen.yaml's).")
@click.option(
    "--from",
    "from_cluster",
    default=None,
    metavar="CLUSTER",
    help="Copy node pools, Kubernetes version and apps from this cluster.",
)
@click.option("--kubernetes-version", "kubernetes_version", default=None, metavar="V")
@click.option(
    "--from-nodes",
    "from_nodes",
    default=None,
    metavar="NODES.json",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Node pools from `kubectl get nodes -o json` output (grouped by GPU and pool labels).",
)
def new_cluster(
    repo: str | None,
    name: str,
    layers: tuple[str, ...],
    engine: str | None,
    from_cluster: str | None,
    kubernetes_version: str | None,
    from_nodes: Path | None,
) -> int:
    """Write clusters/NAME/cluster.yaml, then regenerate."""
    from gitops_gen.cli.commands.new import new_cluster

    if from_nodes is not None and from_cluster is not None:
        raise click.UsageError("give either --from or --from-nodes (not both)")
    return new_cluster(
        find_repo(repo), name, list(layers), engine, from_cluster, kubernetes_version, from_nodes
    )


@new.command("app")
@repo_option
@click.argument("name")
@click.option("--image", default=None, help="Container image, pinned to a tag or digest.")
def new_app(repo: str | None, name: str, image: str | None) -> int:
    """Scaffold apps/NAME/base/ (a GPU Deployment and its Service); adds it to no cluster."""
    from gitops_gen.cli.commands.new import new_app

    return new_app(find_repo(repo), name, image)


@new.command("layer")
@repo_option
@click.argument("app")
@click.argument("assignment", metavar="KEY=VALUE")
def new_layer(repo: str | None, app: str, assignment: str) -> int:
    """Scaffold the component apps/APP/KEY/VALUE/ with an empty patch of the app's Deployment."""
    from gitops_gen.cli.commands.new import new_layer

    return new_layer(find_repo(repo), app, assignment)


def _toggle(enabled: bool) -> Callable[..., int]:
    @repo_option
    @click.argument("app")
    @click.option("--cluster", "clusters", multiple=True, metavar="C", help="This cluster (repeatable).")
    @click.option(
        "--where",
        "where",
        multiple=True,
        metavar="KEY=VALUE",
        help="Every cluster whose layer KEY is VALUE (repeatable, ANDed).",
    )
    def command(repo: str | None, app: str, clusters: tuple[str, ...], where: tuple[str, ...]) -> int:
        from gitops_gen.cli.commands.enable import enable

        return enable(find_repo(repo), app, enabled, list(clusters), list(where))

    verb = "Enable" if enabled else "Disable"
    command.__doc__ = f"{verb} APP in spec.apps of the chosen clusters, then regenerate."
    return command


main.add_command(click.command("enable")(_toggle(True)))
main.add_command(click.command("disable")(_toggle(False)))


@main.group("set")
def set_group() -> None:
    """Change a setting of an app."""


@set_group.command("image")
@repo_option
@click.argument("app")
@click.argument("image", metavar="IMAGE[:TAG|@DIGEST]")
@click.option(
    "--layer",
    "layer",
    default=None,
    metavar="KEY=VALUE",
    help="Set it in that layer component (default: the app's base).",
)
def set_image(repo: str | None, app: str, image: str, layer: str | None) -> int:
    """Set the kustomize images: entry for IMAGE, then regenerate."""
    from gitops_gen.cli.commands.set import set_image

    return set_image(find_repo(repo), app, image, layer)


@set_group.command("mig-profile")
@repo_option
@click.option("--app", "app", required=True)
@click.option(
    "--layer",
    "layer",
    default=None,
    metavar="KEY=VALUE",
    help="Rewrite that layer component's patches (default: the app's base).",
)
@click.argument("old", metavar="FROM")
@click.argument("new", metavar="TO")
def set_mig_profile(repo: str | None, app: str, layer: str | None, old: str, new: str) -> int:
    """Rewrite requests of nvidia.com/mig-FROM to nvidia.com/mig-TO (comments kept), then regenerate."""
    from gitops_gen.cli.commands.set import set_mig_profile

    return set_mig_profile(find_repo(repo), app, layer, old, new)


# ---------------------------------------------------------------- fleet views


@main.command("report")
@repo_option
@click.option(
    "--format", "fmt", type=click.Choice(list(fleet_reports.RENDERERS)), default="text", show_default=True
)
@click.option("--cluster", "clusters", multiple=True, help="Only this cluster (repeatable).")
@click.option("--base", "base", default=None, metavar="REF", help="Show what the change from REF does.")
@click.option(
    "--head",
    "head",
    default=None,
    metavar="REF",
    help="With --base: the head revision (default: the working tree).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE, not stdout."
)
def report(
    repo: str | None,
    fmt: str,
    clusters: tuple[str, ...],
    base: str | None,
    head: str | None,
    out: Path | None,
) -> int:
    """Capacity ledger (GPU / MIG supply vs demand per pool) and version matrix (apps x clusters)."""
    from gitops_gen.cli.commands.report import report

    if head and not base:
        raise click.UsageError("--head needs --base")
    return report(find_repo(repo), fmt, list(clusters), base, head, out)


@main.group("nodes")
def nodes() -> None:
    """Compare the inventory with real nodes."""


@nodes.command("check")
@repo_option
@click.option("--cluster", "cluster", required=True, help="The cluster the snapshot was taken from.")
@click.option(
    "--format", "fmt", type=click.Choice(list(problem_reports.REPORTERS)), default="text", show_default=True
)
@click.argument(
    "snapshot", metavar="NODES.json", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
def nodes_check(repo: str | None, cluster: str, fmt: str, snapshot: Path) -> int:
    """Check `kubectl get nodes -o json` output (NODES.json, - for stdin) against the cluster's nodePools."""
    from gitops_gen.cli.commands.nodes import nodes_check

    return nodes_check(find_repo(repo), cluster, snapshot, fmt)


if __name__ == "__main__":
    main()
