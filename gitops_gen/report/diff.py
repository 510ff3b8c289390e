"""Reporters for a fleet diff: text (a terminal), markdown (a pull-request comment), json.

Each takes the diff and the markdown size cap (``--max-chars``; the others ignore it).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitops_gen.gitflow.diff import ClusterDiff, FleetDiff

DiffReporter = Callable[["FleetDiff", int], str]
REPORTERS: dict[str, DiffReporter] = {}
# Formats whose changes carry the file and line that set each changed field (a traced build each).
WITH_SOURCES = {"markdown"}


def reporter(name: str) -> Callable[[DiffReporter], DiffReporter]:
    def register(fn: DiffReporter) -> DiffReporter:
        REPORTERS[name] = fn
        return fn

    return register


@reporter("text")
def format_text(fd: FleetDiff, max_chars: int = 0) -> str:
    out: list[str] = []
    for cd in fd.clusters:
        counts = ", ".join(
            f"{cd.count(s)} {s}" for s in ("added", "changed", "removed", "renamed") if cd.count(s)
        )
        out.append(f"=== cluster {cd.name} ({cd.status}): {counts or 'no objects'}\n")
        for c in cd.changes:
            extra = f" (was {c.old_name})" if c.status == "renamed" else ""
            out.append(f"--- {c.status}: {c.label()}{extra}\n")
            out.append(c.diff)
    out.append(f"{len(fd.clusters)} cluster(s) changed, {fd.unchanged} unchanged\n")
    return "".join(out)


def _gpu_cell(before: dict[str, int], after: dict[str, int]) -> str:
    from gitops_gen.gitflow.diff import GPU_PREFIX

    names = sorted(set(before) | set(after))
    if not names:
        return "-"
    parts = []
    for n in names:
        short = n[len(GPU_PREFIX) :]
        b, a = before.get(n, 0), after.get(n, 0)
        parts.append(f"{short}: {b}" if a == b else f"{short}: {b} → {a}")
    return "<br>".join(parts)


@reporter("markdown")
def format_markdown(fd: FleetDiff, max_chars: int = 60000) -> str:
    head = [f"### gitops-gen diff `{fd.base}` → `{fd.head}`\n\n"]
    if not fd.clusters:
        head.append(f"No rendered changes ({fd.unchanged} clusters unchanged).\n")
        return "".join(head)
    head.append(f"{len(fd.clusters)} cluster(s) changed, {fd.unchanged} unchanged.\n\n")
    head.append("| cluster | status | added | changed | removed | GPU / MIG requests |\n")
    head.append("|---|---|---:|---:|---:|---|\n")
    for cd in fd.clusters:
        head.append(
            f"| {cd.name} | {cd.status} | {cd.count('added')} | "
            f"{cd.count('changed') + cd.count('renamed')} | {cd.count('removed')} | "
            f"{_gpu_cell(cd.gpu_before, cd.gpu_after)} |\n"
        )
    head.append("\n")
    if fd.capacity:
        from gitops_gen.fleetview.change import headroom_markdown

        head.append(headroom_markdown(fd.capacity))
    groups: dict[str, list[ClusterDiff]] = defaultdict(list)
    for cd in fd.clusters:
        groups[cd.signature()].append(cd)
    sections: list[str] = []
    for members in groups.values():
        first = members[0]
        names = ", ".join(m.name for m in members)
        title = f"same change on {len(members)} clusters: {names}" if len(members) > 1 else f"{first.name}"
        body = [f"<details><summary>{title} ({len(first.changes)} object(s))</summary>\n\n"]
        for c in first.changes:
            extra = f" (was `{c.old_name}`)" if c.status == "renamed" else ""
            body.append(f"**{c.status}** `{c.label()}`{extra}\n\n")
            if c.sources:
                body.append("".join(f"- `{f}` set by `{src}`\n" for f, src in c.sources.items()) + "\n")
            body.append(f"```diff\n{c.diff}```\n\n")
        body.append("</details>\n\n")
        sections.append("".join(body))
    text = "".join(head)
    cut = 0
    for i, section in enumerate(sections):
        if len(text) + len(section) > max_chars:
            cut = len(sections) - i
            break
        text += section
    if cut:
        text += (
            f"> **Truncated:** {cut} more section(s) not shown (output capped at {max_chars} characters). "
            "Run `gitops-gen diff` locally for the full diff.\n"
        )
    return text


@reporter("json")
def as_json(fd: FleetDiff, max_chars: int = 0) -> str:
    return (
        json.dumps(
            {
                "base": fd.base,
                "head": fd.head,
                "unchanged": fd.unchanged,
                "clusters": [
                    {
                        "name": cd.name,
                        "status": cd.status,
                        "gpu": {"before": cd.gpu_before, "after": cd.gpu_after},
                        "objects": [
                            {
                                "kind": c.key[0],
                                "namespace": c.key[1],
                                "name": c.key[2],
                                "status": c.status,
                                **({"previousName": c.old_name} if c.old_name else {}),
                                "fields": c.fields,
                                "diff": c.diff,
                            }
                            for c in cd.changes
                        ],
                    }
                    for cd in fd.clusters
                ],
            },
            indent=2,
        )
        + "\n"
    )
