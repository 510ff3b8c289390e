"""docs/ci-sharding.md: the gitops-gen command lines of its GitHub Actions and GitLab CI examples parse
with the options they use, and run as written (CI variables filled in) on the example fleet, the
merge giving what one run gives."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo, git

DOC = Path(__file__).resolve().parent.parent / "docs" / "ci-sharding.md"
SHARDS = 4
BLOCK = re.compile(r"<!-- ci-sharding: (?P<ci>\w+) [^>]*-->\n```yaml\n(?P<body>.*?)```", re.S)


def examples() -> dict[str, dict[str, object]]:
    found = {m["ci"]: yaml.safe_load(m["body"]) for m in BLOCK.finditer(DOC.read_text())}
    assert set(found) == {"github", "gitlab"}
    return found


def job_lines() -> dict[str, dict[str, list[str]]]:
    """CI -> job -> its gitops-gen command lines, in order."""
    out: dict[str, dict[str, list[str]]] = {}
    for ci, doc in examples().items():
        jobs = (
            doc["jobs"]
            if ci == "github"
            else {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
        )
        assert isinstance(jobs, dict)
        for name, job in jobs.items():
            lines = (
                [s["run"] for s in job.get("steps", []) if "run" in s] if ci == "github" else job["script"]
            )
            out.setdefault(ci, {})[name] = [ln for ln in lines if ln.startswith("gitops-gen ")]
    return out


def fill(line: str, index: int) -> str:
    """LINE as the shell of runner INDEX (of SHARDS) sees it: the CI's variables substituted."""
    values = {
        "${{ matrix.shard }}": str(index),
        "${{ github.base_ref }}": "main",
        "$CI_NODE_INDEX": str(index),
        "$CI_NODE_TOTAL": str(SHARDS),
        "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }
    for name, value in values.items():
        line = line.replace(name, value)
    assert "$" not in line.split("||")[0], line
    return line


def command(line: str) -> tuple[list[str], str | None]:
    """The arguments after `gitops-gen` and the file stdout goes to (before any `||`)."""
    words = shlex.split(line.split("||")[0])
    assert words[0] == "gitops-gen"
    if ">" in words:
        at = words.index(">")
        return words[1:at], words[at + 1]
    return words[1:], None


def parse(args: list[str]) -> dict[str, object]:
    """ARGS parsed as the CLI parses them (unknown options and bad values raise): the sub-command's params."""
    parent = click.Context(main, info_name="gitops-gen")
    cmd = main.get_command(parent, args[0])
    assert cmd is not None, args[0]
    return cmd.make_context(args[0], list(args[1:]), parent=parent).params


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_documented_command_lines_parse(ci: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shards").mkdir()  # --from-shards wants it to exist
    lines = job_lines()[ci]
    used: set[str] = set()
    for job in lines.values():
        for line in job:
            args, _ = command(fill(line, 2))
            params = parse(args)
            used |= {k for k, v in params.items() if v not in (None, (), False)}
    assert {"shard", "from_shards", "fmt", "base"} <= used
    with pytest.raises(click.BadParameter):  # the parse is real: a bad value would fail here
        parse(["validate", "--shard", "5/4"])


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_documented_pipeline_gives_the_one_run_result(
    ci: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    path = repo / "apps/private-detector/env/prod/kustomization.yaml"
    path.write_text(path.read_text().replace("count: 10", "count: 12"))
    monkeypatch.chdir(repo)
    (repo / "shards").mkdir()
    runner = CliRunner()

    def run(args: list[str], target: str | None) -> tuple[int, str]:
        result = runner.invoke(main, args)
        assert "Traceback" not in result.output, result.output
        if target is not None:
            Path(target).write_text(result.stdout)
        return result.exit_code, result.stdout

    shard_job, merge_job = job_lines()[ci].values()
    for index in range(1, SHARDS + 1):
        for line in shard_job:
            assert run(*command(fill(line, index)))[0] == 0, line
    merged_lines = 0
    for line in merge_job:
        args, target = command(fill(line, 1))
        merged = run(args, target)
        # The same command without --from-shards, run once over the whole fleet.
        at = args.index("--from-shards")
        alone = args[:at] + args[at + 2 :] + (["--base", "origin/main"] if args[0] == "diff" else [])
        assert merged == run(alone, None), line
        merged_lines += 1
    assert merged_lines == 2
