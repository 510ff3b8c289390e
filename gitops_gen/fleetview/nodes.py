"""A `kubectl get nodes -o json` snapshot against a cluster's declared node pools, and pools from a snapshot.

Nodes are matched to pools by the pool's ``labels`` (all must be on the node; the pool with
the most matching labels wins); a pool without labels takes the nodes whose GPU product it
declares. Each matched node is then compared with what ``pool_supply`` says a node of the pool
carries (the labels GPU Feature Discovery and the GPU operator write, gpu-reference.md 2.1-2.4)
and advertises (allocatable ``nvidia.com/gpu`` and ``nvidia.com/mig-*``, sections 1.1, 1.2, 4).

Rules (each a problem at the cluster.yaml line of the declaration, naming the nodes):
  node-pool-count      [error]   the pool declares N nodes, the snapshot has M
  node-unmatched       [error]   a node belongs to no pool (its labels match none)
  node-gpu-product     [error]   nvidia.com/gpu.product differs (MIG / -SHARED suffixes stripped first)
  node-gpu-count       [error]   nvidia.com/gpu.count differs (under single MIG: MIG devices)
  node-gpu-missing     [error]   the pool declares GPUs, the node has no GPU labels or resources
  node-gpu-unexpected  [error]   the pool declares no GPUs, the node has some
  node-mig-config      [error]   nvidia.com/mig.config differs (the admin's intent, section 2.4)
  node-mig-strategy    [error]   nvidia.com/mig.strategy differs (checked where GFD set it)
  node-mig-invalid     [error]   GFD labelled the node <model>-MIG-INVALID
  node-gpu-replicas    [error]   nvidia.com/gpu.replicas differs (time-slicing)
  node-gpu-allocatable [error|warning] allocatable NVIDIA resources differ from the pool's supply;
                                  a warning while nvidia.com/mig.config.state is not "success"
  node-labels-partial  [warning] GPU present but GFD labels missing: product / count not verifiable
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_gen.checks.gpu.catalog import classify_resource, model_for_product, resource_suffix
from gitops_gen.checks.gpu.supply import PoolSupply, pool_supply
from gitops_gen.errors import GitopsGenError, Problem
from gitops_gen.fleet.inventory import Cluster

PRODUCT = "nvidia.com/gpu.product"
COUNT = "nvidia.com/gpu.count"
REPLICAS = "nvidia.com/gpu.replicas"
MIG_CONFIG = "nvidia.com/mig.config"
MIG_STATE = "nvidia.com/mig.config.state"
MIG_STRATEGY = "nvidia.com/mig.strategy"
PRESENT = "nvidia.com/gpu.present"
# Node-group labels of managed Kubernetes and common provisioners: the first one present names a pool.
POOL_KEYS = (
    "pool",
    "node-pool",
    "nodepool",
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "kubernetes.azure.com/agentpool",
    "karpenter.sh/nodepool",
    "node.kubernetes.io/pool",
)
_SUFFIX = re.compile(r"^(?P<bare>.+?)(?:-MIG-(?P<profile>[^-]+(?:-me)?|INVALID))?(?P<shared>-SHARED)?$")

NodePath = tuple[str | int, ...]


@dataclass(frozen=True)
class Node:
    name: str
    labels: Mapping[str, str]
    allocatable: Mapping[str, int]  # NVIDIA GPU resources only, zero counts dropped

    @property
    def has_gpu(self) -> bool:
        return PRODUCT in self.labels or bool(self.allocatable) or self.labels.get(PRESENT) == "true"


def bare_product(value: str) -> tuple[str, str | None, bool]:
    """``NVIDIA-A100-SXM4-40GB-MIG-1g.5gb-SHARED`` -> (``NVIDIA-A100-SXM4-40GB``, ``1g.5gb``, shared)."""
    m = _SUFFIX.match(value)
    if not m:
        return value, None, False
    return m["bare"], m["profile"], bool(m["shared"])


def _quantity(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def load_nodes(data: bytes, path: str) -> list[Node]:
    """Nodes of a ``kubectl get nodes -o json`` document (a List, a NodeList or one Node)."""
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as err:
        raise GitopsGenError(f"not JSON: {err.msg}", path, err.lineno, err.colno) from None
    except UnicodeDecodeError:
        raise GitopsGenError("not UTF-8 text", path) from None
    items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
    if not isinstance(items, list):
        raise GitopsGenError("expected `kubectl get nodes -o json` output (items: [...])", path)
    nodes: list[Node] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind", "Node") != "Node":
            raise GitopsGenError(f"items[{index}] is not a Node", path)
        meta = _dict(item.get("metadata"))
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise GitopsGenError(f"items[{index}]: Node without metadata.name", path)
        labels = _dict(meta.get("labels"))
        raw = _dict(_dict(item.get("status")).get("allocatable"))
        allocatable = {}
        for key, value in raw.items():
            amount = _quantity(value)
            if classify_resource(str(key)) in ("gpu", "mig", "shared") and amount:
                allocatable[str(key)] = amount
        nodes.append(Node(name, {str(k): str(v) for k, v in labels.items()}, allocatable))
    return nodes


# ---------------------------------------------------------------- matching


def _pool_labels(pool: Mapping[str, Any]) -> dict[str, str]:
    raw = pool.get("labels")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _declared_product(pool: Mapping[str, Any]) -> str | None:
    gpu = pool.get("gpu")
    product = gpu.get("product") if isinstance(gpu, Mapping) else None
    return product if isinstance(product, str) else None


def _node_product(node: Node) -> str | None:
    value = node.labels.get(PRODUCT)
    return bare_product(value)[0] if value else None


def match_nodes(
    nodes: list[Node], pools: Sequence[Mapping[str, Any]]
) -> tuple[dict[int, list[Node]], list[Node]]:
    """Nodes per pool index, and the nodes that belong to no pool."""
    matched: dict[int, list[Node]] = {i: [] for i in range(len(pools))}
    unmatched: list[Node] = []
    for node in nodes:
        # (matching labels, same GPU product, -index): pools sharing labels are told apart by their GPUs.
        best: tuple[int, int, int] | None = None
        product = _node_product(node)
        for i, pool in enumerate(pools):
            labels = _pool_labels(pool)
            same = int(_declared_product(pool) == product)
            if labels:
                if not all(node.labels.get(k) == v for k, v in labels.items()):
                    continue
            elif not (same and product is not None):
                continue
            score = (len(labels), same, -i)
            best = score if best is None or score > best else best
        if best is None:
            unmatched.append(node)
        else:
            matched[-best[2]].append(node)
    return matched, unmatched


# ---------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Issue:
    pool: int | None
    field: NodePath
    severity: str
    rule: str
    message: str  # without the node names


def _names(nodes: list[str], limit: int = 5) -> str:
    shown = ", ".join(nodes[:limit]) + (f" and {len(nodes) - limit} more" if len(nodes) > limit else "")
    return f"node{'s' if len(nodes) != 1 else ''} {shown}"


def _resources(resources: Mapping[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(resources.items())) or "no NVIDIA resources"


def _label_issue(
    index: int, supply: PoolSupply, node: Node, key: str, rule: str, field: NodePath, what: str
) -> _Issue | None:
    want = supply.labels.get(key)
    if key == MIG_CONFIG and want is None and supply.model is not None and supply.model.mig != "no":
        want = "all-disabled"  # what the operator labels MIG-capable nodes without a config (section 2.4)
    have = node.labels.get(key)
    if have is None or want == have:
        return None
    shown = want if want is not None else "(no such label)"
    return _Issue(
        index,
        field,
        "error",
        rule,
        f"pool {supply.name}: {key}={have} on the node, but cluster.yaml {what} {shown}",
    )


def node_issues(index: int, pool: Mapping[str, Any], node: Node) -> list[_Issue]:
    """Every way NODE differs from what a node of POOL carries."""
    supply = pool_supply(pool)
    name = supply.name
    if not supply.gpus:
        if node.has_gpu:
            what = node.labels.get(PRODUCT) or _resources(node.allocatable)
            return [
                _Issue(
                    index,
                    (),
                    "error",
                    "node-gpu-unexpected",
                    f"pool {name} declares no GPUs, but the node has {what}",
                )
            ]
        return []
    if not node.has_gpu:
        return [
            _Issue(
                index,
                ("gpu",),
                "error",
                "node-gpu-missing",
                f"pool {name} declares {supply.gpus} x {supply.product}, but the node has no GPU labels or "
                "NVIDIA resources",
            )
        ]
    out: list[_Issue] = []
    other_gpu = False
    label = node.labels.get(PRODUCT)
    if label is None:
        out.append(
            _Issue(
                index,
                ("gpu",),
                "warning",
                "node-labels-partial",
                f"pool {name}: the node has no {PRODUCT} label (GPU Feature Discovery not running or "
                "not done yet): product and count cannot be verified",
            )
        )
    else:
        bare, profile, _ = bare_product(label)
        if profile == "INVALID":
            out.append(
                _Issue(
                    index,
                    ("mig",),
                    "error",
                    "node-mig-invalid",
                    f"pool {name}: GFD labels the node {label}: its MIG configuration is invalid for "
                    "mig.strategy single (mixed profiles, or MIG enabled without devices)",
                )
            )
        elif bare != supply.product:
            other_gpu = True
            out.append(
                _Issue(
                    index,
                    ("gpu", "product"),
                    "error",
                    "node-gpu-product",
                    f"pool {name}: the node has {bare} ({PRODUCT}={label}), cluster.yaml declares "
                    f"{supply.product}",
                )
            )
        else:
            for issue in (
                _label_issue(
                    index, supply, node, PRODUCT, "node-gpu-product", ("gpu", "product"), "makes GFD write"
                ),
                _label_issue(
                    index,
                    supply,
                    node,
                    COUNT,
                    "node-gpu-count",
                    ("gpu", "count"),
                    "implies" if supply.strategy == "single" else "declares",
                ),
            ):
                if issue is not None:
                    out.append(issue)
    config_issue = _label_issue(
        index, supply, node, MIG_CONFIG, "node-mig-config", ("mig", "config"), "declares"
    )
    if config_issue is None and MIG_CONFIG not in node.labels and supply.config not in (None, "all-disabled"):
        config_issue = _Issue(
            index,
            ("mig", "config"),
            "error",
            "node-mig-config",
            f"pool {name}: the node has no {MIG_CONFIG} label, cluster.yaml declares {supply.config}",
        )
    out += [i for i in (config_issue,) if i is not None]
    strategy = node.labels.get(MIG_STRATEGY)
    want_strategy = supply.strategy if supply.strategy != "none" else None
    if strategy is not None and strategy != want_strategy:
        out.append(
            _Issue(
                index,
                ("mig", "strategy"),
                "error",
                "node-mig-strategy",
                f"pool {name}: {MIG_STRATEGY}={strategy} on the node, cluster.yaml declares "
                f"{supply.strategy}",
            )
        )
    node_replicas = _quantity(node.labels.get(REPLICAS, "")) or 0
    if (
        supply.replicas > 1 or node_replicas > 1
    ):  # time-slicing on one side; MIG parents' 0 is config's business
        replicas = _label_issue(
            index, supply, node, REPLICAS, "node-gpu-replicas", ("sharing", "replicas"), "implies"
        )
        out += [replicas] if replicas is not None else []
    # On other hardware the resources differ as a matter of course: the product problem says it all.
    if supply.known and not other_gpu and dict(node.allocatable) != dict(supply.resources):
        state = node.labels.get(MIG_STATE)
        pending = state is not None and state != "success"
        field: NodePath = ("mig", "config") if supply.config else ("gpu", "count")
        note = f" (nvidia.com/mig.config.state={state}: the MIG manager has not finished)" if pending else ""
        out.append(
            _Issue(
                index,
                field,
                "warning" if pending else "error",
                "node-gpu-allocatable",
                f"pool {name}: the node's allocatable is {_resources(node.allocatable)}, a node of the "
                f"pool advertises {_resources(supply.resources)}{note}",
            )
        )
    return out


def check_nodes(cluster: Cluster, nodes: list[Node]) -> list[Problem]:
    """Every mismatch between the snapshot and CLUSTER's pools, at cluster.yaml lines, nodes grouped."""
    pools = [p if isinstance(p, Mapping) else {} for p in cluster.node_pools]
    matched, unmatched = match_nodes(nodes, pools)
    grouped: dict[_Issue, list[str]] = {}
    for index, members in matched.items():
        for node in members:
            for issue in node_issues(index, pools[index], node):
                grouped.setdefault(issue, []).append(node.name)
    problems: list[Problem] = []
    for index, pool in enumerate(pools):
        declared, found = pool.get("nodes"), len(matched[index])
        if isinstance(declared, int) and declared != found:
            names = [n.name for n in matched[index]]
            has = f" ({', '.join(names[:5])}{' ...' if len(names) > 5 else ''})" if names else ""
            line, col = cluster.position("spec", "nodePools", index, "nodes")
            problems.append(
                Problem(
                    cluster.path,
                    line,
                    col,
                    "error",
                    "node-pool-count",
                    f"pool {pool.get('name')}: cluster.yaml declares {declared} nodes, the snapshot "
                    f"has {found}{has}",
                )
            )
    for issue, names in grouped.items():
        line, col = cluster.position("spec", "nodePools", issue.pool or 0, *issue.field)
        problems.append(
            Problem(cluster.path, line, col, issue.severity, issue.rule, f"{_names(names)}: {issue.message}")
        )
    for node in unmatched:
        line, col = cluster.position("spec", "nodePools")
        problems.append(
            Problem(
                cluster.path,
                line,
                col,
                "error",
                "node-unmatched",
                f"{_names([node.name])} ({node.labels.get(PRODUCT) or 'no GPU'}) belong to no pool: "
                + _why_unmatched(node, pools),
            )
        )
    return sorted(problems)


