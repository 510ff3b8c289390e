"""Authoring commands (`new`, `enable`, `disable`, `set image`).

Golden cases live in tests/data/authoring/<case>/: the shared fleet
tests/data/authoring/fleet/ plus the case's optional before/ tree is copied to
tmp_path and generated; then the argv in command.txt runs against it. A case
expects either error.txt (the one line on stderr, exit 1, nothing changed) or
success: every file under after/ has exactly those bytes, every hand-written
file that changed is under after/, stdout.txt (if present) is the exact output,
and `generate --check` passes afterwards.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_gen.authoring.edits import (
    ImageRef,
    parse_assignments,
    parse_image,
    pinned_image,
    set_app_enabled,
    set_image_entry,
)
from gitops_gen.cli import main
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet.generate import is_generated
from tests.conftest import kubectl_kustomize, requires_kubectl

DATA = Path(__file__).parents[1] / "data" / "authoring"
FLEET = DATA / "fleet"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir() and p.name != "fleet")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


def cli(repo: Path, *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*argv, "--repo", str(repo)])
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, result.stdout, result.stderr


def fleet(tmp_path: Path, case: str | None = None) -> Path:
    """The shared fleet plus CASE's before/ tree, generated: a consistent starting point."""
    repo = tmp_path / "repo"
    shutil.copytree(FLEET, repo)
    if case is not None and (DATA / case / "before").is_dir():
        shutil.copytree(DATA / case / "before", repo, dirs_exist_ok=True)
    code, _, err = cli(repo, "generate")
    assert code == 0, err
    return repo


def test_every_case_is_complete() -> None:
    assert len(CASES) >= 15
    for case in CASES:
        d = DATA / case
        assert (d / "command.txt").is_file(), case
        assert (d / "error.txt").is_file() != (d / "after").is_dir(), f"{case}: error.txt or after/, not both"


@pytest.mark.parametrize("case", CASES)
def test_golden(tmp_path: Path, case: str) -> None:
    d = DATA / case
    repo = fleet(tmp_path, case)
    before = snapshot(repo)
    code, out, err = cli(repo, *shlex.split((d / "command.txt").read_text()))
    after = snapshot(repo)
    if (d / "error.txt").is_file():
        # Usage errors (an argument naming nothing that exists, or malformed) exit 2; input problems 1.
        expected = int((d / "exit-code.txt").read_text()) if (d / "exit-code.txt").is_file() else 1
        assert (code, err) == (expected, (d / "error.txt").read_text())
        assert after == before, "a failed command must change nothing"
        return
    assert code == 0, err
    expected = {
        p.relative_to(d / "after").as_posix(): p.read_bytes()
        for p in sorted((d / "after").rglob("*"))
        if p.is_file()
    }
    for path, data in expected.items():
        assert after.get(path) == data, f"{case}: {path} differs"
    changed = {p for p in after.keys() | before.keys() if after.get(p) != before.get(p)}
    hand_written = {p for p in changed if p in after and not is_generated(after[p])}
    assert hand_written <= expected.keys(), (
        f"{case}: unexpected edits {sorted(hand_written - expected.keys())}"
    )
    assert all(p in after for p in hand_written | (expected.keys())), "nothing hand-written is removed"
    if (d / "stdout.txt").is_file():
        assert out == (d / "stdout.txt").read_text()
    assert cli(repo, "generate", "--check")[0] == 0


# ---------------------------------------------------------------- edit rules, directly


CLUSTER = """\
spec:
  layers: {env: dev}
  apps:
    - a                      # why a
    # about b
    - name: b
      enabled: false         # not yet
      # after b
    - name: c
      overlay: x             # chain
    - {name: d, enabled: false}  # flow
"""


def test_disable_then_enable_restores_the_bytes() -> None:
    off, what = set_app_enabled(CLUSTER, "c.yaml", "a", False)
    assert what == "disabled"
    assert "    - name: a                # why a\n      enabled: false\n    # about b\n" in off
    on, what = set_app_enabled(off, "c.yaml", "a", True)
    assert (on, what) == (CLUSTER, "enabled")


def test_enable_keeps_every_comment() -> None:
    on, _ = set_app_enabled(CLUSTER, "c.yaml", "b", True)
    assert "    # about b\n    - b                      # not yet\n      # after b\n    - name: c\n" in on
    on, _ = set_app_enabled(CLUSTER, "c.yaml", "d", True)
    assert on.endswith("    - d  # flow\n")  # not aligned with others: it keeps its distance


def test_disable_a_mapping_entry_adds_enabled_after_its_name() -> None:
    off, _ = set_app_enabled(CLUSTER, "c.yaml", "c", False)
    assert "    - name: c\n      enabled: false\n      overlay: x             # chain\n" in off


