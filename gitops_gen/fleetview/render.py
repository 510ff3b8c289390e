"""The report in the format asked for: one entry point for the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# The CLI imports this module for its format names: the heavy modules load only when a report is made.
if TYPE_CHECKING:
    from gitops_gen.fleetview.views import Report
    from gitops_gen.repo.tree import Tree


def _json(report: Report) -> str:
    from gitops_gen.fleetview import jsondoc

    return jsondoc.dumps(jsondoc.report_dict(report.layers, report.ledger, report.matrix))


def _text(report: Report) -> str:
    from gitops_gen.fleetview.text import render_text

    return render_text(report)


def _markdown(report: Report) -> str:
    from gitops_gen.fleetview.markdown import render_markdown

    return render_markdown(report)


def _html(report: Report) -> str:
    from gitops_gen.fleetview.html import render_html

    return render_html(report)


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": _text,
    "json": _json,
    "markdown": _markdown,
    "html": _html,
}


def open_tree(repo: Path, rev: str | None) -> Tree:
    """The working tree (REV None) or a git revision of REPO."""
    from gitops_gen.repo.tree import DiskTree, GitTree

    if rev is None:
        return DiskTree(repo)
    import git

    from gitops_gen.errors import GitopsGenError

    try:
        grepo = git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitopsGenError(f"{repo} is not a git repository (--base needs one)") from None
    return GitTree(grepo, rev)


def report_text(
    repo: Path, fmt: str, clusters: list[str], base: str | None = None, head: str | None = None
) -> str:
    if base is None:
        from gitops_gen.fleetview.views import build_report

        return RENDERERS[fmt](build_report(open_tree(repo, None), clusters or None))
    from gitops_gen.fleetview.change import RENDERERS as CHANGE_RENDERERS
    from gitops_gen.fleetview.change import compare, report_at
    from gitops_gen.kustomize.build import ParseCache

    cache = ParseCache()
    before = report_at(open_tree(repo, base), clusters, cache, base)
    after = report_at(open_tree(repo, head), clusters, cache, head or "worktree")
    return CHANGE_RENDERERS[fmt](compare(before, after))
