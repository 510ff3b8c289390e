"""The Flux post-build variables of a cluster: built-ins, gitops-gen.yaml defaults, spec.vars.

A cluster uses variables when gitops-gen.yaml sets `vars` or its cluster.yaml sets `spec.vars`
(even `{}`); only then does its sync.yaml get `postBuild.substitute`, so a fleet that uses neither
generates the same bytes as before. Variables turn on Flux's expansion for every manifest of the
cluster (including `$${x}` escapes and `${x:=default}`), which is why it is opt-in.
"""

from __future__ import annotations

from gitops_gen.fleet.inventory import Cluster, Config


def var_name(layer: str) -> str:
    """Layer names may hold '-', which Flux variable names may not."""
    return layer.replace("-", "_")


def builtin_vars(cluster: Cluster) -> dict[str, str]:
    values = {"cluster_name": cluster.name}
    values.update({var_name(layer): value for layer, value in cluster.layers.items()})
    return values


def cluster_vars(config: Config, cluster: Cluster) -> dict[str, str] | None:
    """postBuild.substitute of CLUSTER, sorted by name; None when it uses no variables."""
    if cluster.engine != "flux" or (config.vars is None and cluster.vars is None):
        return None
    values = builtin_vars(cluster)
    values.update(config.vars or {})
    values.update(cluster.vars or {})
    return dict(sorted(values.items()))
