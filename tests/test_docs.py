"""The README and docs/ point only at files inside the repository, and those exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
OUTSIDE = re.compile(r"(?<![\w.])\.\./(?:shared|[A-Za-z]+\.md)|/work/")


def test_docs_exist() -> None:
    assert (ROOT / "docs/design.md").is_file() and (ROOT / "docs/gpu-reference.md").is_file()


def test_relative_links_resolve_inside_the_repository() -> None:
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if "://" in target:
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name}: {target} is outside the repository"
            assert path.exists(), f"{doc.name}: {target} does not exist"


def test_no_pointers_outside_the_repository() -> None:
    sources = [*DOCS, *sorted((ROOT / "gitops_gen").rglob("*.py"))]
    for path in sources:
        found = OUTSIDE.search(path.read_text())
        assert found is None, f"{path.relative_to(ROOT)}: {found.group(0) if found else ''}"
