"""N shards merged give exactly what one run gives: render (the files), validate (every format, exit
code), diff (every format, --exit-code). On the example fleet, a 12-cluster bench fleet with problems
on many clusters, and the validate case folders; then what the merge refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import fleetgen
from gitops_gen.checks.partial import Part, finish_parts
from gitops_gen.cli import main
from gitops_gen.errors import Problem
from gitops_gen.report.problems import REPORTERS as PROBLEM_FORMATS
from gitops_gen.report.shards import merge_validate, read_results
from tests.fleetrepo import example_fleet_repo, git

DATA = Path(__file__).parents[1] / "data" / "validate"
VALIDATE_CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir() and p.name != "base-fleet")
DIFF_FORMATS = ("text", "markdown", "json")
BENCH = fleetgen.FleetParams(clusters=12, apps=8, apps_per_cluster=5, seed=3)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def shard_counts(clusters: int) -> list[int]:
    return sorted({1, 2, 3, 5, clusters + 2})  # the last: more shards than clusters (some shards empty)


def write_shards(out: Path, n: int, *args: str) -> Path:
    """Run ARGS (a `validate` or `diff` command line) as N shards; their results in OUT/."""
    out.mkdir(parents=True)
    for i in range(1, n + 1):
        code, text, err = cli(*args, "--shard", f"{i}/{n}", "--format", "json")
        assert code == 0, err
        (out / f"shard-{i}.json").write_text(text)
    return out


# ---------------------------------------------------------------- fleets


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example fleet, committed, with a worktree change that two apps and two clusters see."""
    repo = example_fleet_repo(tmp_path_factory.mktemp("example") / "fleet")
    path = repo / "apps/private-detector/env/prod/kustomization.yaml"
    path.write_text(path.read_text().replace("count: 10", "count: 12"))
    path = repo / "apps/toxicity-detector/base/deployment.yaml"
    path.write_text(path.read_text().replace("replicas: 1\n", "replicas: 2\n", 1))
    return repo


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 generated clusters, committed clean; the worktree then has problems on many clusters (an
    image tag, an unmatched patch target in a shared component, an unused layer, a stale mapping)
    and a change the diff shows on most clusters, one cluster removed and one added."""
    return make_bench_fleet(tmp_path_factory.mktemp("bench") / "fleet")


def make_bench_fleet(repo: Path) -> Path:
    repo.mkdir()
    fleetgen.write_fleet(fleetgen.build_fleet(BENCH), repo)
    assert cli("generate", "--repo", str(repo))[0] == 0
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "fleet@example.com")
    git(repo, "config", "user.name", "Fleet Tester")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    base = repo / "apps/code-assist-detector/base/deployment.yaml"
    base.write_text(base.read_text().replace("dcgm-exporter:3.3.7-3.5.0-ubuntu22.04", "dcgm-exporter:latest"))
    kustomization = repo / "apps/code-assist-detector/base/kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text()
        + "patches:\n- target:\n    kind: Deployment\n    name: no-such-deployment\n"
        "  patch: |-\n    - op: add\n      path: /metadata/labels/x\n      value: y\n"
    )
    unused = repo / "apps/code-assist-classifier/zone/zone-99/kustomization.yaml"
    unused.parent.mkdir(parents=True)
    unused.write_text("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n")
    shutil.rmtree(repo / "clusters/zone-3-dev-a")
    added = repo / "clusters/zone-1-dev-b/cluster.yaml"
    added.parent.mkdir()
    added.write_text(
        (repo / "clusters/zone-1-dev-a/cluster.yaml").read_text().replace("zone-1-dev-a", "zone-1-dev-b")
    )
    assert cli("generate", "--repo", str(repo))[0] == 0
    mapping = repo / "mapping/zone-1-dev-a/kustomization.yaml"
    mapping.write_text(mapping.read_text() + "# edited by hand\n")
    return repo


def clusters_of(repo: Path) -> int:
    return len([p for p in (repo / "clusters").iterdir() if (p / "cluster.yaml").is_file()])


# ---------------------------------------------------------------- validate


def assert_validate_merges(repo: Path, tmp: Path, counts: list[int], formats: tuple[str, ...]) -> None:
    one = {fmt: cli("validate", "--repo", str(repo), "--format", fmt)[:2] for fmt in formats}
    strict = cli("validate", "--repo", str(repo), "--strict")[0]
    for n in counts:
        shards = write_shards(tmp / f"validate-{n}", n, "validate", "--repo", str(repo))
        for fmt in formats:
            assert cli("validate", "--from-shards", str(shards), "--format", fmt)[:2] == one[fmt], (n, fmt)
        assert cli("validate", "--from-shards", str(shards), "--strict")[0] == strict, n


def test_validate_bench_fleet(bench: Path, tmp_path: Path) -> None:
    code, text, _ = cli("validate", "--repo", str(bench))
    # The problems this test is about are there: fleet-wide, on many clusters, summed over clusters.
    assert code == 1
    for rule in ("generated-stale", "image-latest", "patch-target-unmatched", "layer-unused"):
        assert f"[{rule}]" in text, rule
    assert "clusters: " in text and "any of the " in text
    counts = shard_counts(clusters_of(bench))
    assert_validate_merges(bench, tmp_path, counts, tuple(PROBLEM_FORMATS))


def test_validate_example_fleet(example: Path, tmp_path: Path) -> None:
    assert_validate_merges(example, tmp_path, shard_counts(clusters_of(example)), tuple(PROBLEM_FORMATS))


def case_fleet(case: str, where: Path) -> Path:
    """The validate case folder CASE laid over the base fleet, in WHERE/fleet."""
    repo = where / "fleet"
    shutil.copytree(DATA / "base-fleet", repo)
    shutil.copytree(DATA / case, repo, dirs_exist_ok=True)
    (repo / "expected.txt").unlink()
    return repo


@pytest.mark.parametrize("case", VALIDATE_CASES)
def test_validate_cases(case: str, tmp_path: Path) -> None:
    repo = case_fleet(case, tmp_path)
    assert_validate_merges(repo, tmp_path, [2, 4], ("json",))


def test_validate_files_and_clusters(bench: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FILE arguments and --cluster narrow every shard as they narrow one run. Without the demand cache,
    as on a fresh CI runner: a warm cache gives `validate FILE` other capacity-rollout findings than a
    cold one (HPAs of untouched entries are not cached), sharded or not."""
    monkeypatch.setenv("GITOPS_GEN_NO_CACHE", "1")
    touched = str(bench / "apps/code-assist-detector/base/deployment.yaml")
    for i, scope in enumerate(([touched], ["--cluster", "zone-1-dev-a", "--cluster", "zone-3-prod-a"])):
        args = ("validate", "--repo", str(bench), *scope)
        one = cli(*args, "--format", "json")[:2]
        assert json.loads(one[1]), scope
        for n in (2, 5):
            shards = write_shards(tmp_path / f"{i}-{n}", n, *args)
            assert cli("validate", "--from-shards", str(shards), "--format", "json")[:2] == one, (scope, n)


