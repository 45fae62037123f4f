"""A new ``releaseName`` makes a new release and uninstalls the one it replaces."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import condition, events_for
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_renaming_the_release_uninstalls_the_old_one(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {})
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    rename = {"spec": {"releaseName": "frontend"}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", rename, namespace=namespace)
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert condition(obj, "Ready")["message"].startswith(
        f"Helm install succeeded for release {namespace}/frontend.v1"
    )
    assert [h["name"] for h in obj["status"]["history"]] == ["frontend"]
    assert await release_secrets(kube, namespace, "podinfo") == []
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
    assert await kube.get_or_none(DEPLOYMENT, "frontend", namespace=namespace) is not None
    events = await events_for(kube, namespace, "podinfo")
    assert any(
        e["reason"] == "UninstallSucceeded" and f"{namespace}/podinfo" in e["message"]
        for e in events
    )
