"""Applying a planned change: check the repository as it will be, then write, then regenerate.

The authoring commands plan the whole change first (``gitops_gen.authoring.edits``); a
change that would leave the fleet broken fails here before any file is written.
"""

from __future__ import annotations

from pathlib import Path

from gitops_gen.authoring.edits import Change, OverlayTree
from gitops_gen.fleet.generate import apply_plan, plan
from gitops_gen.fleet.inventory import load_fleet
from gitops_gen.repo.files import edit_target, remove_dead_temp_files
from gitops_gen.repo.tree import DiskTree


def apply_change(repo: Path, change: Change) -> list[tuple[str, str]]:
    """Write CHANGE and regenerate; (path, created|edited|written|removed) for everything touched.

    The repository as it will be is checked first (inventory, generate plan), so
    a change that would leave it broken fails before any file is written.
    """
    disk = DiskTree(repo)
    after = OverlayTree(disk, change.files)
    generated = plan(after, load_fleet(after))
    root = repo.resolve()
    targets = {path: edit_target(root, path) for path in change.files}
    done = [(path, "edited" if disk.kind(path) == "file" else "created") for path in sorted(change.files)]
    remove_dead_temp_files({path.parent for path in targets.values()})
    # The edits and the regenerated files in one all-or-nothing write.
    edits = [(targets[path], change.files[path]) for path in sorted(change.files)]
    return done + apply_plan(repo, generated, also=edits)
