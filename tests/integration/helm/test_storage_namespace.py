"""``storageNamespace``: Helm's records in one namespace, the release's objects in another."""

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
from tests.integration.helpers import assert_kstatus, events_for, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


def statuses(records: list[dict]) -> list[str]:
    return [r["metadata"]["labels"]["status"] for r in records]


async def test_records_live_in_the_storage_namespace_and_move_when_it_changes(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    store = f"{namespace[:50]}-helm"
    await kube.create(resources.NAMESPACE, {"metadata": {"name": store}})
    try:
        await given_repository(kube, namespace, chart_repo)
        await create_release(kube, namespace, "podinfo", {"storageNamespace": store})
        obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
        assert obj["status"]["storageNamespace"] == store
        assert obj["status"]["history"][0]["namespace"] == namespace  # the release's namespace
        assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None
        assert statuses(await release_secrets(kube, store, "podinfo")) == ["deployed"]
        assert await release_secrets(kube, namespace, "podinfo") == []

        # An upgrade reads and writes the records there too.
        change = {"spec": {"values": {"replicas": 2}}}
        await kube.patch_merge(HELM_RELEASE, "podinfo", change, namespace=namespace)
        obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
        assert statuses(await release_secrets(kube, store, "podinfo")) == ["superseded", "deployed"]
        assert await release_secrets(kube, namespace, "podinfo") == []
        deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
        assert deployment["spec"]["replicas"] == 2
        assert deployment["metadata"]["annotations"]["meta.helm.sh/release-namespace"] == namespace
        assert_kstatus(obj)

        # A new storage namespace moves the release as Flux does: uninstalled from the old
        # storage, installed anew with its records in the new one.
        move = {"spec": {"storageNamespace": namespace}}
        await kube.patch_merge(HELM_RELEASE, "podinfo", move, namespace=namespace)
        obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
        assert obj["status"]["storageNamespace"] == namespace
        assert statuses(await release_secrets(kube, namespace, "podinfo")) == ["deployed"]
        assert await release_secrets(kube, store, "podinfo") == []
        events = await events_for(kube, namespace, "podinfo")
        assert "UninstallSucceeded" in {e["reason"] for e in events}

        # And back: deletion then uninstalls from wherever the records are.
        move = {"spec": {"storageNamespace": store}}
        await kube.patch_merge(HELM_RELEASE, "podinfo", move, namespace=namespace)
        obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
        assert obj["status"]["storageNamespace"] == store
        await kube.delete(HELM_RELEASE, "podinfo", namespace=namespace)

        async def uninstalled() -> bool:
            gone = await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
            return gone and await release_secrets(kube, store, "podinfo") == []

        await eventually(uninstalled, timeout=60, what="the release to be uninstalled")
        assert await release_secrets(kube, namespace, "podinfo") == []
    finally:
        with contextlib.suppress(Exception):
            await kube.delete(resources.NAMESPACE, store)
