"""Tide waits for a release's objects itself, parked on shared watches, not in Helm's wait.

A release whose chart has no post hooks is installed with Helm's ``hookOnly`` wait; the
reconcile then gives its worker back until its objects are ready (kstatus), and the verdict is
the one Helm's wait would have given: success, or a failure remediated as configured. Charts
with post-install hooks keep Helm's own wait, so the hook still runs after the objects are
ready. A controller restarted mid-wait resumes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    TEMPLATES,
    chart_spec,
    create_release,
    given_repository,
    release_secrets,
    request_reconcile,
    wait_for,
)
from tests.integration.helm.conftest import running_controllers
from tests.integration.helpers import assert_kstatus, condition, events_for, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration

NOWHERE = {"nodeSelector": {"disk": "nowhere"}}
"""Values that keep the Deployment from ever becoming Available: no node matches."""
UNSTICK = {"spec": {"template": {"spec": {"nodeSelector": None}}}}
"""A patch that lets the Deployment's pods run after all."""

POST_INSTALL = {
    **TEMPLATES,
    "hook.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n"
        '  annotations:\n    "helm.sh/hook": post-install\n'
    ),
}
"""The podinfo Deployment, and a ConfigMap made by a post-install hook."""


@pytest.fixture(scope="module")
def charts() -> Iterator[ChartRepository]:
    """``podinfo`` 6.5.0 (a Deployment) and ``hooked`` (the same with a post-install hook)."""
    with ChartRepository() as repo:
        values = {"replicas": 1, "greeting": "hello"}
        repo.add_chart("podinfo", "6.5.0", values=values, templates=TEMPLATES)
        repo.add_chart("hooked", "1.0.0", values=values, templates=POST_INSTALL)
        yield repo


@pytest.fixture
async def one_worker(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The controllers with ``--concurrent 1``: one reconcile at a time."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", workers=1
    ) as manager:
        yield manager


