"""``targetNamespace`` with ``install.createNamespace``: the release and its records live there."""

from __future__ import annotations

import contextlib

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import condition, eventually
from tide.helm import shorten
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_a_release_goes_to_a_created_target_namespace_under_a_shortened_name(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    target = f"{namespace[:50]}-apps"
    try:
        await given_repository(kube, namespace, chart_repo)
        spec = {"targetNamespace": target, "install": {"createNamespace": True}}
        await create_release(kube, namespace, "podinfo", spec)
        obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

        name = shorten(f"{target}-podinfo")
        assert len(f"{target}-podinfo") > 53 and len(name) == 53
        assert condition(obj, "Ready")["message"] == (
            f"Helm install succeeded for release {target}/{name}.v1 with chart podinfo@6.5.0"
        )
        assert obj["status"]["storageNamespace"] == target
        assert await kube.get_or_none(DEPLOYMENT, name, namespace=target) is not None
        [record] = await release_secrets(kube, target, name)
        assert record["metadata"]["name"] == f"sh.helm.release.v1.{name}.v1"

        await kube.delete(HELM_RELEASE, "podinfo", namespace=namespace)

        async def uninstalled() -> bool:  # Helm drops its records after the objects
            gone = await kube.get_or_none(DEPLOYMENT, name, namespace=target) is None
            return gone and await release_secrets(kube, target, name) == []

        await eventually(uninstalled, timeout=60, what="the release to be uninstalled")
    finally:
        with contextlib.suppress(Exception):
            await kube.delete(resources.NAMESPACE, target)
