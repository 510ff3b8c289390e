"""A fixed slice of the real-world corpus (tests/corpus/, see bench/README.md) against kubectl's stored output.

Directories of public repositories nobody here wrote: kubebuilder operator layouts (configurations,
vars, builtin transformer plugins, replacements), ML platform manifests (Helm-rendered YAML with
nulls), GitOps example fleets. The expectations were produced by `kubectl kustomize`
(`bench/corpus.py verify`), so this needs no kubectl. `bench/corpus.py run` runs all of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops_gen.cli import main

CORPUS = Path(__file__).parents[1] / "corpus"
INDEX = json.loads((CORPUS / "index.json").read_text())

SLICE = [
    "NVIDIA+gpu-operator/config/crd",
    "NVIDIA+gpu-operator/config/certmanager",
    "NVIDIA+gpu-operator/config/default",
    "argoproj+argo-cd/util/kustomize/testdata/kustomization_yaml_components_monorepo/kustomize/components/all",
    "argoproj+argo-cd/reposerver/repository/testdata/Kustomization",
    "argoproj+argo-workflows/manifests/cluster-install-no-crds",
    "argoproj+argo-workflows/manifests/components/grafana",
    "argoproj+argo-workflows/manifests/components/mysql",
    "argoproj+argocd-example-apps/kustomize-guestbook",
    "argoproj+argocd-example-apps/plugins/kustomized-helm",
    "fluxcd+flux2/cmd/flux/testdata/build-kustomization/var-substitution",
    "fluxcd+flux2/cmd/flux/testdata/build-kustomization/podinfo",
    "fluxcd+flux2/cmd/flux/testdata/diff-kustomization",
    "fluxcd+flux2-kustomize-helm-example/clusters/production/flux-system",
    "fluxcd+flux2-multi-tenancy/clusters/production/flux-system",
    "fluxcd+kustomize-controller/internal/controller/testdata/transformers",
    "fluxcd+kustomize-controller/internal/controller/testdata/file-transformer",
    "kserve+kserve/config/certmanager",
    "kserve+kserve/config/certmanager/kserve",
    "kserve+kserve/config/overlays/dev-image-config",
    "kserve+kserve/config/localmodels",
    "kubeflow+katib/manifests/v1beta1/components/namespace",
    "kubeflow+katib/manifests/v1beta1/components/db-manager",
    "kubeflow+manifests/applications/profiles/upstream/default",
    "kubeflow+manifests/applications/profiles/upstream/overlays/kubeflow",
    "kubeflow+manifests/applications/pvcviewer-controller/upstream/default",
    "kubeflow+manifests/applications/tensorboard/tensorboards-web-app/upstream/base",
    "kubeflow+manifests/applications/kserve/models-web-app/components/istio",
    "kubeflow+manifests/common/istio/cluster-local-gateway/base",
    "kubeflow+manifests/common/kubeflow-namespace/base",
    "kubeflow+mpi-operator/manifests/base",
    "kubeflow+mpi-operator/manifests/overlays/kubeflow",
    "kubeflow+pipelines/manifests/kustomize/env/cert-manager/base-webhook-certs",
    "kubeflow+pipelines/manifests/kustomize/base/installs/multi-user/metadata-writer",
    "kubeflow+spark-operator/config/pdb",
    "kubeflow+trainer/manifests/overlays/data-cache/namespace-rbac",
    "kubeflow+trainer/manifests/base/runtimes/data-cache",
    "kubernetes-sigs+cluster-api/test/extension/config/certmanager",
    "kubernetes-sigs+cluster-api/core/config/certmanager",
    "kubernetes-sigs+cluster-api/test/e2e/data/infrastructure-docker/main/cluster-template",
    "kubernetes-sigs+gateway-api/config/crd",
    "kubernetes-sigs+jobset/config/components/internalcert",
    "kubernetes-sigs+jobset/config/components/crd",
    "kubernetes-sigs+kubebuilder/docs/book/src/getting-started/testdata/project/config/network-policy",
    "kubernetes-sigs+kueue/config/components/certmanager",
    "kubernetes-sigs+kueue/config/components/internalcert",
    "kubernetes-sigs+kueue/config/components/visibility-apf",
    "kubernetes-sigs+kueue/config/default",
    "kubernetes-sigs+kueue/test/e2e/config/multikueue/kubeflow-manifest-patch",
    "kubernetes-sigs+kustomize/api/krusty/testdata/remoteload/multibase/base",
    "kubernetes-sigs+kustomize/api/krusty/testdata/remoteload/simple",
    "kubernetes-sigs+kustomize/examples/transformerconfigs/images",
    "kubernetes-sigs+lws/config/components/volcano",
    "kubernetes-sigs+lws/config/internalcert",
    "kubernetes-sigs+node-feature-discovery/deployment/components/common",
    "kubernetes-sigs+node-feature-discovery/deployment/components/topology-updater",
    "kubernetes-sigs+scheduler-plugins/config/prometheus",
    "kubernetes-sigs+scheduler-plugins/config/manager",
    "kubernetes-sigs+scheduler-plugins/config/crd",
    "ray-project+kuberay/ray-operator/config/certmanager",
    "ray-project+kuberay/ray-operator/config/webhook",
]


def build(directory: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(CORPUS / "src")
    try:
        result = CliRunner().invoke(main, ["build", directory])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def test_slice_is_in_the_corpus_and_mixed() -> None:
    assert all(d in INDEX["dirs"] for d in SLICE)
    verdicts = [INDEX["dirs"][d] for d in SLICE]
    assert verdicts.count("ok") >= 40 and verdicts.count("error") >= 5
    assert len({d.split("/")[0] for d in SLICE}) >= 20


@pytest.mark.parametrize("directory", SLICE)
def test_corpus_directory_matches_kubectl(directory: str) -> None:
    expected = CORPUS / "expected" / directory
    code, out, err = build(directory)
    if INDEX["dirs"][directory] == "ok":
        assert code == 0, err
        assert out == (expected / "expected.yaml").read_text()
    else:
        assert (expected / "expected-error.txt").is_file()
        assert code == 1, f"kubectl refuses {directory}; we exit {code}: {err}"
        assert "Traceback" not in err
