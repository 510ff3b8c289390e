"""The capacity ledger, its figures computed by hand in each test."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.fleetview.collect import collect
from gitops_gen.fleetview.ledger import Ledger, ledger, surge_pods
from gitops_gen.repo.tree import DiskTree
from tests.fleetrepo import ROOT
from tests.fleetview.fleets import deployment, write_fleet


def _ledger(root: Path) -> Ledger:
    return ledger(collect(DiskTree(root)))


def test_example_fleet_capacity_by_hand() -> None:
    led = _ledger(ROOT)
    # zone-1-dev: pool a100-mig = 2 nodes x 1 A100 40GB, mixed, all-1g.5gb -> 7 slices per GPU, 2 x 7 = 14.
    # private-detector (env dev: 1 replica, one mig-1g.5gb). Surge: ceil(25% of 1) = 1 more pod -> 2.
    dev = led.cluster("zone-1-dev").pool("a100-mig").line("nvidia.com/mig-1g.5gb")
    assert dev is not None
    assert (dev.per_node, dev.supply, dev.steady, dev.surge, dev.headroom, dev.surge_headroom) == (
        7,
        14,
        1,
        2,
        13,
        12,
    )
    assert dev.apps == ["private-detector"]
    assert led.cluster("zone-1-dev").pool("a100-mig").line("nvidia.com/gpu") is None  # mixed: no whole GPUs
    # zone-1-prod: pool a100 = 5 nodes x 4 GPUs = 20. private-detector 10 x 1, toxicity-detector 2 x 1,
    # llm-server (a HelmRelease, applied view) 2 x 1 -> 14. Surge: ceil(10 * 0.25) = 3, ceil(2 * 0.25) = 1
    # twice -> 14 + 5 = 19, headroom at surge 1.
    prod = led.cluster("zone-1-prod").pool("a100").line("nvidia.com/gpu")
    assert prod is not None
    assert (prod.supply, prod.steady, prod.surge, prod.headroom, prod.surge_headroom) == (20, 14, 19, 6, 1)
    assert {c.app: (c.pods, c.surge_pods) for c in prod.contributions} == {
        "private-detector": (10, 3),
        "toxicity-detector": (2, 1),
        "llm-server": (2, 1),
    }
    # zone-2-prod: pool h100 = 2 x 8 = 16; toxicity-detector 4 (cluster layer), surge ceil(1.0) = 1 -> 5.
    h100 = led.cluster("zone-2-prod").pool("h100").line("nvidia.com/gpu")
    assert h100 is not None
    assert (h100.supply, h100.steady, h100.surge, h100.headroom) == (16, 4, 5, 12)
    # The system pools have no GPUs, hence no lines; spam-detector asks for no GPU, so it is in no line.
    assert all(not led.cluster(c).pool("system").lines for c in ("zone-1-dev", "zone-1-prod", "zone-2-prod"))
    assert not any(c.unplaced for c in led.clusters)
    # Fleet totals: whole GPUs 20 (A100) + 16 (H100) = 36 supplied, 14 + 4 = 18 asked, 19 + 5 = 24 at surge.
    totals = {t.resource: t for t in led.by_resource}
    gpu = totals["nvidia.com/gpu"]
    assert (gpu.pools, gpu.gpus, gpu.supply, gpu.steady, gpu.surge, gpu.headroom) == (2, 36, 36, 18, 24, 18)
    mig = totals["nvidia.com/mig-1g.5gb"]
    assert (mig.gpus, mig.supply, mig.steady, mig.surge) == (2, 14, 1, 2)
    by_model = {(t.model, t.resource): (t.supply, t.steady) for t in led.by_model}
    assert by_model == {
        ("A100 40GB", "nvidia.com/gpu"): (20, 14),
        ("A100 40GB", "nvidia.com/mig-1g.5gb"): (14, 1),
        ("H100 80GB", "nvidia.com/gpu"): (16, 4),
    }


def test_surge_rules() -> None:
    def dep(replicas: int, strategy: dict[str, object] | None, kind: str = "Deployment") -> int:
        return surge_pods(deployment("x", replicas, kind=kind, strategy=strategy), replicas)

    assert dep(10, None) == 3  # 25% of 10 = 2.5, rounded up
    assert dep(4, None) == 1
    assert dep(0, None) == 0
    assert dep(10, {"rollingUpdate": {"maxSurge": 2}}) == 2
    assert dep(10, {"rollingUpdate": {"maxSurge": "50%"}}) == 5
    assert dep(3, {"rollingUpdate": {"maxSurge": "10%"}}) == 1  # 0.3 rounded up
    assert dep(10, {"type": "Recreate"}) == 0
    assert dep(10, {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}) == 0
    assert dep(5, None, kind="StatefulSet") == 0
    assert dep(6, None, kind="DaemonSet") == 0  # DaemonSet default maxSurge 0
    assert dep(6, {"rollingUpdate": {"maxSurge": "50%"}}, kind="DaemonSet") == 3  # of its 6 nodes


def test_mig_single_time_slicing_daemonsets_and_unplaced(tmp_path: Path) -> None:
    pools = [
        # single strategy, all-3g.20gb on A100 40GB: 2 per GPU x 8 GPUs = 16 nvidia.com/gpu per node, 3 nodes = 48.
        {
            "name": "mig",
            "nodes": 3,
            "gpu": {"product": "NVIDIA-A100-SXM4-40GB", "count": 8},
            "mig": {"strategy": "single", "config": "all-3g.20gb"},
            "labels": {"pool": "mig"},
        },
        # time-slicing x4 on 2 nodes x 2 L4: 2 x 4 = 8 per node, 16 in all.
        {
            "name": "ts",
            "nodes": 2,
            "gpu": {"product": "NVIDIA-L4", "count": 2},
            "sharing": {"replicas": 4},
            "labels": {"pool": "ts"},
        },
        {"name": "cpu", "nodes": 5},
    ]
    apps = {
        "big": [
            deployment(
                "big",
                20,
                {"nvidia.com/gpu": 2},
                selector={"pool": "mig"},
                strategy={"rollingUpdate": {"maxSurge": 4}},
            )
        ],
        "small": [deployment("small", 6, {"nvidia.com/gpu": 1}, selector={"pool": "ts"})],
        # A DaemonSet asking for one GPU on every node of the pool it selects: 2 ts nodes x 1.
        "agent": [deployment("agent", 0, {"nvidia.com/gpu": 1}, kind="DaemonSet", selector={"pool": "ts"})],
        # No pool advertises mig-1g.5gb (single strategy): unplaced, not counted anywhere.
        "lost": [deployment("lost", 3, {"nvidia.com/mig-1g.5gb": 1})],
    }
    root = write_fleet(tmp_path / "f", {"c1": ("prod", pools, ["big", "small", "agent", "lost"])}, apps)
    c1 = _ledger(root).cluster("c1")
    mig = c1.pool("mig").line("nvidia.com/gpu")
    assert mig is not None
    # big: 20 pods x 2 = 40 of 48; surge 4 pods x 2 = 8 more -> 48, headroom 8 then 0.
    assert (mig.per_node, mig.supply, mig.steady, mig.surge, mig.headroom, mig.surge_headroom) == (
        16,
        48,
        40,
        48,
        8,
        0,
    )
    ts = c1.pool("ts").line("nvidia.com/gpu")
    assert ts is not None
    # small 6 + agent 2 nodes x 1 = 8 of 16; surge: small ceil(1.5) = 2 more, the DaemonSet none -> 10.
    assert (ts.per_node, ts.supply, ts.steady, ts.surge) == (8, 16, 8, 10)
    assert ts.apps == ["agent", "small"]
    assert [(u.app, u.status, dict(u.demand)) for u in c1.unplaced] == [
        ("lost", "unschedulable", {"nvidia.com/mig-1g.5gb": 1})
    ]
    assert "mig-1g.5gb" in c1.unplaced[0].reason
    assert not c1.pool("cpu").lines


def test_a_workload_fitting_two_pools_is_spread_by_headroom(tmp_path: Path) -> None:
    pools = [
        {"name": "a", "nodes": 1, "gpu": {"product": "NVIDIA-L4", "count": 4}},
        {"name": "b", "nodes": 1, "gpu": {"product": "NVIDIA-L40S", "count": 8}},
    ]
    apps = {
        "pinned": [
            deployment("pinned", 5, {"nvidia.com/gpu": 1}, selector={"nvidia.com/gpu.product": "NVIDIA-L40S"})
        ],
        "free": [deployment("free", 6, {"nvidia.com/gpu": 1})],
    }
    root = write_fleet(tmp_path / "f", {"c": ("dev", pools, ["pinned", "free"])}, apps)
    c = _ledger(root).cluster("c")
    a, b = c.pool("a").line("nvidia.com/gpu"), c.pool("b").line("nvidia.com/gpu")
    assert a is not None and b is not None
    # pinned takes 5 of b's 8 first (3 left); free's 6 pods go one by one to the pool with more left:
    # a 4 vs b 3 -> a; a 3 vs b 3 -> a (first pool wins ties); a 2 vs b 3 -> b; a 2 vs b 2 -> a; a 1 vs b 2 -> b;
    # a 1 vs b 1 -> a. So a gets 4, b gets 2: a 4/4, b 7/8.
    assert (a.steady, b.steady) == (4, 7)
    assert [c.shared for c in a.contributions] == [True]
    # surge: pinned adds ceil(1.25) = 2 on b (pinned first): b has 8 - 7 - 2 = -1 left, a has 4 - 4 = 0.
    # free adds ceil(1.5) = 2: a 0 vs b -1 -> a; a -1 vs b -1 -> a (tie). So a 4 + 2 = 6, b 7 + 2 = 9.
    assert (a.surge, b.surge) == (6, 9)


def test_disabled_apps_and_unknown_supply(tmp_path: Path) -> None:
    pools = [
        {
            "name": "odd",
            "nodes": 2,
            "gpu": {"product": "NVIDIA-Mystery-9000", "count": 4},
            "mig": {"strategy": "mixed", "config": "all-1g.5gb"},
        }
    ]
    apps = {
        "x": [deployment("x", 2, {"nvidia.com/mig-1g.5gb": 1})],
        "y": [deployment("y", 1, {"nvidia.com/gpu": 1})],
    }
    root = write_fleet(tmp_path / "f", {"c": ("dev", pools, ["x", {"name": "y", "enabled": False}])}, apps)
    led = _ledger(root)
    c = led.cluster("c")
    assert c.pool("odd").lines == [] and not c.pool("odd").supply.known
    assert [(u.app, u.status) for u in c.unplaced] == [("x", "unknown")]
    assert [(t.model, t.resource, t.unknown_pools, t.gpus) for t in led.by_model] == [
        ("NVIDIA-Mystery-9000", "?", 1, 8)
    ]


def test_the_applied_view_counts(tmp_path: Path) -> None:
    """Flux post-build variables in the manifests: the report sees what the cluster applies."""
    from gitops_gen.fleetview.matrix import matrix

    pools = [{"name": "a", "nodes": 2, "gpu": {"product": "NVIDIA-L4", "count": 4}}]
    app = deployment("x", 1, {"nvidia.com/gpu": 1}, image="x:${model_tag}")
    app["spec"]["replicas"] = "${x_replicas}"  # substituted, then re-typed to an integer as Flux does
    root = write_fleet(
        tmp_path / "f",
        {"c": ("dev", pools, ["x"])},
        {"x": [app]},
        {"c": {"model_tag": "2.0.1", "x_replicas": "6"}},
    )
    view = collect(DiskTree(root))
    line = ledger(view).cluster("c").pool("a").line("nvidia.com/gpu")
    assert line is not None and (line.supply, line.steady, line.surge) == (8, 6, 8)  # surge ceil(1.5) = 2
    (cell_workload,) = matrix(view).app("x").cells["c"].workloads
    assert cell_workload.containers[0].tag == "2.0.1" and cell_workload.replicas == 6
