"""`gitops-gen set image APP IMAGE`."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.authoring.edits import parse_assignments
from gitops_gen.authoring.plan import plan_set_image
from gitops_gen.cli.commands._change import apply, load


def set_image(repo: Path, app: str, image: str, layer: str | None) -> int:
    tree, fleet = load(repo)
    target = next(iter(parse_assignments([layer], "--layer").items())) if layer else None
    return apply(repo, plan_set_image(tree, fleet, app, image, target))


def set_mig_profile(repo: Path, app: str, layer: str | None, old: str, new: str) -> int:
    from gitops_gen.authoring.migprofile import plan_set_mig_profile

    tree, fleet = load(repo)
    target = next(iter(parse_assignments([layer], "--layer").items())) if layer else None
    return apply(repo, plan_set_mig_profile(tree, fleet, app, target, old, new))
