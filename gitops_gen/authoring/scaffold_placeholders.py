"""What `gitops-gen new app` leaves for the user to fill in, read from the scaffold templates themselves.

The app scaffold (``templates/app-deployment.yaml``) marks every value the user must replace with a
``# TODO: ...`` comment; the image without --image is ``registry.example.com/<app>:0.1.0``. Validate's
``scaffold-placeholder`` rule recognises both from here, so a TODO added to the template is checked
without a second list. Kept free of ruamel (validate imports it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from gitops_gen import kube
from gitops_gen.repo import yamlio

PLACEHOLDER_REGISTRY = "registry.example.com"
PLACEHOLDER_TAG = "0.1.0"
IMAGE_TODO = "# TODO: the release to run, pinned (never latest)"
DEPLOYMENT_TEMPLATE = "app-deployment.yaml"
_TODO = re.compile(r"#\s*TODO:.*$")
_SAMPLE_APP = "app"


@dataclass(frozen=True)
class Placeholder:
    """One TODO value of the scaffold's container: where it is (relative to the container), what the
    scaffold wrote there, and the TODO comment on its line."""

    path: tuple[str | int, ...]
    value: Any
    todo: str  # "TODO: ..." without the leading "# "


def placeholder_image(app: str) -> str:
    """The image `new app` writes without --image."""
    return f"{PLACEHOLDER_REGISTRY}/{app}:{PLACEHOLDER_TAG}"


def is_placeholder_image(image: str) -> bool:
    prefix, suffix = placeholder_image("\0").split("\0")
    name = image[len(prefix) : len(image) - len(suffix)]
    return (
        image.startswith(prefix)
        and image.endswith(suffix)
        and re.fullmatch(r"[a-z0-9][-a-z0-9]*", name) is not None
    )


def aligned(text: str, comment: str, column: int = 37) -> str:
    """TEXT with COMMENT at COLUMN, as the scaffolds align them (two spaces after a longer line)."""
    return text + " " * max(column - len(text), 2) + comment


def image_line(image: str) -> str:
    """The deployment template's ``${image_line}``."""
    return aligned(f"        image: {image}", IMAGE_TODO)


def template_text(template: str, **values: str) -> str:
    """The package's TEMPLATE (``templates/``) with VALUES substituted for its ${names}."""
    text = (resources.files("gitops_gen.authoring") / "templates" / template).read_text(encoding="utf-8")
    return Template(text).substitute(values)


@cache
def placeholders() -> tuple[Placeholder, ...]:
    """Every TODO-marked value of the scaffold deployment's container except its image (which
    ``is_placeholder_image`` recognises whatever the app's name)."""
    text = template_text(
        DEPLOYMENT_TEMPLATE, name=_SAMPLE_APP, image_line=image_line(placeholder_image(_SAMPLE_APP))
    )
    (doc,), (lines,) = yamlio.load_with_lines(text, DEPLOYMENT_TEMPLATE)
    (container,) = [c for c in kube.all_containers(doc) if c.section == "containers"]
    by_line: dict[int, tuple[str | int, ...]] = {}
    for found, (line, _) in lines.items():
        path = tuple(found)
        inside = path[: len(container.path)] == container.path and len(path) > len(container.path)
        if inside and len(path) > len(by_line.get(line, ())):
            by_line[line] = path  # the most specific node written on the line
    out = []
    for number, source in enumerate(text.splitlines(), 1):
        todo = _TODO.search(source)
        where = by_line.get(number)
        if todo is None or where is None or where[-1] == "image":
            continue
        relative = where[len(container.path) :]
        out.append(Placeholder(relative, _get(container.container, relative), todo.group(0).lstrip("# ")))
    return tuple(out)


def _get(node: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        node = node[key]
    return node
