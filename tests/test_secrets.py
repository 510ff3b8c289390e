"""No command but build/render prints a secret value, in plain or base64 form (gitops_gen/secrets.py).

The fleet: the example fleet with a Secret (stringData, data, a last-applied-configuration copy) and
a secretGenerator literal, committed; then changed (so diff has something to show) and broken in
ways whose messages quote source lines. Every command's whole output is searched for the values.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen import secrets
from gitops_gen.cli import main
from gitops_gen.repo import memo, tree
from tests.faults.harness import commit_all, example_fleet

PLAIN = "s3cr3t-plain-value-42"
ENCODED = "s3cr3t-encoded-value-77"
LITERAL = "s3cr3t-generator-literal-9"
CHANGED = "s3cr3t-changed-value-13"
VALUES = [PLAIN, ENCODED, LITERAL, CHANGED]
FORMS = [*VALUES, *(base64.b64encode(v.encode()).decode() for v in VALUES)]
BASE = "apps/private-detector/base"


def secret_yaml(token: str) -> str:
    last = json.dumps({"apiVersion": "v1", "kind": "Secret", "stringData": {"token": token}})
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\n  annotations:\n"
        f"    kubectl.kubernetes.io/last-applied-configuration: '{last}'\ntype: Opaque\n"
        f"stringData:\n  token: {token}\n"
        f"data:\n  key: {base64.b64encode(ENCODED.encode()).decode()}\n"
    )


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    repo = example_fleet(tmp_path / "fleet", with_secret=False, commit=False)
    base = repo / BASE
    (base / "secret.yaml").write_text(secret_yaml(PLAIN))
    kust = base / "kustomization.yaml"
    kust.write_text(
        kust.read_text().replace("- service.yaml\n", "- service.yaml\n- secret.yaml\n")
        + f"secretGenerator:\n- name: pd-extra\n  literals:\n  - password={LITERAL}\n"
    )
    commit_all(repo)
    (base / "secret.yaml").write_text(secret_yaml(CHANGED))
    return repo


def run(repo: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args[:1], "--repo", str(repo), *args[1:]])
    assert "Traceback" not in result.output, result.output
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


COMMANDS = [
    ("validate",),
    ("validate", "--format", "json"),
    ("validate", "--format", "sarif"),
    ("validate", "--format", "github"),
    ("validate", "--format", "junit"),
    ("explain", "--cluster", "zone-1-dev", "Secret/pd-token", "stringData.token"),
    ("explain", "--cluster", "zone-1-dev", "Secret/pd-token", "data.key"),
    ("explain", "--cluster", "zone-1-dev", "Secret/pd-token", "metadata.annotations"),
    ("diff", "--base", "HEAD"),
    ("diff", "--base", "HEAD", "--format", "markdown"),
    ("diff", "--base", "HEAD", "--format", "json"),
    ("generate", "--check"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_command_prints_a_secret(fleet: Path, args: tuple[str, ...]) -> None:
    output = run(fleet, *args)
    assert output.strip() or args[0] in ("generate", "validate"), args  # a clean fleet: no output
    leaked = [v for v in FORMS if v in output]
    assert leaked == [], output


def test_errors_quoting_source_lines_hide_secrets(fleet: Path) -> None:
    # data not a mapping (validate quotes the value), and a JSON 6902 patch failing on the Secret.
    (fleet / BASE / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\ndata: {PLAIN}\n"
    )
    output = run(fleet, "validate")
    assert "pd-token" in output and not [v for v in FORMS if v in output], output
    (fleet / BASE / "secret.yaml").write_text(secret_yaml(PLAIN))
    (fleet / BASE / "p.yaml").write_text("- op: replace\n  path: /data/nope/deeper\n  value: x\n")
    kust = fleet / BASE / "kustomization.yaml"
    kust.write_text(kust.read_text() + "patches:\n- path: p.yaml\n  target: {kind: Secret, name: pd-token}\n")
    for args in (
        ("validate",),
        ("explain", "--cluster", "zone-1-dev", "Secret/pd-token", "data.key"),
        ("generate",),
    ):
        output = run(fleet, *args)
        assert not [v for v in FORMS if v in output], (args, output)


def test_render_prints_what_kustomize_prints(fleet: Path) -> None:
    output = CliRunner().invoke(main, ["render", "--repo", str(fleet), "--cluster", "zone-1-dev"]).output
    assert CHANGED in output and base64.b64encode(LITERAL.encode()).decode() in output


def test_mask_object_hides_every_form() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "annotations": {secrets.LAST_APPLIED: json.dumps({"stringData": {"t": PLAIN}})},
        },
        "data": PLAIN,
        "stringData": [PLAIN],
    }
    masked = secrets.mask_object(obj)
    assert PLAIN not in json.dumps(masked)
    assert masked["data"] == masked["stringData"] == secrets.MASK
    assert secrets.mask_object(obj, obj)["data"] == secrets.MASK
    assert secrets.mask_object(obj, {**obj, "data": "other"})["data"] == secrets.MASK_CHANGED
    assert PLAIN in secrets.object_values(obj)
    assert secrets.redact(f"x {PLAIN} y", secrets.object_values(obj)) == "x <masked> y"


TRICKY = 's3cr3t-"quoted"-välue<&>'


@pytest.fixture
def tricky_fleet(tmp_path: Path) -> Path:
    """A Secret value with a quote, a non-ASCII letter and XML specials, also copied into a ConfigMap (a
    mistake validate, diff and explain then quote): JSON, XML and YAML reporters each escape it their way."""
    repo = example_fleet(tmp_path / "fleet", with_secret=False, commit=False)
    base = repo / BASE
    (base / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\nstringData:\n  token: {json.dumps(TRICKY)}\n"
    )
    kust = base / "kustomization.yaml"
    kust.write_text(
        kust.read_text().replace("- service.yaml\n", "- service.yaml\n- secret.yaml\n- copy.yaml\n")
    )
    (base / "copy.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pd-copy\ndata: {}\n")
    commit_all(repo)
    (base / "copy.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pd-copy\ndata:\n  token: {json.dumps(TRICKY)}\n"
        "  bad: [1]\n"  # a schema error quoting the object
    )
    return repo


@pytest.mark.parametrize(
    "args",
    [*COMMANDS, ("explain", "--cluster", "zone-1-dev", "ConfigMap/pd-copy", "data.token")],
    ids=" ".join,
)
def test_escaped_secret_values_are_hidden_too(tricky_fleet: Path, args: tuple[str, ...]) -> None:
    output = run(tricky_fleet, *args)
    assert output.strip() or args[0] == "generate", args
    leaked = [form for form in secrets.escaped_forms(TRICKY) if form in output]
    assert leaked == [], output


def test_the_values_memo_gives_what_reading_every_file_gives(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def values() -> frozenset[str]:
        secrets.tree_values.cache_clear()
        return secrets.tree_values(fleet)

    later = time.time_ns() + 10 * tree.SETTLED_NS  # as if long after every write: each file stamped
    with monkeypatch.context() as m:
        m.setattr(secrets, "time_ns", lambda: later)
        first = values()
    assert CHANGED in first and LITERAL in first
    assert (fleet / ".git" / memo.DIRECTORY / secrets.VALUES_MEMO).is_file()
    read: list[str] = []
    real = secrets._file_values
    monkeypatch.setattr(secrets, "_file_values", lambda path: read.append(path) or real(path))
    assert values() == first and read == []  # every file known by its stamp
    time.sleep(0.05)  # past the file system clock's tick
    (fleet / BASE / "secret.yaml").write_text(secret_yaml(PLAIN))
    again = values()
    assert PLAIN in again and CHANGED not in again
    assert [Path(p).name for p in read] == ["secret.yaml"]  # only the file written since
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    assert values() == again


CHILD = """
import sys
from pathlib import Path
from gitops_gen import secrets
root = Path(sys.argv[1])
secrets.prefetch(root)
print("forked" if root in secrets._pending else "in-process")
got = secrets._values(root)
assert root not in secrets._pending
secrets.tree_values.cache_clear()
assert got == secrets.tree_values(root), (got, secrets.tree_values(root))
print(sorted(got))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="on one CPU prefetch works in-process, by design")
def test_values_worked_out_in_a_child_process_are_the_values(fleet: Path) -> None:
    # A fresh interpreter: this session may have run the helm SDK, and such a process never forks.
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(fleet)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    first, values = done.stdout.splitlines()
    assert first == "forked" and CHANGED in values
