"""A HelmRelease installs its chart through Helm and reads Ready with Flux's words."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import assert_kstatus, condition, events_for, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.helmchart import HELM_CHART
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration


async def test_install_creates_the_release_helm_sees_and_reads_ready(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"values": {"replicas": 2}})
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    ready = condition(obj, "Ready")
    assert ready["message"] == (
        f"Helm install succeeded for release {namespace}/podinfo.v1 with chart podinfo@6.5.0"
    )
    released = condition(obj, "Released")
    assert (released["status"], released["reason"]) == ("True", "InstallSucceeded")
    assert_kstatus(obj)
    status = obj["status"]
    assert status["helmChart"] == f"{namespace}/{namespace}-podinfo"
    assert status["storageNamespace"] == namespace
    assert status["lastAttemptedRevision"] == "6.5.0"
    assert status["lastAttemptedReleaseAction"] == "install"
    assert status["lastAttemptedGeneration"] == 1
    assert status["lastAttemptedConfigDigest"].startswith("sha256:")
    [snapshot] = status["history"]
    assert snapshot["name"] == "podinfo" and snapshot["namespace"] == namespace
    assert (snapshot["version"], snapshot["status"]) == (1, "deployed")
    assert (snapshot["chartName"], snapshot["chartVersion"]) == ("podinfo", "6.5.0")
    assert snapshot["configDigest"] == status["lastAttemptedConfigDigest"]
    assert snapshot["firstDeployed"] and snapshot["lastDeployed"]
    assert status["inventory"] == {
        "entries": [{"id": f"{namespace}_podinfo_apps_Deployment", "v": "v1"}]
    }

    # Stored as Helm stores it, so `helm list` and `helm history` see it.
    [record] = await release_secrets(kube, namespace, "podinfo")
    assert record["metadata"]["name"] == "sh.helm.release.v1.podinfo.v1"
    assert record["metadata"]["labels"]["status"] == "deployed"
    assert record["type"] == "helm.sh/release.v1"
    # Waited on by kstatus: the Deployment is Available by the time the release is Ready.
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["status"].get("availableReplicas") == 2

    # The generated HelmChart is Flux's shape and carries its owner.
    helm_chart = await kube.get(HELM_CHART, f"{namespace}-podinfo", namespace=namespace)
    assert helm_chart["spec"]["chart"] == "podinfo"
    assert helm_chart["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": "charts"}
    assert helm_chart["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "podinfo"

    async def install_event() -> bool:
        events = await events_for(kube, namespace, "podinfo")
        return any(e["reason"] == "InstallSucceeded" and e["type"] == "Normal" for e in events)

    await eventually(install_event, what="the InstallSucceeded event")


async def test_a_release_made_with_the_helm_cli_is_adopted_without_a_new_revision(
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
    control_plane: ControlPlane,
) -> None:
    import helm_python as helm

    chart = chart_repo.charts_dir / "podinfo-6.5.0.tgz"

    def install() -> None:
        with helm.Config(kubeconfig_path=str(control_plane.kubeconfig), namespace=namespace) as c:
            c.install(str(chart), "podinfo", {"replicas": 2}, namespace=namespace, timeout=60)

    await asyncio.to_thread(install)
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"values": {"replicas": 2}})
    obj = await wait_for(kube, namespace, "podinfo", status="True")
    # Same chart, same values: nothing for Helm to do, so the CLI's revision stays the latest.
    assert obj["status"]["history"][0]["version"] == 1
    [record] = await release_secrets(kube, namespace, "podinfo")
    assert record["metadata"]["labels"]["status"] == "deployed"

    await kube.patch_merge(
        HELM_RELEASE, "podinfo", {"spec": {"values": {"replicas": 3}}}, namespace=namespace
    )
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert obj["status"]["history"][0]["version"] == 2
