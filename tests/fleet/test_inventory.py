"""The inventory: gitops-gen.yaml and clusters/*/cluster.yaml, loaded and validated.

Bad inventories are data: tests/data/inventory/cases/<name>/ holds the broken
file(s), laid over the valid fleet in tests/data/inventory/base/, and
expected.txt with the expected ``path:line`` and a fragment of the message.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_gen.cli import main
from gitops_gen.errors import GitopsGenError
from gitops_gen.fleet import inventory
from gitops_gen.fleet.generate import check_app_sources
from gitops_gen.fleet.inventory import (
    AppRef,
    Cluster,
    Fleet,
    check_fleet,
    field_name,
    load_fleet,
    locate,
    schema_text,
)
from gitops_gen.repo.tree import DiskTree, GitTree

DATA = Path(__file__).parents[1] / "data"
BASE = DATA / "inventory" / "base"
CASES_DIR = DATA / "inventory" / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
ROOT = Path(__file__).parents[1].parent


def make_fleet(tmp_path: Path, case: str | None = None) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    if case is not None:
        src = CASES_DIR / case
        for path in src.rglob("*"):
            if path.is_file() and path.name != "expected.txt":
                target = repo / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return repo


def expected(case: str) -> tuple[str, str]:
    where, fragment = (CASES_DIR / case / "expected.txt").read_text().splitlines()[:2]
    return where, fragment


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


# ---------------------------------------------------------------- the valid fleet


def test_base_fleet_loads_with_defaults(tmp_path: Path) -> None:
    fleet = load_fleet(DiskTree(make_fleet(tmp_path)))
    assert fleet.config.layers == ("zone", "env")
    assert fleet.config.all_layers == ("zone", "env", "cluster")
    assert fleet.config.engine == "flux"
    assert fleet.config.repo_url is None
    assert list(fleet.clusters) == ["dev"]
    dev = fleet.cluster("dev")
    assert dev.path == "clusters/dev/cluster.yaml"
    assert dev.layers == {"zone": "zone-1", "env": "dev"}
    assert dev.layer_chain == (("zone", "zone-1"), ("env", "dev"), ("cluster", "dev"))
    assert dev.kubernetes_version == "1.30"  # from gitops-gen.yaml
    assert dev.engine == "flux"
    assert dev.node_pools == [
        {
            "name": "gpu",
            "nodes": 2,
            "gpu": {"product": "NVIDIA-A100-PCIE-40GB", "count": 1},
            "mig": {"strategy": "mixed", "config": "all-1g.5gb"},
        }
    ]
    assert dev.apps == [AppRef("web", True, None, 19, 5)]
    assert dev.position("spec", "nodePools", 0, "mig", "config") == (17, 7)
    assert dev.position("spec", "nodePools", 0, "labels", "x") == (10, 5)  # nearest written ancestor


def test_cluster_overrides_and_app_forms(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(
        repo,
        "gitops-gen.yaml",
        "apiVersion: gitops-gen/v1alpha1\nkind: Config\nlayers: [zone, env]\n"
        "kubernetesVersion: '1.29'\ngitops: {repoURL: https://git.example.com/x.git}\n",
    )
    write(
        repo,
        "clusters/b/cluster.yaml",
        """\
apiVersion: gitops-gen/v1alpha1
kind: Cluster
metadata: {name: b}
spec:
  layers: {env: prod, zone: z2}
  kubernetesVersion: "1.31"
  gitops: {engine: argocd}
  apps:
  - {name: web, enabled: false}
  - name: web2
    overlay: custom.v2
    enabled: true
