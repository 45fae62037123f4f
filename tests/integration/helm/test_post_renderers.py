"""``postRenderers``: kustomize patches and images change what Helm installs, in order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    request_reconcile,
    wait_for,
)
from tests.integration.helpers import condition
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

LABEL_TIER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels: {tier: web}
"""
"""A strategic-merge patch that names its own target."""


def renderers(tag: str) -> list[dict[str, Any]]:
    """Two post-renderers: the second replaces what only the first adds, so order shows."""
    return [
        {
            "kustomize": {
                "patches": [
                    {
                        "target": {"kind": "Deployment"},
                        "patch": "- op: add\n  path: /metadata/annotations/stage\n  value: first\n",
                    },
                    {"patch": LABEL_TIER},
                ],
                "images": [
                    {
                        "name": "ghcr.io/stefanprodan/podinfo",
                        "newName": "registry.example/podinfo",
                        "newTag": tag,
                    }
                ],
            }
        },
        {
            "kustomize": {
                "patchesJson6902": [
                    {
                        "target": {"kind": "Deployment", "name": "podinfo"},
                        "patch": [
                            {"op": "replace", "path": "/metadata/annotations/stage", "value": "2"}
                        ],
                    }
                ]
            }
        },
    ]


async def test_post_renderers_shape_the_install_and_a_change_to_them_upgrades(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"postRenderers": renderers("7.0.0")})
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert obj["status"]["observedPostRenderersDigest"].startswith("sha256:")

    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["metadata"]["annotations"]["stage"] == "2"
    assert deployment["metadata"]["labels"]["tier"] == "web"
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/podinfo:7.0.0"
    # Helm applied the post-rendered manifest as its own: its labels are there too.
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"

    # A new tag is a new spec but the same chart and values: Helm upgrades.
    await kube.patch_merge(
        HELM_RELEASE,
        "podinfo",
        {"spec": {"postRenderers": renderers("7.0.1")}},
        namespace=namespace,
    )
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert obj["status"]["history"][0]["version"] == 2
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/podinfo:7.0.1"

    # Nothing changed since: a reconcile makes no Helm action.
    records = [
        s["metadata"]["resourceVersion"] for s in await release_secrets(kube, namespace, "podinfo")
    ]
    await request_reconcile(kube, namespace, "podinfo", "idle")
    after = [
        s["metadata"]["resourceVersion"] for s in await release_secrets(kube, namespace, "podinfo")
    ]
    assert after == records
    again = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert again["metadata"]["resourceVersion"] == deployment["metadata"]["resourceVersion"]

    # Without post-renderers the chart's own manifest comes back, through an upgrade.
    await kube.patch_merge(
        HELM_RELEASE, "podinfo", {"spec": {"postRenderers": None}}, namespace=namespace
    )
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert obj["status"]["history"][0]["version"] == 3
    assert "observedPostRenderersDigest" not in obj["status"]
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/stefanprodan/podinfo:6.5.0"
    assert "stage" not in deployment["metadata"]["annotations"]


async def test_a_patch_that_does_not_apply_fails_the_install_with_kustomizes_reason(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    broken = {
        "target": {"kind": "Deployment"},
        "patch": "- op: replace\n  path: /spec/nothing/here\n  value: 1\n",
    }
    await create_release(kube, namespace, "podinfo", {
        "postRenderers": [{"kustomize": {"patches": [broken]}}],
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "podinfo", status="False", reason="InstallFailed")
    message = condition(obj, "Ready")["message"]
    assert message.startswith(f"Helm install failed for release {namespace}/podinfo")
    assert "podinfo@6.5.0: post-rendering the manifests failed: post-renderer: kustomize" in message
    assert "/spec/nothing/here" in message
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