def _why_unmatched(node: Node, pools: Sequence[Mapping[str, Any]]) -> str:
    reasons = []
    for pool in pools:
        labels = _pool_labels(pool)
        if labels:
            missing = [f"{k}={v}" for k, v in labels.items() if node.labels.get(k) != v]
            reasons.append(f"pool {pool.get('name')} wants {', '.join(missing)}")
        else:
            reasons.append(
                f"pool {pool.get('name')} (no labels) has product {_declared_product(pool) or 'none'}"
            )
    return "; ".join(reasons) or "the cluster declares no node pools"


# ---------------------------------------------------------------- pools from a snapshot


def _pool_key(node: Node) -> str | None:
    for key in POOL_KEYS:
        if key in node.labels:
            return key
    return None


def _physical_count(node: Node, bare: str, profile: str | None) -> int | None:
    """Physical GPUs of a node: gpu.count, except under single MIG, where it counts MIG devices."""
    count = _quantity(node.labels.get(COUNT, ""))
    if count is None or profile is None or profile == "INVALID":
        return count
    model = model_for_product(bare)
    per_gpu = next(
        (n for p, n in (model.profiles.items() if model else ()) if resource_suffix(p) == profile), None
    )
    if per_gpu is None or count % per_gpu:
        return None
    return count // per_gpu


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower().removeprefix("nvidia-")).strip("-")
    return slug[:40].strip("-") or "pool"


