"""Which files stand for a change inside a Helm chart (validate FILE's scope): the kustomization above a
helmCharts chart, the files naming a HelmRelease chart's directory, or none knowable (every cluster)."""

from __future__ import annotations

from pathlib import Path

from gitops_gen.applied.helmrelease import chart_of, chart_users


def write(root: Path, path: str, text: str = "x: 1\n") -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


def test_chart_users(tmp_path: Path) -> None:
    write(tmp_path, "apps/op/kustomization.yaml", "helmCharts: [{name: op}]\n")
    write(tmp_path, "apps/op/charts/op/Chart.yaml", "name: op\n")
    write(tmp_path, "apps/op/charts/op/templates/ds.yaml")
    write(tmp_path, "apps/llm/chart/Chart.yaml", "name: llm\n")
    write(tmp_path, "apps/llm/chart/values.yaml")
    write(
        tmp_path, "apps/llm/base/release.yaml", "spec:\n  chart:\n    spec:\n      chart: ./apps/llm/chart\n"
    )
    write(
        tmp_path, "apps/other/release.yaml", "spec:\n  chart:\n    spec:\n      chart: ./apps/llm/chart-two\n"
    )
    write(tmp_path, "vendor/stable/infer/Chart.yaml", "name: infer\n")
    write(tmp_path, "vendor/stable/infer/values.yaml")
    assert chart_of(tmp_path, "apps/op/charts/op/templates/ds.yaml") == "apps/op/charts/op"
    assert chart_of(tmp_path, "apps/op/kustomization.yaml") is None
    assert chart_users(tmp_path, ["apps/op/charts/op/templates/ds.yaml"]) == ["apps/op/kustomization.yaml"]
    assert chart_users(tmp_path, ["apps/llm/chart/values.yaml"]) == ["apps/llm/base/release.yaml"]
    assert chart_users(tmp_path, ["apps/llm/base/release.yaml"]) == []  # not inside a chart
    assert chart_users(tmp_path, ["vendor/stable/infer/values.yaml"]) is None  # named by chart name only
