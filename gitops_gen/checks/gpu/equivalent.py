"""The nearest MIG profile on another GPU model, for when a pool's hardware changes.

A profile ``<G>g.<M>gb[+attr]`` names its compute slices G and its memory M (gpu-reference.md
section 3). On the new model the candidate with the same attribute (``+me``, ``-me``, ``+gfx``,
``+me.all``; plain profiles for plain ones) wins that (1) gives at least the memory, (2) has the
closest number of compute slices, (3) wastes the least memory: a workload sized for 5 GB and one
slice on an A100 40GB gets ``1g.10gb`` on an H100 80GB. None when the model has no MIG profiles.
"""

from __future__ import annotations

import re

from gitops_gen.checks.gpu.catalog import GpuModel, resource_suffix

_PROFILE = re.compile(r"(?P<g>[0-9]+)g\.(?P<m>[0-9]+)gb(?P<attr>.*)")


def parse(profile: str) -> tuple[int, int, str] | None:
    """``1g.10gb.me`` or ``1g.10gb+me`` -> (1, 10, ".me"); None for anything else."""
    m = _PROFILE.fullmatch(resource_suffix(profile))
    return (int(m["g"]), int(m["m"]), m["attr"]) if m else None


def nearest_profile(profile: str, model: GpuModel) -> str | None:
    """MODEL's profile (resource-name form, ``+`` as ``.``) nearest to PROFILE, or None."""
    wanted = parse(profile)
    if wanted is None or not model.profiles:
        return None
    slices, memory, attr = wanted
    best: tuple[tuple[int, int, int], str] | None = None
    for candidate in model.profiles:
        found = parse(candidate)
        if found is None or found[2] != attr:
            continue
        g, m, _ = found
        score = (0 if m >= memory else 1, abs(g - slices), abs(m - memory))
        if best is None or score < best[0]:
            best = (score, resource_suffix(candidate))
    return best[1] if best else None