def test_a_cluster_alone_is_located_as_in_the_whole_fleet(bench: Path) -> None:
    """Findings of a cluster point at the same lines whichever clusters are validated with it. The traced
    engine validate shares between clusters cached a built base with the very history lists the first
    build went on appending its later steps to, so the next cluster blamed its env patch for a base field
    (and shards disagreed with one run)."""

    def located(*args: str) -> set[tuple[str, int, str, str]]:
        found = json.loads(cli("validate", "--repo", str(bench), "--format", "json", *args)[1])
        return {
            (p["path"], p["line"], p["rule"], p["message"]) for p in found if "zone-3-prod-a" in p["clusters"]
        }

    alone = located("--cluster", "zone-3-prod-a")
    assert alone and alone == located("--cluster", "zone-1-dev-a", "--cluster", "zone-3-prod-a")


def test_fleet_wide_problems_come_from_shard_one_only(bench: Path, tmp_path: Path) -> None:
    shards = write_shards(tmp_path / "s", 3, "validate", "--repo", str(bench))
    docs = read_results([shards], "validate")
    wide = [len(d["result"]["fleetWide"]) for d in docs]
    assert wide[0] > 0 and wide[1:] == [0, 0]
    assert sorted(c for d in docs for c in d["clusters"]) == sorted(
        p.name for p in (bench / "clusters").iterdir()
    )
    # Any shard missing loses problems, so the merge refuses to give an answer without it.
    (shards / "shard-2.json").unlink()
    code, _, err = cli("validate", "--from-shards", str(shards))
    assert code == 1 and "shard result(s) missing: 2 of 3" in err