""",
    )
    fleet = load_fleet(DiskTree(repo))
    assert list(fleet.clusters) == ["b", "dev"]
    b = fleet.clusters["b"]
    assert list(b.layers.items()) == [("zone", "z2"), ("env", "prod")]  # config order, not file order
    assert (b.kubernetes_version, b.engine, b.node_pools) == ("1.31", "argocd", [])
    assert b.apps == [AppRef("web", False, None, 9, 5), AppRef("web2", True, "custom.v2", 10, 5)]
    assert b.enabled_apps == [b.apps[1]]
    assert fleet.config.branch == "main"
    assert fleet.cluster("dev").kubernetes_version == "1.29"


def test_unknown_cluster_is_a_user_error(tmp_path: Path) -> None:
    fleet = load_fleet(DiskTree(make_fleet(tmp_path)))
    with pytest.raises(GitopsGenError, match="unknown cluster 'nope' \\(clusters: dev\\)"):
        fleet.cluster("nope")


def test_directory_of_hand_written_files_is_not_a_cluster(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(repo, "clusters/notes/sync.yaml", "kind: Kustomization\n")
    write(repo, "clusters/README.md", "notes\n")
    assert list(load_fleet(DiskTree(repo)).clusters) == ["dev"]


@pytest.mark.parametrize(
    "left",
    [
        {"sync.yaml": "# Generated by gitops-gen from x. Do not edit.\n"},
        {"cluster.yml": "kind: Cluster\n"},
        {},
    ],
)
def test_cluster_directory_that_lost_its_cluster_yaml_is_an_error(
    tmp_path: Path, left: dict[str, str]
) -> None:
    # Dropping it silently would delete its mapping and sync object (and Flux would prune it).
    repo = make_fleet(tmp_path)
    (repo / "clusters/gone").mkdir()
    for name, text in left.items():
        write(repo, f"clusters/gone/{name}", text)
    fleet, problems = check_fleet(DiskTree(repo))
    assert fleet is None
    assert [p.format() for p in problems] == [
        "clusters/gone:1:1: error: [schema] no readable cluster.yaml in this cluster directory (to remove the "
        "cluster, delete the whole directory)"
    ]


def test_missing_config(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    (repo / "gitops-gen.yaml").unlink()
    fleet, problems = check_fleet(DiskTree(repo))
    assert fleet is None
    assert [p.format() for p in problems] == [
        "gitops-gen.yaml:1:1: error: [schema] no gitops-gen.yaml: is --repo the root of a fleet repository?"
    ]


def test_cluster_without_kubernetes_version_anywhere(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(repo, "gitops-gen.yaml", "apiVersion: gitops-gen/v1alpha1\nkind: Config\nlayers: [zone, env]\n")
    with pytest.raises(GitopsGenError) as err:
        load_fleet(DiskTree(repo))
    assert str(err.value).startswith("clusters/dev/cluster.yaml:5:1: spec.kubernetesVersion: required")


def test_argocd_cluster_needs_repo_url(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    text = (
        (repo / "clusters/dev/cluster.yaml")
        .read_text()
        .replace("  apps:", "  gitops:\n    engine: argocd\n  apps:")
    )
    write(repo, "clusters/dev/cluster.yaml", text)
    with pytest.raises(GitopsGenError, match=r"argocd needs gitops\.repoURL") as err:
        load_fleet(DiskTree(repo))
    assert (err.value.path, err.value.line) == ("clusters/dev/cluster.yaml", 19)


def test_no_layers_configured_means_spec_layers_optional(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(
        repo,
        "gitops-gen.yaml",
        "apiVersion: gitops-gen/v1alpha1\nkind: Config\nlayers: []\nkubernetesVersion: '1.30'\n",
    )
    write(
        repo,
        "clusters/dev/cluster.yaml",
        "apiVersion: gitops-gen/v1alpha1\nkind: Cluster\nmetadata: {name: dev}\nspec: {apps: [web]}\n",
    )
    dev = load_fleet(DiskTree(repo)).cluster("dev")
    assert dev.layers == {}
    assert dev.layer_chain == (("cluster", "dev"),)


def test_every_problem_is_collected_and_sorted(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(
        repo,
        "clusters/dev/cluster.yaml",
        """\
apiVersion: gitops-gen/v1alpha1
kind: Cluster
metadata:
  name: dev
  labels: {a: b}
spec:
  layers: {zone: z, env: 1}
  nodePools:
  - {name: a, nodes: 0}
  - {name: a, nodes: 1, color: red}
