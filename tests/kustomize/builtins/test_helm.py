"""helmCharts: the inflation step on a chart written for the tests, and kustomize on top of it.

Oracle: kubectl cannot inflate charts here (no helm binary), so each case under
tests/data/helm/cases/ is also built by kubectl with its helmCharts replaced by a plain
`resources:` file holding the chart's inflated manifests: everything kustomize does after
inflation (prefixes, labels, images, patches, namespaces, order, formatting) is byte-checked.
The inflation itself is checked value by value below.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_gen.errors import GitopsGenError
from gitops_gen.kustomize.build import Engine
from gitops_gen.kustomize.builtins import helm
from gitops_gen.repo import emit
from gitops_gen.repo.tree import DiskTree
from tests.conftest import kubectl_kustomize, requires_kubectl

pytest.importorskip("helm_python", reason="helm-python-sdk (the gitops-gen[helm] extra) is not installed")

DATA = Path(__file__).parents[2] / "data" / "helm"
CHART = DATA / "charts" / "infer"
CASES = sorted(p.name for p in (DATA / "cases").iterdir())


def stage(tmp_path: Path, case: str) -> Path:
    root = tmp_path / case
    shutil.copytree(DATA / "cases" / case, root)
    data = yaml.safe_load((root / "kustomization.yaml").read_text())
    home = (data.get("helmGlobals") or {}).get("chartHome", "charts")
    for spec in data["helmCharts"]:
        sub = f"infer-{spec['version']}/infer" if spec.get("version") and spec.get("repo") else "infer"
        if not (root / home / sub).exists():
            shutil.copytree(CHART, root / home / sub)
    return root


def inflate(root: Path, spec: dict[str, Any], globals_: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    def fail(message: str, node: tuple[str | int, ...]) -> GitopsGenError:
        return GitopsGenError(message, "kustomization.yaml")

    return [doc for _, doc, _ in helm.inflate(DiskTree(root), "", globals_ or {}, spec, 0, fail)]


@requires_kubectl
@pytest.mark.parametrize("case", CASES)
def test_build_equals_kubectl_on_the_inflated_manifests(case: str, tmp_path: Path) -> None:
    root = stage(tmp_path, case)
    ours = Engine(DiskTree(root)).render("")
    data = yaml.safe_load((root / "kustomization.yaml").read_text())
    inflated = [
        d
        for i, spec in enumerate(data["helmCharts"])
        for _, d, _ in helm.inflate(
            DiskTree(root), "", data.get("helmGlobals") or {}, spec, i, lambda m, n: GitopsGenError(m)
        )
    ]
    (root / "inflated.yaml").write_text(emit.dump_all(inflated))
    data.pop("helmCharts")
    data.pop("helmGlobals", None)
    data["resources"] = [*data.get("resources", []), "inflated.yaml"]
    (root / "kustomization.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    proc = kubectl_kustomize(root)
    assert proc.returncode == 0, proc.stderr
    assert ours == proc.stdout


def by_name(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objs}


def test_release_namespace_values_subchart_and_hooks(tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    objs = by_name(
        inflate(
            root,
            {
                "name": "infer",
                "releaseName": "rel",
                "namespace": "ml",
                "valuesInline": {"metrics": {"port": 9500}},
            },
        )
    )
    assert sorted(objs) == [
        "ConfigMap/rel-infer",
        "Deployment/rel-infer",
        "Job/rel-infer-warmup",
        "Pod/rel-infer-test",
        "Service/rel-infer",
        "Service/rel-metrics",
    ]
    assert {o["metadata"]["namespace"] for o in objs.values()} == {"ml"}
    dep = objs["Deployment/rel-infer"]["spec"]
    assert dep["replicas"] == 1  # chart default
    container = dep["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/infer:2.1"  # default tag: appVersion
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert objs["Service/rel-metrics"]["spec"]["ports"][0]["port"] == 9500  # parent overrides subchart


def test_crds_tests_and_capabilities(tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    plain = by_name(inflate(root, {"name": "infer", "releaseName": "r"}))
    assert "CustomResourceDefinition/models.infer.example.com" not in plain
    assert plain["ConfigMap/r-infer"]["data"]["HAS_MONITORING"] == "false"
    objs = inflate(
        root,
        {
            "name": "infer",
            "releaseName": "r",
            "includeCRDs": True,
            "skipTests": True,
            "kubeVersion": "1.29.4",
            "apiVersions": ["monitoring.coreos.com/v1"],
        },
    )
    assert objs[0]["kind"] == "CustomResourceDefinition"  # CRDs first, as helm template prints them
    named = by_name(objs)
    assert "Pod/r-infer-test" not in named and "Job/r-infer-warmup" in named
    assert named["ConfigMap/r-infer"]["data"] == {
        "MODEL": "resnet50",
        "KUBE_VERSION": "v1.29.4",
        "HAS_MONITORING": "true",
    }
    hooks = by_name(inflate(root, {"name": "infer", "releaseName": "r", "skipHooks": True}))
    assert "Job/r-infer-warmup" not in hooks and "Pod/r-infer-test" not in hooks


def test_manifests_in_helm_install_order_then_hooks(tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    kinds = [o["kind"] for o in inflate(root, {"name": "infer", "releaseName": "r"})]
    assert kinds == ["ConfigMap", "Service", "Service", "Deployment", "Pod", "Job"]


@pytest.mark.parametrize(
    ("merge", "replicas", "model", "count"),
    [("override", 9, "bert", 4), ("merge", 5, "bert", 4), ("replace", 9, "bert", 4)],
)
def test_values_merge(tmp_path: Path, merge: str, replicas: int, model: str, count: int) -> None:
    root = stage(tmp_path, "values-merge")
    spec = {
        "name": "infer",
        "releaseName": "m",
        "valuesFile": "values/base.yaml",
        "valuesMerge": merge,
        "valuesInline": {"replicas": 9, "model": "bert"},
        "additionalValuesFiles": ["values/prod.yaml"],
    }
    dep = by_name(inflate(root, spec))["Deployment/m-infer"]["spec"]
    container = dep["template"]["spec"]["containers"][0]
    assert dep["replicas"] == replicas
    assert container["args"] == [f"--model={model}"]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": count}  # additional file wins last
    # The values file's image tag is gone under replace; the chart default (appVersion) is back.
    assert container["image"].endswith(":2.1" if merge == "replace" else ":1.0")


def test_values_schema_error_names_the_entry(tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    with pytest.raises(GitopsGenError) as err:
        inflate(root, {"name": "infer", "releaseName": "r", "valuesInline": {"replicas": "two"}})
    assert err.value.path == "kustomization.yaml"
    assert err.value.message.startswith("helmCharts[0] (infer): ")
    assert "replicas" in err.value.message


def test_required_failure_points_at_the_template_line(tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    with pytest.raises(GitopsGenError) as err:
        inflate(
            root,
            {"name": "infer", "releaseName": "r", "valuesMerge": "replace", "valuesInline": {"model": None}},
        )  # a null deletes the chart default
    assert (err.value.path, err.value.line) == ("charts/infer/templates/deployment.yaml", 29)
    assert "model is required" in err.value.message


def test_missing_chart_says_how_to_vendor_it(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "helmCharts:\n- name: gpu-operator\n  repo: "
        "https://helm.ngc.nvidia.com/nvidia\n  version: v24.6.1\n"
        "  releaseName: gpu-operator\n"
    )
    with pytest.raises(GitopsGenError) as err:
        Engine(DiskTree(tmp_path)).render("")
    assert str(err.value) == (
        "kustomization.yaml:2:3: helmCharts[0] (gpu-operator): chart 'gpu-operator' is not vendored at "
        "charts/gpu-operator-v24.6.1/gpu-operator/ (gitops-gen never downloads): run `helm pull gpu-operator "
        "--repo https://helm.ngc.nvidia.com/nvidia --version v24.6.1 --untar --untardir "
        "charts/gpu-operator-v24.6.1` and commit it"
    )


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"name": "infer"}, "set releaseName"),
        ({"name": "infer", "releaseName": "r", "valuesMerge": "deep"}, "valuesMerge must be one of"),
        (
            {"name": "infer", "releaseName": "r", "valuesFile": "../outside.yaml"},
            "security; file '../outside.yaml'",
        ),
        ({"name": "infer", "releaseName": "r", "chart": "x"}, "unknown field 'chart'"),
        ({"name": "infer", "releaseName": "r", "kubeVersion": "1.20.0"}, "kubeVersion"),
    ],
)
def test_bad_entries(tmp_path: Path, spec: dict[str, Any], fragment: str) -> None:
    root = stage(tmp_path, "basic")
    with pytest.raises(GitopsGenError) as err:
        inflate(root, spec)
    assert fragment in str(err.value)


def test_no_backend_is_one_line_naming_both(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = stage(tmp_path, "basic")
    monkeypatch.setattr(helm, "sdk_backend", lambda: None)
    helm.use_command(None)
    try:
        with pytest.raises(GitopsGenError) as err:
            inflate(root, {"name": "infer", "releaseName": "r"})
        assert "gitops-gen[helm]" in err.value.message and "--helm-command" in err.value.message
        helm.use_command("no-such-helm-binary")
        with pytest.raises(GitopsGenError) as err:
            inflate(root, {"name": "infer", "releaseName": "r"})
        assert "--helm-command no-such-helm-binary: not found" in err.value.message
    finally:
        helm.use_command(None)


@pytest.mark.parametrize(
    ("version", "constraint", "ok"),
    [
        ("1.29.4", ">=1.25.0-0", True),
        ("1.20.0", ">=1.25.0-0", False),
        ("v1.30.0", ">= 1.19.0-0 < 1.31", True),
        ("1.31.0", ">=1.19, <1.31", False),
        ("1.30.2", "~1.30.0", True),
        ("1.31.0", "~1.30", False),
        ("1.30.0", "^1.2", True),
        ("2.0.0", "^1.2", False),
        ("1.28.0", "1.27 - 1.29", True),
        ("1.30.0", "<1.20 || >=1.30", True),
        ("1.30.0", "1.30.x", True),
        ("1.29.0", "!=1.29.0", False),
    ],
)
def test_kube_version_constraints(version: str, constraint: str, ok: bool) -> None:
    assert helm.semver_satisfies(version, constraint) is ok


def test_helm_command_backend_runs_helm_template(tmp_path: Path) -> None:
    """--helm-command: the arguments kustomize would give `helm template`, and its output parsed."""
    root = stage(tmp_path, "basic")
    fake = tmp_path / "helm"
    fake.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > {tmp_path}/args\n"
        "printf -- '---\\n# Source: infer/crds/models.yaml\\napiVersion: v1\\nkind: ConfigMap\\n"
        "metadata:\\n  name: crd-like\\n---\\n# Source: infer/templates/cm.yaml\\napiVersion: v1\\n"
        "kind: ConfigMap\\nmetadata:\\n  name: from-binary\\n'\n"
    )
    fake.chmod(0o755)
    helm.use_command(str(fake))
    try:
        out = helm.inflate(
            DiskTree(root),
            "",
            {},
            {
                "name": "infer",
                "releaseName": "r",
                "namespace": "ml",
                "includeCRDs": True,
                "kubeVersion": "1.29.0",
                "apiVersions": ["x.io/v1"],
            },
            0,
            lambda m, n: GitopsGenError(m),
        )
    finally:
        helm.use_command(None)
    assert [(src, doc["metadata"]["name"]) for src, doc, _ in out] == [
        ("charts/infer/crds/models.yaml", "crd-like"),
        ("charts/infer/templates/cm.yaml", "from-binary"),
    ]
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:2] == ["template", "r"] and args[3:7] == ["--namespace", "ml", "-f", args[6]]
    assert args[7:] == ["--api-versions=x.io/v1", "--kube-version=1.29.0", "--include-crds"]
