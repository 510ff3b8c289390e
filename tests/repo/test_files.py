"""Atomic writes and safe removal (gitops_gen/files.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitops_gen.errors import GitopsGenError
from gitops_gen.repo import files
from gitops_gen.repo.files import inside, remove_file, write_atomic


def test_write_atomic_creates_parents_and_content(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.yaml"
    write_atomic(target, b"x: 1\n")
    assert target.read_bytes() == b"x: 1\n"
    assert os.listdir(target.parent) == ["f.yaml"]  # no temp file left behind
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~files._UMASK  # like any new file, not mkstemp's 0600


def test_write_atomic_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(GitopsGenError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]


def test_inside_refuses_symlinks_and_dotdot_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "ok").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    assert inside(root, "ok/new/file.yaml") == root.resolve() / "ok/new/file.yaml"
    for rel in ("link/file.yaml", "../x.yaml", "ok/../../x.yaml"):
        with pytest.raises(GitopsGenError, match="outside the repository"):
            inside(root, rel)


def test_remove_file_prunes_empty_parents_up_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "apps/a/overlays/c").mkdir(parents=True)
    (tmp_path / "apps/a/base").mkdir()
    target = tmp_path / "apps/a/overlays/c/kustomization.yaml"
    target.write_text("x")
    remove_file(target, tmp_path)
    assert not (tmp_path / "apps/a/overlays").exists()
    assert (tmp_path / "apps/a/base").is_dir()  # a non-empty parent stops the climb
    remove_file(tmp_path / "missing.yaml", tmp_path)  # already gone: fine
    assert tmp_path.is_dir()


def test_write_atomic_many_writes_all(tmp_path: Path) -> None:
    old = tmp_path / "a/old.yaml"
    old.parent.mkdir()
    old.write_bytes(b"old")
    old.chmod(0o600)
    items = [(old, b"new"), (tmp_path / "b/c/new.yaml", b"fresh")]
    files.write_atomic_many(items)
    assert old.read_bytes() == b"new"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert (tmp_path / "b/c/new.yaml").read_bytes() == b"fresh"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["new.yaml", "old.yaml"]
    files.write_atomic_many([])  # nothing to do


def test_write_atomic_many_changes_nothing_when_staging_fails(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_bytes(b"old")
    (tmp_path / "blocker").write_bytes(b"a file where a directory should be")
    with pytest.raises(GitopsGenError, match=r"blocker: .*a file is where a directory must be"):
        files.write_atomic_many([(first, b"new"), (tmp_path / "blocker/x.yaml", b"x")])
    assert first.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "first.yaml"]  # no temp files left
