"""scaffold-placeholder's two source checks: the object's file, then the located line, must still carry
the template's TODO."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.authoring.scaffold_placeholders import placeholders
from gitops_gen.checks.silent import SCAFFOLD_PLACEHOLDER, unfilled
from gitops_gen.errors import Problem
from gitops_gen.repo.tree import DiskTree


def test_a_placeholder_is_kept_only_where_its_line_still_says_todo(tmp_path: Path) -> None:
    port = next(p for p in placeholders() if p.path[-1] == "containerPort")
    (tmp_path / "base.yaml").write_text(f"containerPort: 8080  # {port.todo}\n")
    (tmp_path / "patch.yaml").write_text("containerPort: 8080  # we do listen on 8080\n")

    def problem(path: str, line: int = 1) -> tuple[Problem, str]:
        message = f"c: ports[0].containerPort is still the placeholder (# {port.todo}); set it"
        return Problem(path, line, 1, "warning", SCAFFOLD_PLACEHOLDER.id, message), "c1"

    image = Problem(
        "patch.yaml", 1, 1, "warning", SCAFFOLD_PLACEHOLDER.id, "c: registry.example.com/x:0.1.0 ..."
    )
    other = Problem("patch.yaml", 1, 1, "warning", "image-latest", f"mentions (# {port.todo})")
    found = [problem("base.yaml"), problem("patch.yaml"), problem("base.yaml", 9), problem("gone.yaml")]
    found += [(image, "c1"), (other, "c1")]
    assert unfilled(DiskTree(tmp_path), found) == [problem("base.yaml"), (image, "c1"), (other, "c1")]
