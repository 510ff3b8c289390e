"""Comment-keeping round-trip editing: indentation, quoting, untouched lines keep their style."""

from __future__ import annotations

import pytest
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from gitops_gen.authoring.roundtrip import carry_over, detect_indent, rewrite, scalar


def test_scalars_are_quoted_only_when_plain_would_change_meaning() -> None:
    assert scalar("1.15.0") == "1.15.0" and type(scalar("1.15.0")) is str
    for value in ("1.15", "2", "true", "yes", "0x10", "null", "1e3", "a: b", "#x"):
        assert type(scalar(value)) is not str, value


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("a:\n- x\n", (2, 2, 0)),
        ("a:\n  - x\n", (2, 4, 2)),
        ("a:\n    b:\n        - x\n", (4, 6, 4)),
        ("a: 1\n", (2, 2, 0)),
    ],
)
def test_detect_indent(text: str, want: tuple[int, int, int]) -> None:
    assert detect_indent(text) == want


def test_lines_nobody_edits_keep_their_own_style() -> None:
    # Two sequence styles in one file: ruamel would restyle the second; only the edited line may change.
    text = "images:\n- name: a\n  newTag: '1'\nresources:\n    -   x.yaml   # odd\nreplicas: []\n"
    out = rewrite(
        text,
        "k.yaml",
        lambda doc: doc["images"][0].__setitem__("newTag", scalar("2", SingleQuotedScalarString(""))),
    )
    assert out == text.replace("newTag: '1'", "newTag: '2'")
    assert carry_over("a\n", "b\n", "c\n") == "c\n"  # nothing maps: ruamel's dump