def test_patch_target_hits_and_users_add_up_over_parts() -> None:
    hit = ("apps/a/zone/z/kustomization.yaml", 4, 3, "kind=Deployment, name=x")
    one = Part(patch_hits={"apps/a/zone/z": (2, [(*hit, False)])})
    other = Part(patch_hits={"apps/a/zone/z": (1, [(*hit, True)])})
    assert finish_parts([one, Part()]) and "any of the 2 clusters" in finish_parts([one])[0].message
    assert finish_parts([one, other]) == []  # matched in the other shard's cluster: no warning
    missed = Part(patch_hits={"apps/a/zone/z": (1, [(*hit, False)])})
    assert "any of the 3 clusters" in finish_parts([one, missed])[0].message


# ---------------------------------------------------------------- diff


def assert_diff_merges(repo: Path, tmp: Path, counts: list[int], *revs: str) -> None:
    one = {
        fmt: cli("diff", "--repo", str(repo), *revs, "--format", fmt, "--exit-code") for fmt in DIFF_FORMATS
    }
    for n in counts:
        shards = write_shards(tmp / f"diff-{n}", n, "diff", "--repo", str(repo), *revs)
        for fmt in DIFF_FORMATS:
            merged = cli("diff", "--from-shards", str(shards), "--format", fmt, "--exit-code")
            assert merged == one[fmt], (n, fmt)


def test_diff_bench_fleet(bench: Path, tmp_path: Path) -> None:
    code, text, _ = cli("diff", "--repo", str(bench), "--base", "HEAD", "--format", "markdown")
    assert code == 0 and "same change on " in text and "| removed |" in text and "| added |" in text
    # N = 1 and 3 on the example fleet below: a full diff of 12 clusters per N is slow on a shared CI box.
    assert_diff_merges(bench, tmp_path, [2, 5, 14], "--base", "HEAD")


def test_diff_example_fleet(example: Path, tmp_path: Path) -> None:
    text = cli("diff", "--repo", str(example), "--base", "HEAD", "--format", "markdown")[1]
    assert "GPU headroom per pool" in text and "set by `" in text  # capacity and sources survive the merge
    assert_diff_merges(example, tmp_path, shard_counts(3), "--base", "HEAD")


def test_diff_without_changes_merges_to_exit_0(example: Path, tmp_path: Path) -> None:
    assert_diff_merges(example, tmp_path, [2], "--base", "HEAD", "--head", "HEAD")
    code, out, _ = cli("diff", "--from-shards", str(tmp_path / "diff-2"), "--exit-code")
    assert (code, out) == (0, "0 cluster(s) changed, 3 unchanged\n")


# ---------------------------------------------------------------- render


def rendered_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".yaml"}


