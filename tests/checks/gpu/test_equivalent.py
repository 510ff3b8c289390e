"""Nearest MIG profile on another model; expected values read off gpu-reference.md section 3's tables."""

from __future__ import annotations

import pytest

from gitops_gen.checks.gpu.catalog import MODELS
from gitops_gen.checks.gpu.equivalent import nearest_profile, parse


@pytest.mark.parametrize(
    ("profile", "model", "expected"),
    [
        ("1g.5gb", "H100-80GB", "1g.10gb"),  # 1 slice, 5 GB -> H100's smallest 1g (10 GB)
        ("1g.10gb", "A100-40GB", "1g.10gb"),  # same name, there the 2-memory-slice "1g large"
        ("2g.10gb", "H100-80GB", "2g.20gb"),
        ("3g.20gb", "B200", "3g.90gb"),
        ("3g.40gb", "A100-40GB", "7g.40gb"),  # no 3g with 40 GB there: memory first, the whole GPU
        ("1g.5gb.me", "H100-80GB", "1g.10gb.me"),  # attributes are kept
        ("1g.5gb+me", "H200-141GB", "1g.18gb.me"),
        ("7g.80gb", "A30", "4g.24gb"),  # nothing big enough: the closest in memory and slices
        ("1g.24gb-me", "RTX-PRO-6000-Server", "1g.24gb-me"),
        ("2g.20gb", "A30", "4g.24gb"),  # 2g.12gb has too little memory: the 4-slice 24 GB one
    ],
)
def test_nearest(profile: str, model: str, expected: str) -> None:
    assert nearest_profile(profile, MODELS[model]) == expected


def test_no_profiles_or_no_profile() -> None:
    assert nearest_profile("1g.5gb", MODELS["T4"]) is None
    assert nearest_profile("1g.5gb.gfx", MODELS["A100-40GB"]) is None  # no +gfx profile on A100
    assert parse("1c.3g.20gb") is None and parse("gpu") is None
