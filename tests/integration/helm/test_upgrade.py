"""A change of values or chart version upgrades the release; Helm's history shows each step."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    chart_spec,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import assert_kstatus, condition
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_new_values_then_a_new_chart_version_upgrade_the_release(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"values": {"replicas": 1}})
    first = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    await kube.patch_merge(
        HELM_RELEASE, "podinfo", {"spec": {"values": {"replicas": 3}}}, namespace=namespace
    )
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert condition(obj, "Ready")["message"] == (
        f"Helm upgrade succeeded for release {namespace}/podinfo.v2 with chart podinfo@6.5.0"
    )
    assert condition(obj, "Released")["reason"] == "UpgradeSucceeded"
    assert_kstatus(obj)
    status = obj["status"]
    assert status["lastAttemptedReleaseAction"] == "upgrade"
    assert status["lastAttemptedConfigDigest"] != first["status"]["lastAttemptedConfigDigest"]
    assert [h["version"] for h in status["history"]] == [2, 1]
    assert status["history"][0]["configDigest"] == status["lastAttemptedConfigDigest"]
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 3
    records = await release_secrets(kube, namespace, "podinfo")
    assert [r["metadata"]["labels"]["status"] for r in records] == ["superseded", "deployed"]

    await kube.patch_merge(
        HELM_RELEASE, "podinfo", {"spec": {"chart": chart_spec("6.5.1")}}, namespace=namespace
    )

    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert condition(obj, "Ready")["message"] == (
        f"Helm upgrade succeeded for release {namespace}/podinfo.v3 with chart podinfo@6.5.1"
    )
    assert obj["status"]["history"][0]["chartVersion"] == "6.5.1"
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":6.5.1")
    assert deployment["spec"]["replicas"] == 3  # the values still apply
