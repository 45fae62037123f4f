"""A HelmRelease written as ``helm.toolkit.fluxcd.io/v2beta2`` (as many users still do) works."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import create_release, given_repository, wait_for
from tests.integration.helpers import condition
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

V2BETA2 = ResourceType("helm.toolkit.fluxcd.io", "v2beta2", "HelmRelease", "helmreleases")


async def test_a_v2beta2_helmrelease_installs_and_reads_ready(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "legacy", {"values": {"replicas": 1}}, rt=V2BETA2)
    obj = await wait_for(kube, namespace, "legacy", status="True", reason="InstallSucceeded")
    assert condition(obj, "Released")["status"] == "True"
    served = await kube.get(V2BETA2, "legacy", namespace=namespace)
    assert condition(served, "Ready")["reason"] == "InstallSucceeded"
