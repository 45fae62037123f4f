"""A failed upgrade is rolled back, retried as configured, then stalls with RetriesExceeded."""

from __future__ import annotations

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
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration


async def test_failed_upgrade_is_rolled_back_retried_and_then_stalls(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(
        kube,
        namespace,
        "podinfo",
        {
            "values": {"replicas": 1},
            "upgrade": {"remediation": {"retries": 1}},
            "timeout": "30s",
        },
    )
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    # A ConfigMap name the API server refuses: rendering works, applying fails.
    bad = {"spec": {"values": {"replicas": 2, "extraConfigMap": "Not_A_Valid_Name"}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", bad, namespace=namespace)

    async def stalled() -> dict | None:
        obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    obj = await eventually(stalled, timeout=120, what="the release to stall")
    status = obj["status"]
    assert status["upgradeFailures"] == 2
    assert condition(obj, "Stalled")["message"] == "Failed to upgrade after 2 attempt(s)"
    ready = condition(obj, "Ready")  # as Flux: the failure itself, for alerts on Ready's reason
    assert (ready["status"], ready["reason"]) == ("False", "UpgradeFailed")
    assert ready["message"].startswith(f"Helm upgrade failed for release {namespace}/podinfo ")
    released = condition(obj, "Released")
    assert (released["status"], released["reason"]) == ("False", "UpgradeFailed")
    assert "Not_A_Valid_Name" in released["message"]
    remediated = condition(obj, "Remediated")
    assert (remediated["status"], remediated["reason"]) == ("True", "RollbackSucceeded")
    assert remediated["message"].startswith("Helm rollback to previous release")
    assert_kstatus(obj)

    # Helm's own history: install, failed upgrade, rollback, failed upgrade, rollback.
    records = await release_secrets(kube, namespace, "podinfo")
    assert records[-1]["metadata"]["labels"]["status"] == "deployed"
    assert [r["metadata"]["labels"]["status"] for r in records].count("failed") == 2
    assert status["history"][0]["status"] == "deployed"
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 1  # the values of the last good release

    events = await events_for(kube, namespace, "podinfo")
    reasons = {(e["type"], e["reason"]) for e in events}
    assert {("Warning", "UpgradeFailed"), ("Normal", "RollbackSucceeded")} <= reasons

    # A fixed spec is a new attempt: counts start again and the upgrade goes through.
    good = {"spec": {"values": {"replicas": 2, "extraConfigMap": "extra"}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", good, namespace=namespace)
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert "upgradeFailures" not in obj["status"]
    assert obj["status"]["inventory"]["entries"] == [
        {"id": f"{namespace}_extra__ConfigMap", "v": "v1"},
        {"id": f"{namespace}_podinfo_apps_Deployment", "v": "v1"},
    ]
    assert condition(obj, "Remediated") is None
    assert condition(obj, "Stalled") is None


async def stalled_on_retries(kube: KubeClient, namespace: str, name: str) -> dict:
    async def stalled() -> dict | None:
        obj = await kube.get(HELM_RELEASE, name, namespace=namespace)
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    return await eventually(stalled, timeout=120, what=f"{name} to stall")


async def test_a_failed_install_is_uninstalled_and_retried(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {
        "values": {"extraConfigMap": "Not_A_Valid_Name"},
        "install": {"remediation": {"retries": 1}},
    })  # fmt: skip
    obj = await stalled_on_retries(kube, namespace, "podinfo")
    assert obj["status"]["installFailures"] == 2
    assert condition(obj, "Stalled")["message"] == "Failed to install after 2 attempt(s)"
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    remediated = condition(obj, "Remediated")  # the first failure, before the retry
    assert (remediated["status"], remediated["reason"]) == ("True", "UninstallSucceeded")
    # The last failure is not remediated (remediateLastFailure is off for installs by default).
    [record] = await release_secrets(kube, namespace, "podinfo")
    assert record["metadata"]["labels"]["status"] == "failed"


async def test_upgrade_remediation_may_uninstall_instead_of_rolling_back(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    remediation = {"strategy": "uninstall", "remediateLastFailure": True}
    await create_release(kube, namespace, "podinfo", {"upgrade": {"remediation": remediation}})
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    bad = {"spec": {"values": {"extraConfigMap": "Not_A_Valid_Name"}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", bad, namespace=namespace)
    obj = await stalled_on_retries(kube, namespace, "podinfo")
    remediated = condition(obj, "Remediated")
    assert (remediated["status"], remediated["reason"]) == ("True", "UninstallSucceeded")
    assert await release_secrets(kube, namespace, "podinfo") == []
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