@pytest.mark.parametrize("fleet", ["example", "bench"])
def test_render_shards_are_the_one_run_files(
    fleet: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    repo: Path = request.getfixturevalue(fleet)
    if fleet == "bench":  # the hand edit makes it stale, not unrenderable; render what generate wrote
        assert cli("generate", "--repo", str(repo), "--check")[0] == 1
    one = tmp_path / "one"
    assert cli("render", "--repo", str(repo), "--out", str(one))[0] == 0
    clusters = len(rendered_files(one))
    for n in shard_counts(clusters):
        union: dict[str, bytes] = {}
        for i in range(1, n + 1):
            out = tmp_path / f"{n}-{i}"
            assert cli("render", "--repo", str(repo), "--out", str(out), "--shard", f"{i}/{n}")[0] == 0
            files = rendered_files(out)
            assert not set(files) & set(union), "a cluster rendered by two shards"
            union |= files
        assert union == rendered_files(one), n


# ---------------------------------------------------------------- usage and refusals


@pytest.mark.parametrize("bad", ["0/4", "5/4", "4/0", "garbage", "1/", "-1/3", "1.5/3"])
@pytest.mark.parametrize("command", ["render", "validate", "diff"])
def test_bad_shard_is_a_usage_error(example: Path, command: str, bad: str) -> None:
    extra = ["--base", "HEAD"] if command == "diff" else []
    code, _, err = cli(command, "--repo", str(example), *extra, "--shard", bad)
    assert code == 2 and "--shard" in err and "Invalid value" in err, err


def test_shard_usage_conflicts(example: Path, tmp_path: Path) -> None:
    assert cli("validate", "--repo", str(example), "--shard", "1/2")[0] == 2  # text: not mergeable
    assert (
        cli(
            "diff",
            "--repo",
            str(example),
            "--base",
            "HEAD",
            "--shard",
            "1/2",
            "--format",
            "json",
            "--exit-code",
        )[0]
        == 2
    )
    assert cli("render", "--repo", str(example), "--shard", "1/2")[0] == 2  # no --out
    shards = write_shards(tmp_path / "s", 2, "diff", "--repo", str(example), "--base", "HEAD")
    assert cli("diff", "--from-shards", str(shards), "--base", "HEAD")[0] == 2
    assert cli("diff", "--from-shards", str(tmp_path / "nowhere"))[0] == 2
    code, _, err = cli("diff")
    assert code == 2 and "--base" in err


def test_merge_refuses_mixed_runs_duplicates_and_other_files(example: Path, tmp_path: Path) -> None:
    a = write_shards(tmp_path / "a", 2, "diff", "--repo", str(example), "--base", "HEAD")
    b = write_shards(tmp_path / "b", 2, "diff", "--repo", str(example), "--base", "HEAD", "--head", "HEAD")
    code, _, err = cli(
        "diff", "--from-shards", str(a / "shard-1.json"), "--from-shards", str(b / "shard-2.json")
    )
    assert code == 1 and "not the same run" in err and "shard-2.json" in err
    code, _, err = cli(
        "diff", "--from-shards", str(a), "--from-shards", str(a / "shard-1.json"), "--exit-code"
    )
    assert code == 2 and "shard 1/2 again" in err
    code, _, err = cli("validate", "--from-shards", str(a / "shard-1.json"))
    assert code == 1 and "a shard result of `diff`, not of `validate`" in err
    code, _, err = cli("validate", "--from-shards", str(a))  # in a directory: passed over
    assert code == 2 and "no shard results of `validate` found" in err
    cut = tmp_path / "cut.json"
    cut.write_text(
        json.dumps({k: v for k, v in json.loads((a / "shard-1.json").read_text()).items() if k != "run"})
    )
    code, _, err = cli("diff", "--from-shards", str(cut))
    assert code == 1 and "without its run or result" in err
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"path": "x"}]))
    code, _, err = cli("validate", "--from-shards", str(other))
    assert code == 1 and f"{other}: not a gitops-gen shard result" in err


def test_merge_needs_only_the_shard_results(tmp_path: Path) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    one = cli("validate", "--repo", str(repo), "--format", "json")[1]
    shards = write_shards(tmp_path / "s", 2, "validate", "--repo", str(repo))
    shutil.rmtree(repo)
    assert cli("validate", "--from-shards", str(shards), "--format", "json")[1] == one
    assert merge_validate(read_results([shards], "validate")) == json_problems(one)


def json_problems(text: str) -> list[Problem]:
    return [Problem(**p) for p in json.loads(text)]


def test_secret_values_stay_hidden_through_shard_results(tmp_path: Path) -> None:
    """A secret value JSON escapes (a quote, a non-ASCII letter) must be hidden before the shard result
    is written: the merge has no repository to find it in. Here a ConfigMap copies a Secret's value."""
    from tests.faults.harness import example_fleet

    value = 's3cr3t-"quoted"-välue'
    repo = example_fleet(tmp_path / "fleet", with_secret=False, commit=True)
    base = repo / "apps/private-detector/base"
    (base / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: pd-token\nstringData:\n  token: '{value}'\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pd-copy\n"
        f"data:\n  token: '{value}'\n"
    )
    (base / "kustomization.yaml").write_text(
        (base / "kustomization.yaml")
        .read_text()
        .replace("- service.yaml\n", "- service.yaml\n- secret.yaml\n")
    )
    one = cli("diff", "--repo", str(repo), "--base", "HEAD", "--format", "markdown")
    assert "ConfigMap/private-detector/pd-copy" in one[1] and "<masked>" in one[1] and value not in one[1]
    shards = write_shards(tmp_path / "shards", 2, "diff", "--repo", str(repo), "--base", "HEAD")
    for path in shards.iterdir():
        assert not [s for s in strings(json.loads(path.read_text())) if value in s], path.read_text()
    assert cli("diff", "--from-shards", str(shards), "--format", "markdown") == one


def strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [*node, *(s for v in node.values() for s in strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []
