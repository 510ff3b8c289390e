"""The workload walker against its table: tests/data/kube/<case>/{object.yaml,expected.yaml}.

Each case is one object and, per pod template the table finds in it, the pods it runs at once,
the field that set that count, and the most an autoscaler may run. The figures come from each
project's own controller code, named in gitops_gen/data/workloads.json.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen import kube

CASES = Path(__file__).parent / "data" / "kube"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)


def _path(value: Any) -> tuple[Any, ...] | None:
    return tuple(value) if value is not None else None


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case(case: str) -> None:
    obj = _load(CASES / case / "object.yaml")
    got = [(t.path, t.pods, t.count_path, t.max_pods, t.max_path) for t in kube.pod_templates(obj)]
    want = [
        (tuple(e["pod"]), e["pods"], _path(e["count"]), e["max"], _path(e.get("max_path")))
        for e in _load(CASES / case / "expected.yaml")
    ]
    assert got == want


def test_every_table_entry_names_its_source() -> None:
    import json
    from importlib import resources

    table = json.loads(resources.files("gitops_gen").joinpath("data", "workloads.json").read_text())
    assert all(entry["source"] for entry in table["kinds"])
    assert len({(e["group"], e["kind"]) for e in table["kinds"]}) == len(table["kinds"])


@pytest.mark.parametrize("extra", [{}, {"created": datetime.date(2026, 12, 2)}], ids=["plain", "timestamp"])
def test_unchecked_gpu_paths_finds_requests_outside_known_containers(extra: dict[str, Any]) -> None:
    # The fast path (no NVIDIA name in the object's bytes) must not hide one; a YAML timestamp
    # that marshal cannot write falls back to the walk.
    limits = {"limits": {"nvidia.com/gpu": 1}}
    obj = {"apiVersion": "example.com/v1", "kind": "Trainer", "metadata": extra, "spec": {"gang": limits}}
    assert kube.unchecked_gpu_paths(obj) == [("spec", "gang", "limits", "nvidia.com/gpu")]
    assert kube.unchecked_gpu_paths({**obj, "spec": {"gang": {"limits": {"cpu": 1}}}}) == []
