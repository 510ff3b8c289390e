"""Scaffolds: a new cluster.yaml copied from another keeps what applies and its comments."""

from __future__ import annotations

from gitops_gen.authoring.scaffold import cluster_from


def test_new_cluster_from_drops_the_engine_but_not_the_comments_after_it() -> None:
    source = (
        "apiVersion: gitops-gen/v1alpha1\nkind: Cluster\nmetadata:\n  name: a\nspec:\n"
        "  layers: {env: dev}\n  gitops:\n    engine: argocd   # central\n  # pools below\n"
        "  nodePools:\n  - name: x\n    nodes: 1\n"
    )
    out = cluster_from(source, "a.yaml", "b", {"env": "prod"}, None, None)
    assert out == source.replace("name: a", "name: b").replace("env: dev", "env: prod").replace(
        "  gitops:\n    engine: argocd   # central\n", ""
    )
    out = cluster_from(source, "a.yaml", "b", {"env": "prod"}, "flux", "1.31")
    assert (
        '  layers: {env: prod}\n  kubernetesVersion: "1.31"\n  gitops: {engine: flux}\n  # pools below\n'
        in out
    )