""",
    )
    write(repo, "clusters/other/cluster.yaml", "apiVersion: [\n")
    fleet, problems = check_fleet(DiskTree(repo))
    assert fleet is None
    assert [(p.path, p.line, p.rule, p.message) for p in problems] == [
        ("clusters/dev/cluster.yaml", 5, "schema", "metadata.labels: unknown field"),
        ("clusters/dev/cluster.yaml", 7, "schema", "spec.layers.env: expected a string, got an integer 1"),
        ("clusters/dev/cluster.yaml", 9, "schema", "spec.nodePools[0].nodes: must be >= 1, got 0"),
        (
            "clusters/dev/cluster.yaml",
            10,
            "schema",
            "spec.nodePools[1]: duplicate node pool 'a' (first at line 9)",
        ),
        ("clusters/dev/cluster.yaml", 10, "schema", "spec.nodePools[1].color: unknown field"),
        ("clusters/other/cluster.yaml", 2, "yaml", problems[-1].message),
    ]
    assert problems[-1].message.startswith("invalid YAML")


def test_config_problems_come_first(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    write(repo, "gitops-gen.yaml", "apiVersion: gitops-gen/v1alpha1\nkind: Config\n")
    write(repo, "clusters/dev/cluster.yaml", "apiVersion: x\n")
    fleet, problems = check_fleet(DiskTree(repo))
    assert fleet is None
    assert problems[0].format() == "gitops-gen.yaml:1:1: error: [schema] layers: missing required field"
    assert [p.message for p in problems[1:]] == [
        'apiVersion: must be "gitops-gen/v1alpha1", got "x"',
        "kind: missing required field",
        "metadata: missing required field",
        "spec: missing required field",
    ]
    with pytest.raises(GitopsGenError, match=r"layers: missing required field \(and 4 more problems\)"):
        load_fleet(DiskTree(repo))


def test_multi_document_cluster_file(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path)
    text = (repo / "clusters/dev/cluster.yaml").read_text()
    write(repo, "clusters/dev/cluster.yaml", text + "---\nkind: Cluster\n")
    _, problems = check_fleet(DiskTree(repo))
    assert [(p.line, p.message) for p in problems] == [(21, "expected one YAML document, found more")]


def test_reads_a_git_revision(tmp_path: Path) -> None:
    import git

    repo = make_fleet(tmp_path)
    g = git.Repo.init(repo)
    g.index.add(["gitops-gen.yaml", "clusters/dev/cluster.yaml", "apps/web/base/kustomization.yaml"])
    g.index.commit("init", author=git.Actor("t", "t@example.com"), committer=git.Actor("t", "t@example.com"))
    write(repo, "clusters/dev/cluster.yaml", "broken: [\n")  # the working tree is not what we read
    fleet = load_fleet(GitTree(g, "HEAD"))
    assert fleet.cluster("dev").apps[0].name == "web"
    g.close()


# ---------------------------------------------------------------- bad inventories, table-driven


def test_enough_bad_inventory_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
def test_bad_inventory_gives_one_located_problem(case: str, tmp_path: Path) -> None:
    where, fragment = expected(case)
    tree = DiskTree(make_fleet(tmp_path, case))
    fleet, problems = check_fleet(tree)
    if fleet is not None:  # the inventory is fine; the app references are not
        problems = check_app_sources(tree, fleet)
    assert len(problems) == 1, [p.format() for p in problems]
    assert f"{problems[0].path}:{problems[0].line}".startswith(where)
    assert fragment in problems[0].message


@pytest.mark.parametrize("case", CASES)
def test_bad_inventory_via_cli(case: str, tmp_path: Path) -> None:
    where, fragment = expected(case)
    repo = make_fleet(tmp_path, case)
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    result = CliRunner().invoke(main, ["generate", "--repo", str(repo)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"gitops-gen: error: {where}")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before  # nothing written


# ---------------------------------------------------------------- helpers and schemas


@pytest.mark.parametrize(
    ("node", "text"),
    [
        ((), "(document)"),
        (("spec",), "spec"),
        (("spec", "nodePools", 0, "gpu", "count"), "spec.nodePools[0].gpu.count"),
        (("layers", 2), "layers[2]"),
    ],
)
def test_field_name(node: tuple[str | int, ...], text: str) -> None:
    assert field_name(node) == text


def test_locate_falls_back_to_ancestors() -> None:
    lines = {(): (1, 1), ("spec",): (3, 1), ("spec", "apps", 0): (5, 5)}
    assert locate(lines, ("spec", "apps", 0, "name")) == (5, 5)
    assert locate(lines, ("spec", "layers")) == (3, 1)
    assert locate(lines, ("metadata",)) == (1, 1)
    assert locate({}, ("x",)) == (1, 1)


@pytest.mark.parametrize("name", ["config.schema.json", "cluster.schema.json"])
def test_top_level_schemas_are_the_packaged_ones(name: str) -> None:
    assert (ROOT / "schemas" / name).read_text() == schema_text(name)
    assert (ROOT / "gitops_gen" / "schemas" / name).read_text() == schema_text(name)


def test_schemas_are_valid_json_schemas() -> None:
    import json

    import jsonschema

    for name in ("config.schema.json", "cluster.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(schema_text(name)))


def test_design_example_cluster_is_valid(tmp_path: Path) -> None:
    # The cluster.yaml printed in docs/design.md section 1, verbatim.
    repo = make_fleet(tmp_path)
    write(
        repo,
        "gitops-gen.yaml",
        "apiVersion: gitops-gen/v1alpha1\nkind: Config\nlayers: [company, zone, env]\n",
    )
    shutil.rmtree(repo / "clusters/dev")
    write(
        repo,
        "clusters/zone-1-dev/cluster.yaml",
        """\
apiVersion: gitops-gen/v1alpha1
kind: Cluster
metadata:
  name: zone-1-dev
