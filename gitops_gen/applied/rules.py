"""The validate rules of the applied view (registered in checks.registry)."""

from __future__ import annotations

from gitops_gen.checks.model import Rule

POSTBUILD_UNSET = Rule(
    "postbuild-unset",
    "warning",
    "rendered object",
    "a manifest uses a Flux post-build variable the cluster does not set (it becomes empty)",
    "applied.view.flux_post_build",
)
HELMRELEASE_NOT_EXPANDED = Rule(
    "helmrelease-not-expanded",
    "warning",
    "rendered object",
    "a Flux HelmRelease whose chart is not in the repository (nor mapped in "
    "gitops-gen.yaml helm.repositories) cannot be rendered offline",
    "applied.helmrelease.expand_releases",
)
RULES = (POSTBUILD_UNSET, HELMRELEASE_NOT_EXPANDED)
