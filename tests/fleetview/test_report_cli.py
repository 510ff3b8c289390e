"""`gitops-gen report` end to end on the example fleet: every format, --base, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import ROOT, example_fleet_repo, git, status


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_json_has_the_documented_fields_and_the_hand_figures() -> None:
    code, out = report("--repo", str(ROOT), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["apiVersion"] == "gitops-gen/report/v1" and doc["layers"] == ["company", "zone", "env"]
    prod = next(c for c in doc["capacity"]["clusters"] if c["name"] == "zone-1-prod")
    pool = next(p for p in prod["pools"] if p["name"] == "a100")
    assert pool["gpu"] == {"product": "NVIDIA-A100-PCIE-40GB", "model": "A100 40GB", "perNode": 4}
    (line,) = pool["resources"]
    # 5 nodes x 4 GPUs; 10 + 2 + 2 replicas of one GPU; surge ceil(2.5) + ceil(0.5) + ceil(0.5) = 3 + 1 + 1.
    assert {
        k: line[k]
        for k in ("resource", "perNode", "supply", "demand", "surgeDemand", "headroom", "surgeHeadroom")
    } == {
        "resource": "nvidia.com/gpu",
        "perNode": 4,
        "supply": 20,
        "demand": 14,
        "surgeDemand": 19,
        "headroom": 6,
        "surgeHeadroom": 1,
    }
    assert [(a["app"], a["pods"], a["perPod"], a["surgePods"]) for a in line["apps"]] == [
        ("llm-server", 2, 1, 1),
        ("private-detector", 10, 1, 3),
        ("toxicity-detector", 2, 1, 1),
    ]
    totals = {t["resource"]: t for t in doc["capacity"]["totals"]["byResource"]}
    assert (totals["nvidia.com/gpu"]["supply"], totals["nvidia.com/gpu"]["demand"]) == (36, 18)
    apps = {a["name"]: a for a in doc["versions"]["apps"]}
    pd = apps["private-detector"]["cells"]
    assert pd["zone-2-prod"] == {"status": "disabled"}
    (workload,) = pd["zone-1-dev"]["workloads"]
    assert workload["replicas"] == 1 and workload["gpu"] == {"nvidia.com/mig-1g.5gb": 1}
    assert [(c["name"], c["tag"]) for c in workload["containers"]] == [
        ("detector", "1.13.2"),
        ("metrics", "v0.26.1"),
    ]
    # One image version (the bumble build) although replicas differ: no skew.
    assert apps["spam-detector"]["skew"] is False and apps["spam-detector"]["versions"] == 1


def test_text_markdown_and_html_carry_the_same_figures() -> None:
    for fmt in ("text", "markdown", "html"):
        code, out = report("--repo", str(ROOT), "--format", fmt)
        assert code == 0, out
        for needle in (
            "zone-1-prod",
            "A100 40GB",
            "mig-1g.5gb",
            "private-detector",
            "1.13.2",
            "0.9.4-bumble.1",
        ):
            assert needle in out, (fmt, needle)
    code, text = report("--repo", str(ROOT))
    row = next(line for line in text.splitlines() if line.startswith("zone-1-prod"))
    assert row.split()[-12:-6] == ["gpu", "20", "14", "19", "6", "1"]
    code, md = report("--repo", str(ROOT), "--format", "markdown")
    assert (
        "| zone-1-dev | a100-mig | 2 x 1 A100 40GB, mixed all-1g.5gb | mig-1g.5gb | 14 | 1 | 2 | 13 | 12 |"
        in md
    )


def test_html_is_self_contained() -> None:
    code, page = report("--repo", str(ROOT), "--format", "html")
    assert code == 0
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    for external in ("http://", "https://", "src=", "@import", "url("):
        assert external not in page, external


def test_cluster_filter_and_out_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _ = report("--repo", str(ROOT), "--format", "json", "--cluster", "zone-2-prod", "--out", str(out))
    assert code == 0
    doc = json.loads(out.read_text())
    assert [c["name"] for c in doc["capacity"]["clusters"]] == ["zone-2-prod"]
    code, msg = report("--repo", str(ROOT), "--cluster", "nope")  # a usage error
    assert code == 2 and msg.startswith("gitops-gen: error: unknown cluster 'nope'") and msg.count("\n") == 1


def test_base_shows_headroom_and_versions_before_and_after(tmp_path: Path) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    prod = repo / "apps/private-detector/env/prod/kustomization.yaml"
    prod.write_text(prod.read_text().replace("count: 10", "count: 14"))
    company = repo / "apps/private-detector/company/bumble/kustomization.yaml"
    company.write_text(company.read_text().replace("newTag: 1.13.2", "newTag: 1.14.2"))
    before = status(repo)
    code, out = report("--repo", str(repo), "--base", "HEAD", "--format", "json")
    assert code == 0, out
    assert status(repo) == before  # nothing checked out, nothing written
    doc = json.loads(out)
    (pool,) = doc["capacity"]
    # 14 replicas: demand 14 + 2 + 2 = 18 of 20; surge ceil(3.5) + ceil(0.5) + ceil(0.5) = 4 + 1 + 1 -> 24,
    # headroom at surge -4.
    assert (pool["cluster"], pool["pool"], pool["apps"]) == ("zone-1-prod", "a100", ["private-detector"])
    assert pool["before"] == {
        "supply": 20,
        "demand": 14,
        "surgeDemand": 19,
        "headroom": 6,
        "surgeHeadroom": 1,
    }
    assert pool["after"] == {
        "supply": 20,
        "demand": 18,
        "surgeDemand": 24,
        "headroom": 2,
        "surgeHeadroom": -4,
    }
    assert sorted((v["app"], v["cluster"]) for v in doc["versions"]) == [
        ("private-detector", "zone-1-dev"),
        ("private-detector", "zone-1-prod"),
    ]
    code, md = report("--repo", str(repo), "--base", "HEAD", "--format", "markdown")
    assert (
        "| zone-1-prod | a100 | gpu | 20 / 14 / 19 | 20 / 18 / 24 | 6 → 2 | **1 → -4** | private-detector |"
        in md
    )
    code, page = report("--repo", str(repo), "--base", "HEAD", "--format", "html")
    assert code == 0 and page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "<td class='n'>6 → 2</td><td class='n neg'>1 → -4</td>" in page
    git(repo, "commit", "-qam", "more")
    code, out = report("--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and "6 → 2" in out
    code, out = report("--repo", str(repo), "--base", "HEAD")
    assert code == 0 and "No change to capacity or versions." in out


def test_bad_revision_and_usage() -> None:
    code, out = report("--repo", str(ROOT), "--base", "no-such-rev")
    assert code == 2 and out.startswith("gitops-gen: error: unknown git revision 'no-such-rev'")
    code, out = report("--repo", str(ROOT), "--head", "HEAD")
    assert code == 2
    code, out = report("--repo", str(ROOT), "--format", "yaml")
    assert code == 2


def test_markdown_diff_summary_has_the_headroom_per_pool(tmp_path: Path) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    prod = repo / "apps/private-detector/env/prod/kustomization.yaml"
    prod.write_text(prod.read_text().replace("count: 10", "count: 14"))
    result = CliRunner().invoke(main, ["diff", "--repo", str(repo), "--base", "HEAD", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    summary = result.output.partition("<details>")[0]
    assert "GPU headroom per pool" in summary
    assert (
        "| zone-1-prod | a100 | gpu | 20 / 14 / 19 | 20 / 18 / 24 | 6 → 2 | **1 → -4** | private-detector |"
        in summary
    )


def test_readme_shows_the_real_report() -> None:
    readme = (ROOT / "README.md").read_text()
    text = readme.split("```\n$ gitops-gen report\n", 1)[1].split("```", 1)[0]
    assert report("--repo", str(ROOT))[1] == text
    shown = readme.split(
        "<code>gitops-gen report --format json --cluster zone-1-prod</code></summary>\n\n```json\n", 1
    )[1].split("```", 1)[0]
    assert report("--repo", str(ROOT), "--format", "json", "--cluster", "zone-1-prod")[1] == shown
    markdown = report("--repo", str(ROOT), "--format", "markdown")[1]
    body = markdown.split("\n", 2)[2].replace("### ", "##### ")  # the README nests it under its own heading
    assert body in readme
