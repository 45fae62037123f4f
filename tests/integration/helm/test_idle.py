"""A reconcile with the same chart, values and spec makes no Helm action and no write."""

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
from tests.integration.helpers import eventually
from tide.api.keys import REQUESTED_AT
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_nothing_changed_means_no_helm_action_and_nothing_written(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"values": {"replicas": 2}})
    before = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    await asyncio.sleep(0.5)  # replies to the controllers' last writes may still be on their way
    records = [
        r["metadata"]["resourceVersion"] for r in await release_secrets(kube, namespace, "podinfo")
    ]
    deployment = (await kube.get(DEPLOYMENT, "podinfo", namespace=namespace))["metadata"]
    others = controllers.client.total_writes(namespace=namespace) - controllers.client.total_writes(
        namespace=namespace, kinds=("HelmRelease",)
    )
    own = controllers.client.total_writes(namespace=namespace, kinds=("HelmRelease",))

    for stamp in ("again", "and-again"):
        await kube.patch_merge(
            HELM_RELEASE,
            "podinfo",
            {"metadata": {"annotations": {REQUESTED_AT: stamp}}},
            namespace=namespace,
        )

        async def handled(stamp: str = stamp) -> bool:
            obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
            return obj["status"].get("lastHandledReconcileAt") == stamp

        await eventually(handled, what=f"the requested reconcile '{stamp}'")

    # No Helm action: Helm's records and the Deployment are untouched.
    after = [
        r["metadata"]["resourceVersion"] for r in await release_secrets(kube, namespace, "podinfo")
    ]
    assert after == records
    now = (await kube.get(DEPLOYMENT, "podinfo", namespace=namespace))["metadata"]
    assert now["resourceVersion"] == deployment["resourceVersion"]
    # No write but the HelmRelease's own status (lastHandledReconcileAt, its progress mark).
    total = controllers.client.total_writes(namespace=namespace)
    mine = controllers.client.total_writes(namespace=namespace, kinds=("HelmRelease",))
    assert total - mine == others, controllers.client.writes
    assert mine - own <= 4, controllers.client.writes
    obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
    assert obj["status"]["history"] == before["status"]["history"]
