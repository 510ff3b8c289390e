"""The scaffold's placeholders are read from its own template: every TODO it writes is one."""

from __future__ import annotations

from pathlib import Path

import yaml

from gitops_gen import kube
from gitops_gen.authoring import scaffold_placeholders as sp
from gitops_gen.authoring.edits import ImageRef
from gitops_gen.authoring.scaffold import app_files


def test_every_todo_of_the_template_but_the_image_is_a_placeholder() -> None:
    text = sp.template_text(sp.DEPLOYMENT_TEMPLATE, name="x", image_line=sp.image_line("x:1"))
    todos = [line.split("# ", 1)[1] for line in text.splitlines() if "# TODO:" in line]
    assert sp.IMAGE_TODO[2:] in todos
    assert sorted(p.todo for p in sp.placeholders()) == sorted(t for t in todos if t != sp.IMAGE_TODO[2:])
    assert {p.path for p in sp.placeholders()} == {
        ("ports", 0, "containerPort"),
        ("readinessProbe",),
        ("resources", "requests"),
    }


def test_a_new_app_holds_every_placeholder_whatever_its_name_and_image() -> None:
    for name, image in (
        ("tiny", ImageRef(f"{sp.PLACEHOLDER_REGISTRY}/tiny", sp.PLACEHOLDER_TAG)),
        ("ranker", ImageRef("ghcr.io/x/ranker", "2.0")),
    ):
        doc = yaml.safe_load(app_files(name, image)[f"apps/{name}/base/deployment.yaml"])
        (container,) = kube.all_containers(doc)
        for placeholder in sp.placeholders():
            node = container.container
            for key in placeholder.path:
                node = node[key]
            assert node == placeholder.value, (name, placeholder)
        assert sp.is_placeholder_image(container.container["image"]) == (name == "tiny")


def test_placeholder_images() -> None:
    assert sp.is_placeholder_image(sp.placeholder_image("spam-detector"))
    assert not sp.is_placeholder_image("registry.example.com/bumble/spam-detector:0.9.4-bumble.1")
    assert not sp.is_placeholder_image("registry.example.com/tiny:0.1.1")
    assert not sp.is_placeholder_image("registry.example.com/Tiny:0.1.0")


def test_validate_names_every_placeholder_a_new_app_writes(tmp_path: Path) -> None:
    from tests.authoring.test_edits import cli, fleet

    def placeholder_lines(out: str) -> set[str]:
        return {
            ":".join(line.split(":")[:2]) for line in out.splitlines() if "[scaffold-placeholder]" in line
        }

    repo = fleet(tmp_path)
    assert cli(repo, "new", "app", "scorer")[0] == 0
    assert cli(repo, "enable", "scorer", "--cluster", "dev-a")[0] == 0
    path = repo / "apps/scorer/base/deployment.yaml"
    todos = {
        f"apps/scorer/base/deployment.yaml:{n}"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "# TODO:" in line
    }
    found = placeholder_lines(cli(repo, "validate", "--cluster", "dev-a")[1])
    assert found == todos and len(found) == 1 + len(sp.placeholders())
    # Filled in (the TODO comments gone, the values kept, a real image): nothing left to say.
    text = path.read_text().replace("# TODO:", "# checked:")
    path.write_text(text.replace(sp.placeholder_image("scorer"), "scorer:1.0"))
    assert placeholder_lines(cli(repo, "validate", "--cluster", "dev-a")[1]) == set()