def pools_from_nodes(nodes: list[Node]) -> tuple[list[dict[str, Any]], list[str]]:
    """Node pools (cluster.yaml form) from NODES, grouped by pool label and GPU labels; notes on what was guessed."""
    groups: dict[tuple[Any, ...], list[Node]] = {}
    notes: list[str] = []
    for node in nodes:
        key = _pool_key(node)
        label = (key, node.labels[key]) if key else None
        product = node.labels.get(PRODUCT)
        bare, profile, _ = bare_product(product) if product else (None, None, False)
        config = node.labels.get(MIG_CONFIG)
        strategy = node.labels.get(MIG_STRATEGY) or ("single" if profile else None)
        count = _physical_count(node, bare, profile) if bare else None
        replicas = _quantity(node.labels.get(REPLICAS, "")) if bare else None
        ident = (
            label,
            bare,
            count,
            config if config != "all-disabled" else None,
            strategy,
            replicas if replicas and replicas > 1 else None,
        )
        groups.setdefault(ident, []).append(node)
        if bare and count is None:
            notes.append(
                f"node {node.name}: GPU count unknown ({COUNT}={node.labels.get(COUNT)}); set gpu.count"
            )
    pools: list[dict[str, Any]] = []
    used: set[str] = set()
    for (label, bare, count, config, strategy, replicas), members in groups.items():
        base = label[1] if label else (_slug(bare) if bare else "cpu")
        if config:
            base = f"{base}-mig" if not label else base
        name, n = _slug(base), 2
        while name in used:
            name, n = f"{_slug(base)}-{n}", n + 1
        used.add(name)
        pool: dict[str, Any] = {"name": name, "nodes": len(members)}
        if bare:
            pool["gpu"] = {"product": bare, "count": count if count is not None else 1}
        if config or (strategy and strategy != "none"):
            mig: dict[str, Any] = {"strategy": strategy or "mixed"}
            if config:
                mig["config"] = config
            pool["mig"] = mig
        if replicas:
            pool["sharing"] = {"replicas": replicas}
        if label:
            pool["labels"] = {label[0]: label[1]}
            twins = [g for g in groups if g[0] == label]
            if len(twins) > 1 and twins[0][1:] == (bare, count, config, strategy, replicas):
                notes.append(
                    f"{len(twins)} kinds of node carry {label[0]}={label[1]}; pools are told apart by "
                    "their GPU product only: give them distinct labels"
                )
        elif len([g for g in groups if g[1] == bare]) > 1:
            notes.append(
                f"pool {name}: no pool label tells its nodes from other {bare or 'CPU'} nodes; "
                "add labels so that `nodes check` can match them"
            )
        pools.append(pool)
    return pools, notes


def pools_yaml(pools: list[dict[str, Any]], indent: str = "  ", offset: int = 2) -> str:
    """``nodePools:`` as cluster.yaml writes it: one block per pool, its gpu/mig/sharing/labels in flow style."""
    import yaml

    if not pools:
        return f"{indent}nodePools: []\n"
    lines = [f"{indent}nodePools:"]
    dash = indent + " " * offset
    for pool in pools:
        for i, (key, value) in enumerate(pool.items()):
            text = yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False, width=4096).strip()
            lines.append(f"{dash}{'- ' if i == 0 else '  '}{text[1:-1]}")
    return "\n".join(lines) + "\n"


def cluster_with_pools(text: str, pools: list[dict[str, Any]]) -> str:
    """A new cluster.yaml (authoring's template) with its placeholder node pools replaced by POOLS."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("# TODO: the node pools") or (
            out and out[-1] == "#pools" and stripped.startswith("#")
        ):
            out.append("#pools")
            continue
        if stripped == "nodePools: []":
            out.append(pools_yaml(pools, line[: len(line) - len(line.lstrip())]))
            continue
        out.append(line)
    return "".join(x for x in out if x != "#pools")