@pytest.mark.parametrize(
    ("app", "enabled", "outcome"),
    [("a", True, "already enabled"), ("b", False, "already disabled"), ("zz", False, "not listed")],
)
def test_no_op_edits_return_the_text_unchanged(app: str, enabled: bool, outcome: str) -> None:
    assert set_app_enabled(CLUSTER, "c.yaml", app, enabled) == (CLUSTER, outcome)


def test_enable_grows_an_empty_flow_list_into_a_block_list() -> None:
    text = (
        "spec:\n  nodePools: []\n  apps: []\n"  # no block list to copy the style of: docs/design.md's style
    )
    assert set_app_enabled(text, "c.yaml", "web", True)[0] == "spec:\n  nodePools: []\n  apps:\n    - web\n"


def test_set_image_updates_in_place_and_swaps_tag_for_digest() -> None:
    text = "images:\n- name: pd   # the model\n  newName: old.example.com/pd\n  newTag: '1.2'  # pinned\n"
    out = set_image_entry(text, "k.yaml", "pd", ImageRef("pd", None, DIGEST))
    assert (
        out
        == f"images:\n- name: pd   # the model\n  newName: old.example.com/pd\n  digest: {DIGEST}  # pinned\n"
    )
    out = set_image_entry(text, "k.yaml", "pd", ImageRef("reg.example.com/pd", "1.3"))
    assert (
        out == "images:\n- name: pd   # the model\n  newName: reg.example.com/pd\n  newTag: '1.3'  # pinned\n"
    )
    # A name with a path equal to the entry's drops the rename.
    out = set_image_entry(text.replace("pd", "r.io/pd"), "k.yaml", "r.io/pd", ImageRef("r.io/pd", "2"))
    assert out == "images:\n- name: r.io/pd   # the model\n  newTag: '2'  # pinned\n"


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        ("pd:1.15.0", ImageRef("pd", "1.15.0")),
        ("registry.example.com:5000/team/pd:1.2", ImageRef("registry.example.com:5000/team/pd", "1.2")),
        ("registry.example.com:5000/pd", ImageRef("registry.example.com:5000/pd")),
        (f"pd@{DIGEST}", ImageRef("pd", None, DIGEST)),
    ],
)
def test_parse_image(ref: str, want: ImageRef) -> None:
    assert parse_image(ref) == want
    assert str(want) == ref


@pytest.mark.parametrize("ref", ["pd", "pd:latest", "Pd:1", "pd:1.2@" + DIGEST, "pd@sha256:xyz", "pd:"])
def test_unpinned_or_bad_images_are_refused(ref: str) -> None:
    with pytest.raises(GitopsGenError):
        pinned_image(ref)


def test_parse_assignments() -> None:
    assert parse_assignments(["env=prod", "zone=z1", "env=prod"], "--where") == {"env": "prod", "zone": "z1"}
    for bad in (["env"], ["=x"], ["env="], ["env=a", "env=b"]):
        with pytest.raises(GitopsGenError):
            parse_assignments(bad, "--where")


def test_rewrite_keeps_crlf_line_endings() -> None:
    out = set_app_enabled("spec:\r\n  apps:\r\n  - a\r\n", "c.yaml", "b", True)[0]
    assert out == "spec:\r\n  apps:\r\n  - a\r\n  - b\r\n"


def test_invalid_yaml_is_a_one_line_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(GitopsGenError) as err:
        set_app_enabled("spec:\n  apps: [a\n", "clusters/x/cluster.yaml", "a", False)
    assert str(err.value).startswith("clusters/x/cluster.yaml:")


# ---------------------------------------------------------------- end to end


