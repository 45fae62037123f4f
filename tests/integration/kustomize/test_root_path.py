"""The repository root is the app (``path: ./`` or no path), with Flux's overlay fields."""

from __future__ import annotations

import pytest

from tests.integration.helpers import assert_kstatus
from tests.integration.kustomize.common import (
    DEPLOYMENT,
    create_kustomization,
    given_source,
    ready_condition,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import GitServer

pytestmark = pytest.mark.integration

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/stefanprodan/podinfo:6.7.0
"""
SETTINGS = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n"
DEBUG_COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |-
      - op: add
        path: /data/debug
        value: "true"
    target:
      kind: ConfigMap
"""
REPLICAS = "- op: replace\n  path: /spec/replicas\n  value: 2\n"


async def test_a_root_of_plain_manifests_builds_with_every_overlay_field(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"root-plain-{namespace[-8:]}"
    git_server.create_repo(
        repo, {"deployment.yaml": DEPLOYMENT_YAML, "config/settings.yaml": SETTINGS}
    )
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./",  # targetNamespace comes from create_kustomization
        "namePrefix": "pre-", "nameSuffix": "-suf",
        "patches": [{"patch": REPLICAS, "target": {"kind": "Deployment"}}],
        "images": [{"name": "ghcr.io/stefanprodan/podinfo", "newTag": "6.8.0"}],
    })  # fmt: skip

    obj = await wait_for(kube, namespace, "app", status="True")
    assert ready_condition(obj)["message"].startswith("Applied revision: main@sha1:")
    assert_kstatus(obj)
    deployment = await kube.get(DEPLOYMENT, "pre-web-suf", namespace=namespace)
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/stefanprodan/podinfo:6.8.0"
    assert await kube.get_or_none(resources.CONFIG_MAP, "pre-settings-suf", namespace=namespace)


async def test_a_root_kustomization_builds_with_components_and_no_path(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"root-kust-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "kustomization.yaml": "resources:\n  - settings.yaml\n",
        "settings.yaml": SETTINGS,
        "components/debug/kustomization.yaml": DEBUG_COMPONENT,
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"components": ["components/debug"]})

    await wait_for(kube, namespace, "app", status="True")
    settings = await kube.get(resources.CONFIG_MAP, "settings", namespace=namespace)
    assert settings["data"] == {"colour": "blue", "debug": "true"}


async def test_a_root_that_does_not_build_names_the_file_and_no_temporary_folder(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"root-bad-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "kustomization.yaml": "resources:\n  - settings.yaml\n  - config/missing.yaml\n",
        "settings.yaml": SETTINGS,
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./", "namePrefix": "pre-"})

    failed = await wait_for(kube, namespace, "app", status="False", reason="BuildFailed")
    message = ready_condition(failed)["message"]
    assert message.startswith("kustomize build failed: accumulating resources"), message
    assert "'config/missing.yaml'" in message, message
    for leak in ("/tmp/", "tide-kustomization-", "tide-overlay-", ".tide-build-"):
        assert leak not in message, message
    assert await kube.get_or_none(resources.CONFIG_MAP, "pre-settings", namespace=namespace) is None
