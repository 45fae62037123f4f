"""``forceAt`` forces one upgrade of a release in sync; ``resetAt`` lets a stalled one try again."""

from __future__ import annotations

import pytest

from tests.integration.helm.common import (
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helm.test_tenancy import DEPLOYMENTS, HELM_STORAGE, ROLE, WAIT, given_account
from tests.integration.helpers import condition, eventually
from tide.api.keys import FORCE_AT, REQUESTED_AT, RESET_AT
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def annotate(kube: KubeClient, namespace: str, name: str, **keys: str) -> None:
    patch = {"metadata": {"annotations": keys}}
    await kube.patch_merge(HELM_RELEASE, name, patch, namespace=namespace)


async def test_force_at_upgrades_a_release_in_sync_once(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {})
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    await annotate(kube, namespace, "podinfo", **{REQUESTED_AT: "f1", FORCE_AT: "f1"})
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert obj["status"]["lastHandledForceAt"] == "f1"
    assert len(await release_secrets(kube, namespace, "podinfo")) == 2

    # Handled once: a plain reconcile request afterwards changes nothing.
    await annotate(kube, namespace, "podinfo", **{REQUESTED_AT: "again"})

    async def handled() -> bool:
        obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
        return obj["status"].get("lastHandledReconcileAt") == "again"

    await eventually(handled, what="the plain reconcile request")
    assert len(await release_secrets(kube, namespace, "podinfo")) == 2


async def test_reset_at_retries_a_release_stalled_on_spent_retries(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await given_account(kube, namespace, "deployer", [HELM_STORAGE])
    await create_release(kube, namespace, "podinfo", {"serviceAccountName": "deployer"})

    async def stalled() -> dict | None:
        obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    await eventually(stalled, timeout=60, what="the release to stall")
    # The platform team grants what was missing; the tenant asks for a fresh start.
    rules = [HELM_STORAGE, DEPLOYMENTS, WAIT]
    role = await kube.get(ROLE, "deployer", namespace=namespace)
    await kube.replace(ROLE, {**role, "rules": rules})
    await annotate(kube, namespace, "podinfo", **{REQUESTED_AT: "r1", RESET_AT: "r1"})
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert obj["status"]["lastHandledResetAt"] == "r1"
    assert "installFailures" not in obj["status"]
    assert condition(obj, "Stalled") is None