def test_either_cluster_or_where_is_a_usage_error(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    assert cli(repo, "enable", "ranker")[0] == 2
    assert cli(repo, "enable", "ranker", "--cluster", "dev-a", "--where", "env=dev")[0] == 2


def test_a_change_that_breaks_generate_writes_nothing(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    # A hand-written file where generate must write the new cluster's mapping: refused before any write.
    (repo / "mapping" / "dev-b").mkdir(parents=True)
    (repo / "mapping" / "dev-b" / "kustomization.yaml").write_text("resources: []\n")
    before = snapshot(repo)
    code, _, err = cli(
        repo, "new", "cluster", "dev-b", "--layer", "company=acme", "--layer", "zone=z1", "--layer", "env=dev"
    )
    assert code == 1 and err.count("\n") == 1 and "hand-written" in err
    assert snapshot(repo) == before


def test_set_image_twice_is_a_no_op(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    assert cli(repo, "set", "image", "detector", "det:1.3.0", "--layer", "company=acme")[:2] == (
        0,
        "note: apps/detector/company/acme/kustomization.yaml: already sets det to det:1.3.0\nnothing to change\n",
    )


def test_a_rename_notes_later_entries_it_strands(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    code, out, _ = cli(repo, "set", "image", "detector", "mirror.example.com/det:1.5.0")
    assert code == 0
    assert "note: apps/detector/company/acme/kustomization.yaml sets images for 'det'" in out


def _validate_or_render(repo: Path, cluster: str) -> str:
    """validate once gitops_gen/validate.py exists; the kubectl render of the mapping in any case.

    The shared fleet predates app namespaces: give each app its own, as a fleet Flux can apply must.
    """
    config = repo / "gitops-gen.yaml"
    config.write_text(config.read_text() + 'namespace: "{app}"\n')
    assert cli(repo, "generate")[0] == 0
    if importlib.util.find_spec("gitops_gen.checks.validate") is not None:
        code, out, err = cli(repo, "validate", "--cluster", cluster)
        assert code == 0, out + err
    rendered = kubectl_kustomize(repo / "mapping" / cluster)
    assert rendered.returncode == 0, rendered.stderr
    return rendered.stdout


@requires_kubectl
def test_scaffolded_app_and_layers_render(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    steps = [
        ("new", "app", "embedder", "--image", "registry.example.com/ml/embedder:0.3.1"),
        ("enable", "embedder", "--cluster", "dev-a"),
        ("new", "layer", "embedder", "env=dev"),
        ("new", "layer", "embedder", "cluster=dev-a"),
        ("set", "image", "embedder", "embedder:0.3.2", "--layer", "env=dev"),
    ]
    for argv in steps:
        code, _, err = cli(repo, *argv)
        assert code == 0, (argv, err)
        assert cli(repo, "generate", "--check")[0] == 0
    out = _validate_or_render(repo, "dev-a")
    assert "image: registry.example.com/ml/embedder:0.3.2" in out
    assert "nvidia.com/gpu: 1" in out and "readinessProbe:" in out
    variant = (repo / "apps/embedder/overlays/dev-a/kustomization.yaml").read_text()
    assert variant.endswith("components:\n- ../../env/dev\n- ../../cluster/dev-a\n")


@requires_kubectl
def test_new_layer_patch_targets_the_base_workload(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    assert cli(repo, "new", "layer", "ranker", "zone=z2")[0] == 0
    patch = repo / "apps/ranker/zone/z2/deployment-patch.yaml"
    patch.write_text(patch.read_text() + "spec:\n  minReadySeconds: 7\n")
    assert cli(repo, "generate", "--check")[0] == 0
    assert "minReadySeconds: 7" in _validate_or_render(repo, "prod-b")


@requires_kubectl
def test_disable_where_prod_comments_the_app_out_of_prod_only(tmp_path: Path) -> None:
    repo = fleet(tmp_path)
    assert cli(repo, "disable", "detector", "--where", "env=prod")[0] == 0
    assert "name: detector" not in kubectl_kustomize(repo / "mapping" / "prod-a").stdout
    assert "name: detector" not in kubectl_kustomize(repo / "mapping" / "prod-b").stdout
    assert "name: detector" in kubectl_kustomize(repo / "mapping" / "dev-a").stdout


def test_document_start_and_closing_comments_stay_put() -> None:
    text = "---\n# top\nspec:\n  apps:\n  - a   # first\n# closing\n"
    assert set_app_enabled(text, "c.yaml", "b", True)[0] == (
        "---\n# top\nspec:\n  apps:\n  - a   # first\n  - b\n# closing\n"
    )
    text = "spec:\n  layers: {env: dev}  # x\n# closing\n"
    assert set_app_enabled(text, "c.yaml", "b", True)[0] == (
        "spec:\n  layers: {env: dev}  # x\n  apps:\n    - b\n# closing\n"
    )
    text = "resources:\n- a.yaml\n# closing\n"
    assert set_image_entry(text, "k.yaml", "pd", ImageRef("pd", "1.2.3")) == (
        "resources:\n- a.yaml\nimages:\n- name: pd\n  newTag: 1.2.3\n# closing\n"
    )


_ENTRY = st.tuples(st.sampled_from(["a", "b-1", "c2", "dd"]), st.sampled_from(["", "  # why", " # x: y"]))


@settings(max_examples=40, deadline=None)
@given(
    entries=st.lists(_ENTRY, min_size=1, max_size=4, unique_by=lambda e: e[0]),
    offset=st.sampled_from([0, 2]),
    trailing=st.sampled_from(["", "# end\n"]),
    pick=st.integers(0, 3),
)
def test_disable_then_enable_is_the_identity_on_plain_entries(
    entries: list[tuple[str, str]], offset: int, trailing: str, pick: int
) -> None:
    dash = " " * (2 + offset)
    text = "spec:\n  apps:\n" + "".join(f"{dash}- {name}{comment}\n" for name, comment in entries) + trailing
    app = entries[pick % len(entries)][0]
    off, _ = set_app_enabled(text, "c.yaml", app, False)
    assert f"{dash}- name: {app}" in off and f"{dash}  enabled: false\n" in off
    assert off.endswith(trailing)
    assert set_app_enabled(off, "c.yaml", app, True)[0] == text