spec:
  layers: {company: bumble, zone: zone-1, env: dev}
  kubernetesVersion: "1.30"
  gitops: {engine: flux}            # or argocd; default from gitops-gen.yaml
  nodePools:
    - name: a100-mig
      nodes: 2
      gpu: {product: NVIDIA-A100-PCIE-40GB, count: 1}
      mig: {strategy: mixed, config: all-1g.5gb}
      labels: {pool: gpu}
  apps:
    - private-detector
    - name: toxicity-detector
      enabled: false                 # stays in mapping/ as a commented-out line
""",
    )
    cluster = load_fleet(DiskTree(repo)).cluster("zone-1-dev")
    assert isinstance(cluster, Cluster)
    assert [(a.name, a.enabled) for a in cluster.apps] == [
        ("private-detector", True),
        ("toxicity-detector", False),
    ]


def test_example_fleet_at_repo_root_loads() -> None:
    fleet = load_fleet(DiskTree(ROOT))
    assert isinstance(fleet, Fleet)
    assert {c.engine for c in fleet.clusters.values()} == {"flux", "argocd"}


def test_two_hundred_clusters_load_quickly(tmp_path: Path) -> None:
    # Not a timing test (timing belongs in bench/): it checks that a large fleet loads correctly.
    repo = make_fleet(tmp_path)
    text = (repo / "clusters/dev/cluster.yaml").read_text()
    for i in range(200):
        write(repo, f"clusters/c{i:03d}/cluster.yaml", text.replace("name: dev", f"name: c{i:03d}"))
    fleet = load_fleet(DiskTree(repo))
    assert len(fleet.clusters) == 201
    assert list(fleet.clusters)[:2] == ["c000", "c001"]


def test_cli_uses_git_toplevel_by_default(tmp_path: Path) -> None:
    repo = make_fleet(tmp_path, "name-mismatch")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "gitops_gen", "generate", "--check"],
        cwd=repo / "clusters",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("gitops-gen: error: clusters/dev/cluster.yaml:4:3: metadata.name:")


# ---------------------------------------------------------------- the fast validation path

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 9),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(["", "web", "Web", "a-b", "-x", "x" * 64, "mixed", "none", "all-1g.5gb"]),
)
_keys = st.sampled_from(
    [
        "name",
        "nodes",
        "labels",
        "gpu",
        "mig",
        "sharing",
        "enabled",
        "overlay",
        "product",
        "count",
        "strategy",
        "config",
        "replicas",
        "extra",
    ]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=8,
)
_pool = st.one_of(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["gpu", "cpu", "Bad"]), "nodes": st.integers(0, 3)},
        optional={
            "gpu": st.fixed_dictionaries(
                {"product": st.sampled_from(["NVIDIA-L4", ""]), "count": st.integers(0, 2)}
            ),
            "mig": st.fixed_dictionaries({"strategy": st.sampled_from(["mixed", "x"])}),
            "labels": st.dictionaries(st.sampled_from(["a", "b"]), _scalars, max_size=2),
        },
    ),
    _values,
)
_app = st.one_of(
    st.sampled_from(["web", "api-1", "Web", "", "x" * 64]),
    st.fixed_dictionaries(
        {"name": st.sampled_from(["web", "Bad"])},
        optional={
            "enabled": st.one_of(st.booleans(), st.just("yes")),
            "overlay": st.sampled_from(["custom", "../x", "v1.2"]),
        },
    ),
    _values,
)


_good_pool = st.fixed_dictionaries(
    {"name": st.sampled_from(["gpu", "cpu"]), "nodes": st.integers(1, 3)},
    optional={
        "labels": st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"]), max_size=2)
    },
)
_good_app = st.one_of(
    st.sampled_from(["web", "api-1"]),
    st.fixed_dictionaries({"name": st.just("web")}, optional={"enabled": st.booleans()}),
)


@settings(max_examples=200, deadline=None)
@given(
    pools=st.one_of(st.lists(st.one_of(_good_pool, _good_pool, _pool), max_size=3), _values),
    apps=st.one_of(st.lists(st.one_of(_good_app, _good_app, _good_app, _app), max_size=4), _values),
    spec_extra=st.dictionaries(st.sampled_from(["kubernetesVersion", "region"]), _scalars, max_size=1),
)
def test_quick_validation_agrees_with_jsonschema(
    pools: object, apps: object, spec_extra: dict[str, object]
) -> None:
    layers = ("zone",)
    validator = inventory._cluster_validator(layers)
    doc: Any = {
        "apiVersion": "gitops-gen/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "c"},
        "spec": {"layers": {"zone": "z"}, "nodePools": pools, "apps": apps, **spec_extra},
    }
    assert inventory._quick_valid(validator, doc) == validator.is_valid(doc)