async def _get(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    return await kube.get(HELM_RELEASE, name, namespace=namespace)


async def _waiting_on_deployment(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    """Wait until the release says it waits for its Deployment (Reconciling, Ready Unknown)."""

    async def probe() -> dict[str, Any] | None:
        obj = await _get(kube, namespace, name)
        reconciling = condition(obj, "Reconciling") or {}
        if f"waiting for Deployment/{namespace}/{name}" in reconciling.get("message", ""):
            return obj
        return None

    return await eventually(probe, timeout=120, what=f"{name} to wait on its Deployment")


async def test_the_worker_is_free_while_a_release_waits_for_its_deployment(
    kube: KubeClient, namespace: str, charts: ChartRepository, one_worker: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "stuck", {
        "values": NOWHERE, "install": {"timeout": "10m"},
    })  # fmt: skip
    obj = await _waiting_on_deployment(kube, namespace, "stuck")
    reconciling = condition(obj, "Reconciling")
    assert reconciling["message"] == (
        "Running 'install' action with timeout of '10m0s': "
        f"waiting for Deployment/{namespace}/stuck"
    )
    assert condition(obj, "Ready")["status"] == "Unknown"
    assert_kstatus(obj)

    # Helm's wait would hold the only worker for ten minutes; this one installs now.
    await create_release(kube, namespace, "quick", {"values": {"replicas": 0}})
    await wait_for(kube, namespace, "quick", status="True", reason="InstallSucceeded", timeout=60)
    assert condition(await _get(kube, namespace, "stuck"), "Ready")["status"] == "Unknown"

    await kube.patch_merge(DEPLOYMENT, "stuck", UNSTICK, namespace=namespace)
    obj = await wait_for(kube, namespace, "stuck", status="True", reason="InstallSucceeded")
    assert condition(obj, "Ready")["message"] == (
        f"Helm install succeeded for release {namespace}/stuck.v1 with chart podinfo@6.5.0"
    )
    deployment = await kube.get(DEPLOYMENT, "stuck", namespace=namespace)
    available = next(c for c in deployment["status"]["conditions"] if c["type"] == "Available")
    assert available["status"] == "True"  # Ready came after the Deployment was Available
    assert obj["status"]["history"][0]["status"] == "deployed"
    assert obj["status"]["inventory"]["entries"] == [
        {"id": f"{namespace}_stuck_apps_Deployment", "v": "v1"}
    ]
    assert condition(obj, "Reconciling") is None
    assert_kstatus(obj)
    events = await events_for(kube, namespace, "stuck")
    assert ("Normal", "InstallSucceeded") in {(e["type"], e["reason"]) for e in events}


async def test_a_wait_timeout_fails_the_install_which_is_uninstalled_and_retried(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "late", {
        "values": NOWHERE, "install": {"timeout": "3s", "remediation": {"retries": 1}},
    })  # fmt: skip

    async def stalled() -> dict[str, Any] | None:
        obj = await _get(kube, namespace, "late")
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    obj = await eventually(stalled, timeout=120, what="the release to stall")
    status = obj["status"]
    assert status["installFailures"] == 2
    assert condition(obj, "Stalled")["message"] == "Failed to install after 2 attempt(s)"
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert ready["message"].startswith(
        f"Helm install failed for release {namespace}/late with chart podinfo@6.5.0: "
        f"resource Deployment/{namespace}/late not ready. status: InProgress"
    )
    assert ready["message"].endswith("context deadline exceeded")
    released = condition(obj, "Released")
    assert (released["status"], released["reason"]) == ("False", "InstallFailed")
    remediated = condition(obj, "Remediated")  # the first failure, before the retry
    assert (remediated["status"], remediated["reason"]) == ("True", "UninstallSucceeded")
    assert status["history"][0]["status"] == "failed"  # Helm's own record says deployed
    [record] = await release_secrets(kube, namespace, "late")
    assert record["metadata"]["labels"]["status"] == "deployed"
    assert_kstatus(obj)
    events = {(e["type"], e["reason"]) for e in await events_for(kube, namespace, "late")}
    assert {("Warning", "InstallFailed"), ("Normal", "UninstallSucceeded")} <= events

    # Stalled means stalled: a later reconcile neither installs again nor goes Ready.
    await request_reconcile(kube, namespace, "late", "again")
    obj = await _get(kube, namespace, "late")
    assert condition(obj, "Ready")["reason"] == "InstallFailed"
    assert len(await release_secrets(kube, namespace, "late")) == 1


async def test_retry_on_failure_upgrades_again_after_a_wait_timeout(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    retry = {"strategy": {"name": "RetryOnFailure", "retryInterval": "2s"}, "timeout": "3s"}
    await create_release(kube, namespace, "app", {"upgrade": retry})
    await wait_for(kube, namespace, "app", status="True", reason="InstallSucceeded")

    await kube.patch_merge(HELM_RELEASE, "app", {"spec": {"values": NOWHERE}}, namespace=namespace)

    async def retried() -> dict[str, Any] | None:
        obj = await _get(kube, namespace, "app")
        return obj if (obj["status"].get("upgradeFailures") or 0) >= 2 else None

    obj = await eventually(retried, timeout=120, what="the upgrade to be tried again")
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "UpgradeFailed")
    assert f"resource Deployment/{namespace}/app not ready" in ready["message"]
    assert condition(obj, "Stalled") is None
    assert condition(obj, "Remediated") is None  # RetryOnFailure leaves the revision in place
    records = await release_secrets(kube, namespace, "app")
    assert len(records) >= 3  # the install, then an upgrade per attempt

    await kube.patch_merge(HELM_RELEASE, "app", {"spec": {"values": None}}, namespace=namespace)
    obj = await wait_for(kube, namespace, "app", status="True", reason="UpgradeSucceeded")
    assert "upgradeFailures" not in obj["status"]


async def test_a_post_install_hook_still_runs_after_the_objects_are_ready(
    kube: KubeClient, namespace: str, charts: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, charts)
    await create_release(kube, namespace, "hooked", {
        "chart": chart_spec("1.0.0", chart="hooked"), "values": NOWHERE,
        "install": {"timeout": "10m"},
    })  # fmt: skip

    async def in_helms_wait() -> bool:
        if await kube.get_or_none(DEPLOYMENT, "hooked", namespace=namespace) is None:
            return False
        records = await release_secrets(kube, namespace, "hooked")
        return bool(records) and records[-1]["metadata"]["labels"]["status"] == "pending-install"

    # Helm's own wait (the action is still pending in Helm's record, its objects applied):
    # the Deployment cannot become Available, so the hook, which comes after, has not run.
    await eventually(in_helms_wait, timeout=60, what="Helm to wait on the Deployment")
    assert await kube.get_or_none(resources.CONFIG_MAP, "hooked-hook", namespace=namespace) is None
    reconciling = condition(await _get(kube, namespace, "hooked"), "Reconciling")
    assert reconciling["message"] == "Running 'install' action with timeout of '10m0s'"

    await kube.patch_merge(DEPLOYMENT, "hooked", UNSTICK, namespace=namespace)
    await wait_for(kube, namespace, "hooked", status="True", reason="InstallSucceeded")
    assert await kube.get_or_none(resources.CONFIG_MAP, "hooked-hook", namespace=namespace)


async def test_a_restarted_controller_resumes_the_wait(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    charts: ChartRepository,
    tmp_path: Path,
) -> None:
    await given_repository(kube, namespace, charts)
    # No namespace to drain on the way out: the release stays as the controller left it.
    async with running_controllers(control_plane, kube, [], tmp_path / "first"):
        await create_release(kube, namespace, "app", {
            "values": NOWHERE, "install": {"timeout": "10m"},
        })  # fmt: skip
        await _waiting_on_deployment(kube, namespace, "app")
    obj = await _get(kube, namespace, "app")
    assert obj["status"]["history"][0]["status"] == "pending-install"

    async with running_controllers(control_plane, kube, [namespace], tmp_path / "second"):
        await request_reconcile(kube, namespace, "app", "after-restart")

        async def resumed() -> dict[str, Any] | None:
            obj = await _get(kube, namespace, "app")
            assert condition(obj, "Ready")["status"] != "True", obj["status"]  # not Ready early
            reconciling = condition(obj, "Reconciling") or {}
            if "waiting for Deployment" not in reconciling.get("message", ""):
                return None  # the chart's source may need a moment after the restart
            return obj if condition(obj, "Ready")["status"] == "Unknown" else None

        await eventually(resumed, timeout=60, what="the wait to be resumed")
        assert len(await release_secrets(kube, namespace, "app")) == 1  # not installed again

        await kube.patch_merge(DEPLOYMENT, "app", UNSTICK, namespace=namespace)
        obj = await wait_for(kube, namespace, "app", status="True", reason="InstallSucceeded")
        assert obj["status"]["history"][0]["status"] == "deployed"
        assert len(await release_secrets(kube, namespace, "app")) == 1
