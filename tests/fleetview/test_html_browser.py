"""The HTML report in a real headless Chromium: key figures in the rendered DOM, no console output,
a screenshot at 1280x800. Skips where Chromium is not installed (`.ci/run` installs it where it can)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package `chromium`); "
    "the HTML report cannot be loaded in a browser here",
)
# Every console message (errors, uncaught exceptions, failed loads) reaches stderr as INFO:CONSOLE.
CONSOLE = re.compile(r":CONSOLE[:(]")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the page is a local file.
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,800",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


class Rows(HTMLParser):
    """Text of every table row of the rendered DOM, cells separated by `|`."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def load(page: Path, shot: Path) -> list[list[str]]:
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    assert not [line for line in dom.stderr.splitlines() if CONSOLE.search(line)], dom.stderr
    taken = chromium(f"--screenshot={shot}", page.as_uri())
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    parser = Rows()
    parser.feed(dom.stdout)
    return parser.rows


def test_the_console_check_catches_errors(tmp_path: Path) -> None:
    """The console check itself: a page with a script error must be caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom'); missing();</script>")
    result = chromium("--dump-dom", bad.as_uri())
    found = [line for line in result.stderr.splitlines() if CONSOLE.search(line)]
    assert any("boom" in line for line in found) and any("missing is not defined" in line for line in found)


def test_example_fleet_page_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--repo", str(ROOT), "--format", "html", "--out", str(page)])
    assert result.exit_code == 0, result.output
    rows = load(page, tmp_path / "report.png")
    # Hand figures: zone-1-prod a100 = 5 x 4 GPUs, demand 10 + 2 + 2, surge 3 + 1 + 1; zone-1-dev 2 x 7 slices, 1 used.
    # (The bar cell's text is its SVG title.)
    assert [
        "zone-1-prod",
        "a100",
        "5 x 4 A100 40GB",
        "gpu",
        "20",
        "14",
        "19",
        "6",
        "1",
        "supply 20, demand 14, at surge 19",
        "private-detector 10, llm-server 2, toxicity-detector 2",
    ] in rows
    assert [
        "zone-1-dev",
        "a100-mig",
        "2 x 1 A100 40GB, mixed all-1g.5gb",
        "mig-1g.5gb",
        "14",
        "1",
        "2",
        "13",
        "12",
        "supply 14, demand 1, at surge 2",
        "private-detector 1",
    ] in rows
    assert [
        "all models",
        "gpu",
        "2",
        "36",
        "36",
        "18",
        "24",
        "18",
        "12",
        "supply 36, demand 18, at surge 24",
    ] in rows
    matrix = next(r for r in rows if r and r[0] == "private-detector")
    assert matrix[1:] == [
        "detector=1.13.2 metrics=v0.26.1 (1x mig-1g.5gb:1)",
        "detector=1.13.2 metrics=v0.26.1 (10x gpu:1)",
        "disabled",
    ]


def test_large_fleet_page_uses_the_version_map(tmp_path: Path) -> None:
    """A fleet past the grid limit: the map, groups, and the same totals as the JSON report."""
    from bench import fleetgen
    from gitops_gen.fleet.generate import apply_plan, plan
    from gitops_gen.fleet.inventory import load_fleet
    from gitops_gen.repo.tree import DiskTree

    repo = tmp_path / "fleet"
    fleetgen.write_fleet(
        fleetgen.build_fleet(fleetgen.FleetParams(clusters=40, apps=10, apps_per_cluster=6, seed=3)), repo
    )
    tree = DiskTree(repo)
    apply_plan(repo, plan(tree, load_fleet(tree)))
    page = tmp_path / "report.html"
    runner = CliRunner()
    assert (
        runner.invoke(main, ["report", "--repo", str(repo), "--format", "html", "--out", str(page)]).exit_code
        == 0
    )
    doc = json.loads(runner.invoke(main, ["report", "--repo", str(repo), "--format", "json"]).output)
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0 and not [x for x in dom.stderr.splitlines() if CONSOLE.search(x)], dom.stderr
    taken = chromium(f"--screenshot={tmp_path / 'large.png'}", page.as_uri())
    assert taken.returncode == 0
    cards = {
        label: value
        for value, label in re.findall(r"<div class=\"card[^\"]*\"><b>([^<]*)</b>([^<]*)</div>", dom.stdout)
    }
    assert cards["clusters"] == "40" and cards["apps"] == "10"
    for total in doc["capacity"]["totals"]["byResource"]:
        name = total["resource"].removeprefix("nvidia.com/")
        assert cards[f"{name} free"] == f"{total['headroom']} / {total['supply']}"
    assert '<table class="map">' in dom.stdout and '<table class="grid">' not in dom.stdout
    rows = Rows()
    rows.feed(dom.stdout)
    map_rows = [
        r for r in rows.rows if r and r[0].split(" ")[0] in {a["name"] for a in doc["versions"]["apps"]}
    ]
    assert len(map_rows) == len(doc["versions"]["apps"]) == 10
