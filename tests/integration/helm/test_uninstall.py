"""Deleting a HelmRelease uninstalls its Helm release and removes the HelmChart it made."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.helmchart import HELM_CHART
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_deleting_the_helmrelease_uninstalls_the_release(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {})
    await create_release(kube, namespace, "kept", {"uninstall": {"keepHistory": True}})
    await wait_for(kube, namespace, "podinfo", status="True")
    await wait_for(kube, namespace, "kept", status="True")

    for name in ("podinfo", "kept"):
        await kube.delete(HELM_RELEASE, name, namespace=namespace)

    async def gone() -> bool:
        left = [
            await kube.get_or_none(HELM_RELEASE, name, namespace=namespace)
            for name in ("podinfo", "kept")
        ]
        return all(obj is None for obj in left)

    await eventually(gone, timeout=60, what="the HelmReleases to be deleted")
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
    assert await kube.get_or_none(DEPLOYMENT, "kept", namespace=namespace) is None
    assert await release_secrets(kube, namespace, "podinfo") == []
    [record] = await release_secrets(kube, namespace, "kept")
    assert record["metadata"]["labels"]["status"] == "uninstalled"

    async def charts_gone() -> bool:
        charts, _ = await kube.list(HELM_CHART, namespace=namespace)
        return not charts

    await eventually(charts_gone, timeout=30, what="the generated HelmCharts to be deleted")
