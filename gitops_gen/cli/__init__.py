"""The thin click shell. Each command delegates to one typed function returning an exit code.

Exit codes: 0 ok, 1 problems in the input (GitopsGenError or findings), 2 usage, 3 a bug in gitops-gen.
Command modules are imported lazily so `gitops-gen build` does not pay for git or jsonschema.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gitops_gen.errors import GitopsGenError

FORMATS = click.Choice(["text", "json"])


def find_repo(repo: str | None) -> Path:
    """--repo, else the git top-level of the cwd, else the cwd."""
    if repo:
        path = Path(repo).resolve()
        if not path.is_dir():
            raise click.BadParameter(f"{repo} is not a directory", param_hint="--repo")
        return path
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        top = ""
    return Path(top).resolve() if top else Path.cwd().resolve()


def run(fn: Callable[..., int] | str, **kwargs: Any) -> None:
    """The one top-level handler: user errors are one line and exit 1; anything else is a bug, exit 3.

    FN may be "module:function", imported here so that a broken module is reported as a bug too.
    """
    try:
        if isinstance(fn, str):
            import importlib

            module, _, name = fn.partition(":")
            fn = getattr(importlib.import_module(module), name)
        assert callable(fn)
        code = fn(**kwargs)
    except GitopsGenError as err:
        click.echo(f"gitops-gen: error: {err}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except BrokenPipeError:
        sys.exit(1)
    except Exception as err:
        import traceback

        traceback.print_exc()
        click.echo(f"gitops-gen: internal error (a bug, please report it): {type(err).__name__}: {err}", err=True)
        sys.exit(3)
    sys.exit(code)


repo_option = click.option("--repo", "repo", default=None, help="Fleet repository (default: git top-level of cwd).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gitops-gen")
def main() -> None:
    """Compose, validate, render and diff the Kustomize tree of a GPU Kubernetes fleet."""


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(["python", "kustomize"]), default="python", show_default=True)
def build(directory: Path, engine: str) -> None:
    """Print what `kustomize build DIRECTORY` prints."""
    run("gitops_gen.fleet.render:cmd_build", directory=directory, engine=engine)


@main.command()
@repo_option
@click.option("--check", is_flag=True, help="Write nothing; list stale, missing and extra generated files.")
def generate(repo: str | None, check: bool) -> None:
    """Write every generated file (variants, mappings, sync objects)."""
    run("gitops_gen.fleet.generate:cmd_generate", repo=find_repo(repo), check=check)


@main.command()
@repo_option
@click.option("--cluster", "clusters", multiple=True, help="Render only this cluster (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--engine", type=click.Choice(["python", "kustomize"]), default="python", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the CPUs available).")
def render(repo: str | None, clusters: tuple[str, ...], out: Path | None, engine: str, jobs: int | None) -> None:
    """Render each cluster's mapping; one file per cluster."""
    run("gitops_gen.fleet.render:cmd_render", repo=find_repo(repo), clusters=list(clusters), out=out, engine=engine,
        jobs=jobs)


@main.command()
@repo_option
@click.option("--cluster", "clusters", multiple=True, help="Validate only this cluster (repeatable).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate(repo: str | None, clusters: tuple[str, ...], fmt: str, files: tuple[Path, ...]) -> None:
    """Run every check; with FILEs only the clusters those files affect."""
    run("gitops_gen.checks.validate:cmd_validate", repo=find_repo(repo), clusters=list(clusters), files=list(files), fmt=fmt)


@main.command()
@repo_option
@click.option("--base", "base", required=True, help="Base git revision.")
@click.option("--head", "head", default=None, help="Head revision (default: the working tree).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--exit-code", "exit_code", is_flag=True, help="Exit 1 when anything differs.")
@click.option("--max-chars", "max_chars", type=int, default=60000, show_default=True, help="Markdown size cap.")
def diff(repo: str | None, base: str, head: str | None, fmt: str, exit_code: bool, max_chars: int) -> None:
    """Per-cluster rendered diff between two git revisions."""
    run("gitops_gen.gitflow.diff:cmd_diff", repo=find_repo(repo), base=base, head=head, fmt=fmt, exit_code=exit_code, max_chars=max_chars)


@main.command()
@repo_option
@click.option("--cluster", "cluster", required=True)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.argument("obj")
@click.argument("field")
def explain(repo: str | None, cluster: str, fmt: str, obj: str, field: str) -> None:
    """The chain of files and lines that set FIELD of KIND/NAME."""
    run("gitops_gen.provenance.explain:cmd_explain", repo=find_repo(repo), cluster=cluster, obj=obj, field=field, fmt=fmt)


@main.command()
@repo_option
@click.option("-m", "--message", "message", required=True)
@click.option("--push", is_flag=True)
@click.option("--rendered-to", "rendered_to", type=click.Path(path_type=Path), default=None)
@click.option("--branch", "branch", default="rendered", show_default=True)
def commit(repo: str | None, message: str, push: bool, rendered_to: Path | None, branch: str) -> None:
    """Generate, validate, then commit the generated files."""
    run("gitops_gen.gitflow.commit:cmd_commit", repo=find_repo(repo), message=message, push=push, rendered_to=rendered_to, branch=branch)


from gitops_gen.cli.authoring import register  # noqa: E402

register(main)


if __name__ == "__main__":
    main()
