"""The change plan: the tree as it will be, before anything is written."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.authoring.plan import OverlayTree
from gitops_gen.repo.tree import DiskTree


def test_overlay_tree_shows_pending_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("disk")
    tree = OverlayTree(DiskTree(tmp_path), {"a/g/h.yaml": b"new", "a/f": b"over"})
    assert tree.read("a/f") == b"over" and tree.listdir("a") == ["f", "g"]
    assert (tree.kind("a/g"), tree.kind("a/g/h.yaml"), tree.kind("b")) == ("dir", "file", None)
