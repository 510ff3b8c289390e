"""A pool's GPU model changes: validate names the nearest profile and the command; the command fixes it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gitops_gen.cli import main
from tests.fleetrepo import example_fleet_repo

DEV = "clusters/zone-1-dev/cluster.yaml"
PATCH = "apps/private-detector/env/dev/mig-slice.yaml"
KUST = "apps/private-detector/env/dev/kustomization.yaml"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def h100_dev(tmp_path: Path) -> Path:
    repo = example_fleet_repo(tmp_path / "fleet")
    inventory = repo / DEV
    inventory.write_text(
        inventory.read_text()
        .replace(
            "gpu: {product: NVIDIA-A100-PCIE-40GB, count: 1}",
            "gpu: {product: NVIDIA-H100-80GB-HBM3, count: 1}",
        )
        .replace("config: all-1g.5gb", "config: all-1g.10gb")
    )
    selector = repo / "apps/private-detector/zone/zone-1/gpu-node.yaml"
    selector.write_text(selector.read_text().replace("NVIDIA-A100-PCIE-40GB", "NVIDIA-H100-80GB-HBM3"))
    return repo


def test_validate_names_the_nearest_profile_and_the_command(tmp_path: Path) -> None:
    repo = h100_dev(tmp_path)
    code, out = cli("validate", "--repo", str(repo), "--cluster", "zone-1-dev")
    assert code == 1
    (line,) = [x for x in out.splitlines() if "[mig-profile-not-on-gpu]" in x]
    assert line.startswith(f"{PATCH}:13:")
    assert (
        "nearest equivalent on H100 80GB: 1g.10gb (gitops-gen set mig-profile --app private-detector "
        "--layer env=dev 1g.5gb 1g.10gb)"
    ) in line


def test_set_mig_profile_rewrites_the_request_and_keeps_everything_else(tmp_path: Path) -> None:
    repo = h100_dev(tmp_path)
    patch_before, kust_before = (repo / PATCH).read_text(), (repo / KUST).read_text()
    code, out = cli(
        "set",
        "mig-profile",
        "--repo",
        str(repo),
        "--app",
        "private-detector",
        "--layer",
        "env=dev",
        "1g.5gb",
        "1g.10gb",
    )
    assert code == 0, out
    assert f"{PATCH}: edited" in out and "clusters affected: zone-1-dev" in out
    # The comment mentioning the old profile is reported, not rewritten.
    assert f"note: {KUST}:1 still mentions 1g.5gb" in out
    assert (repo / KUST).read_text() == kust_before
    assert (repo / PATCH).read_text() == patch_before.replace(
        "nvidia.com/mig-1g.5gb: 1", "nvidia.com/mig-1g.10gb: 1"
    )
    code, out = cli("validate", "--repo", str(repo), "--cluster", "zone-1-dev")
    assert (code, out) == (0, ""), out
    code, report = cli("report", "--repo", str(repo), "--cluster", "zone-1-dev")
    # 2 nodes x 1 H100 x 7 slices of 1g.10gb = 14; one replica asks for one, two during a rollout.
    row = next(r.split() for r in report.splitlines() if r.startswith("zone-1-dev"))
    at = row.index("mig-1g.10gb")
    assert row[at : at + 6] == ["mig-1g.10gb", "14", "1", "2", "13", "12"], report


def test_json6902_paths_suffixes_and_errors(tmp_path: Path) -> None:
    repo = example_fleet_repo(tmp_path / "fleet")
    comp = repo / "apps/toxicity-detector/zone/zone-1/kustomization.yaml"
    comp.write_text(
        comp.read_text()
        + """- target:
    kind: Deployment
    name: toxicity-detector
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/resources/limits/nvidia.com~1mig-1g.5gb
      value: 1
    - op: add
      path: /spec/template/spec/containers/0/resources/limits/nvidia.com~1mig-1g.5gb.me
      value: 1
"""
    )
    before = comp.read_text()
    code, out = cli(
        "set",
        "mig-profile",
        "--repo",
        str(repo),
        "--app",
        "toxicity-detector",
        "--layer",
        "zone=zone-1",
        "nvidia.com/mig-1g.5gb",
        "1g.10gb",
    )
    assert code == 0, out
    after = comp.read_text()
    # Only the exact profile: the .me one is another resource.
    assert after == before.replace("nvidia.com~1mig-1g.5gb\n", "nvidia.com~1mig-1g.10gb\n")
    code, out = cli(
        "set",
        "mig-profile",
        "--repo",
        str(repo),
        "--app",
        "toxicity-detector",
        "--layer",
        "zone=zone-1",
        "2g.10gb",
        "2g.20gb",
    )
    assert (
        code == 1 and "nothing in apps/toxicity-detector/zone/zone-1/ requests nvidia.com/mig-2g.10gb" in out
    )
    code, out = cli("set", "mig-profile", "--repo", str(repo), "--app", "toxicity-detector", "gpu", "1g.10gb")
    assert code == 1 and "is not a MIG profile" in out
    code, out = cli(
        "set",
        "mig-profile",
        "--repo",
        str(repo),
        "--app",
        "toxicity-detector",
        "--layer",
        "zone=zone-9",
        "1g.10gb",
        "1g.20gb",
    )
    assert code == 1 and "zone-9" in out
