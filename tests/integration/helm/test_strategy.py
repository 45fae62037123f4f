"""``install|upgrade.strategy: RetryOnFailure``: no remediation, the action tried again later.

The failures here come from outside the spec — a ConfigMap of the chart's name that Helm will
not adopt (not Helm's) — so removing it is the fix, and the release must recover on a retry of
the same generation, with no spec change to wake it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helm.test_tests import tested_repo, with_tests
from tests.integration.helpers import assert_kstatus, condition, events_for, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

__all__ = ["tested_repo"]  # a fixture, imported to be used here

RETRY = {"strategy": {"name": "RetryOnFailure", "retryInterval": "2s"}}


async def given_foreign_config_map(kube: KubeClient, namespace: str, name: str) -> None:
    """A ConfigMap the chart would make, but not Helm's: Helm refuses to take it over."""
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {"name": name, "namespace": namespace}, "data": {"owner": "someone else"},
    })  # fmt: skip


async def failures(kube: KubeClient, namespace: str, reason: str) -> int:
    """How many times an event ``reason`` was recorded about the release (counts included)."""
    found = await events_for(kube, namespace, "podinfo")
    return sum(e.get("count") or 1 for e in found if e["reason"] == reason)


async def failed_times(
    kube: KubeClient, namespace: str, action: str, times: int, *, reason: str | None = None
) -> dict[str, Any]:
    """Wait until ``action`` failed ``times`` times: counted in status, an event (``reason``,
    by default ``InstallFailed`` / ``UpgradeFailed``) each time."""
    key, reason = f"{action}Failures", reason or f"{action.capitalize()}Failed"

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
        counted = (obj.get("status") or {}).get(key) or 0
        seen = await failures(kube, namespace, reason)
        return obj if counted >= times and seen >= times else None

    return await eventually(probe, timeout=90, what=f"{times} failures counted in {key}")


async def test_a_failed_install_is_retried_without_remediation_until_it_succeeds(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await given_foreign_config_map(kube, namespace, "extra")
    spec = {"values": {"extraConfigMap": "extra"}, "install": {**RETRY, "remediation": {}}}
    await create_release(kube, namespace, "podinfo", spec)

    obj = await failed_times(kube, namespace, "install", 3)
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert "exists and cannot be imported into the current release" in ready["message"]
    released = condition(obj, "Released")
    assert (released["status"], released["reason"]) == ("False", "InstallFailed")
    assert condition(obj, "Stalled") is None  # retries never run out
    assert condition(obj, "Remediated") is None
    assert obj["status"]["failures"] >= 3
    reasons = {e["reason"] for e in await events_for(kube, namespace, "podinfo")}
    assert "UninstallSucceeded" not in reasons and "RetriesExceeded" not in reasons
    assert_kstatus(obj)

    # The cause goes away; the next attempt, at the retry interval, installs.
    await kube.delete(resources.CONFIG_MAP, "extra", namespace=namespace)
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert "installFailures" not in obj["status"] and "failures" not in obj["status"]
    assert condition(obj, "Released")["reason"] == "InstallSucceeded"
    [record] = await release_secrets(kube, namespace, "podinfo")
    assert record["metadata"]["labels"]["status"] == "deployed"


async def test_a_failed_upgrade_is_not_rolled_back_and_is_retried_until_it_succeeds(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    # remediation would roll back at the first failure and stall at the second; it is ignored
    spec = {"upgrade": {**RETRY, "remediation": {"retries": 1}}, "values": {"replicas": 1}}
    await create_release(kube, namespace, "podinfo", spec)
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    await given_foreign_config_map(kube, namespace, "extra")
    change = {"spec": {"values": {"replicas": 2, "extraConfigMap": "extra"}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", change, namespace=namespace)
    obj = await failed_times(kube, namespace, "upgrade", 3)
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "UpgradeFailed")
    assert ready["message"].startswith(f"Helm upgrade failed for release {namespace}/podinfo ")
    assert condition(obj, "Stalled") is None
    assert condition(obj, "Remediated") is None
    reasons = {e["reason"] for e in await events_for(kube, namespace, "podinfo")}
    assert "RollbackSucceeded" not in reasons and "RetriesExceeded" not in reasons
    assert_kstatus(obj)

    # Helm's history holds the failed attempts and no rollback: nothing was deployed again.
    records = await release_secrets(kube, namespace, "podinfo")
    statuses = [r["metadata"]["labels"]["status"] for r in records]
    assert statuses[0] == "deployed" and set(statuses[1:]) <= {"failed"}, statuses

    await kube.delete(resources.CONFIG_MAP, "extra", namespace=namespace)
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")
    assert "upgradeFailures" not in obj["status"]
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 2
    records = await release_secrets(kube, namespace, "podinfo")
    assert records[-1]["metadata"]["labels"]["status"] == "deployed"
    assert "superseded" in {r["metadata"]["labels"]["status"] for r in records[:-1]}


async def test_failing_tests_are_run_again_without_remediation(
    kube: KubeClient, namespace: str, tested_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, tested_repo)
    spec = {**with_tests("failing", timeout="3s"), "install": RETRY}
    await create_release(kube, namespace, "podinfo", spec)
    obj = await failed_times(kube, namespace, "install", 2, reason="TestFailed")
    test_success = condition(obj, "TestSuccess")
    assert (test_success["status"], test_success["reason"]) == ("False", "TestFailed")
    assert condition(obj, "Ready")["status"] == "False"
    assert condition(obj, "Stalled") is None and condition(obj, "Remediated") is None
    [record] = await release_secrets(kube, namespace, "podinfo")  # installed once, kept
    assert record["metadata"]["labels"]["status"] == "deployed"
