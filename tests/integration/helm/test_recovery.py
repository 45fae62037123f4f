"""A release left ``pending-upgrade`` by a process killed mid-action is recovered, unattended."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from tests.integration.helm.common import (
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helpers import condition, events_for, eventually
from tide.api.keys import REQUESTED_AT
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration

UPGRADE = """\
import json, sys
import helm_python as helm
kubeconfig, namespace, chart, values = sys.argv[1:]
config = helm.Config(kubeconfig_path=kubeconfig, namespace=namespace)
config.upgrade(chart, "podinfo", json.loads(values), namespace=namespace, wait="watcher",
               timeout=600)
"""
"""An upgrade whose Deployment never becomes Available, so Helm waits (and is killed waiting)."""


async def test_a_release_left_pending_upgrade_is_rolled_back_and_says_so(
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
    control_plane: ControlPlane,
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "podinfo", {"values": {"replicas": 1}})
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")

    chart = Path(chart_repo.charts_dir) / "podinfo-6.5.0.tgz"
    values = json.dumps({"replicas": 1, "nodeSelector": {"tide.dev/nowhere": "true"}})
    killed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        UPGRADE,
        str(control_plane.kubeconfig),
        namespace,
        str(chart),
        values,
    )
    try:

        async def pending() -> bool:
            records = await release_secrets(kube, namespace, "podinfo")
            return records[-1]["metadata"]["labels"]["status"] == "pending-upgrade"

        await eventually(pending, timeout=60, what="the upgrade to be under way")
    finally:
        killed.send_signal(signal.SIGKILL)
        await killed.wait()

    await kube.patch_merge(
        HELM_RELEASE,
        "podinfo",
        {"metadata": {"annotations": {REQUESTED_AT: "after-the-crash"}}},
        namespace=namespace,
    )

    async def recovered() -> dict | None:
        events = await events_for(kube, namespace, "podinfo")
        return next((e for e in events if e["reason"] == "ReleaseRecovered"), None)

    event = await eventually(recovered, timeout=60, what="the ReleaseRecovered event")
    assert event["message"] == (
        f"Helm release {namespace}/podinfo.v2 was left 'pending-upgrade' by an interrupted "
        "action; rolled it back to revision 1"
    )

    async def settled() -> dict | None:
        obj = await kube.get(HELM_RELEASE, "podinfo", namespace=namespace)
        handled = obj["status"].get("lastHandledReconcileAt") == "after-the-crash"
        ready = condition(obj, "Ready")
        return obj if handled and ready and ready["status"] == "True" else None

    obj = await eventually(settled, timeout=60, what="the release to be Ready again")
    records = await release_secrets(kube, namespace, "podinfo")
    assert [r["metadata"]["labels"]["status"] for r in records][-1] == "deployed"
    assert obj["status"]["history"][0]["status"] == "deployed"
    # Nothing is left stuck: the next change upgrades as usual.
    more = {"spec": {"values": {"replicas": 2}}}
    await kube.patch_merge(HELM_RELEASE, "podinfo", more, namespace=namespace)
    await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")


INSTALL = UPGRADE.replace("config.upgrade(", "config.install(").replace('"podinfo"', '"stuck"')
"""An install that never finishes, under the name a HelmRelease ``stuck`` will use."""


async def test_a_release_left_pending_install_is_installed_again_and_says_so(
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
    control_plane: ControlPlane,
) -> None:
    await given_repository(kube, namespace, chart_repo)
    chart = Path(chart_repo.charts_dir) / "podinfo-6.5.0.tgz"
    values = json.dumps({"replicas": 1, "nodeSelector": {"tide.dev/nowhere": "true"}})
    arguments = [str(control_plane.kubeconfig), namespace, str(chart), values]
    killed = await asyncio.create_subprocess_exec(sys.executable, "-c", INSTALL, *arguments)
    try:

        async def pending() -> bool:
            records = await release_secrets(kube, namespace, "stuck")
            return (
                bool(records) and records[-1]["metadata"]["labels"]["status"] == "pending-install"
            )

        await eventually(pending, timeout=60, what="the install to be under way")
    finally:
        killed.send_signal(signal.SIGKILL)
        await killed.wait()

    await create_release(kube, namespace, "stuck", {"values": {"replicas": 1}})
    obj = await wait_for(kube, namespace, "stuck", status="True", reason="InstallSucceeded")
    assert condition(obj, "Ready")["message"].startswith(
        f"Helm install succeeded for release {namespace}/stuck.v1"
    )
    events = await events_for(kube, namespace, "stuck")
    [event] = [e for e in events if e["reason"] == "ReleaseRecovered"]
    assert event["message"] == (
        f"Helm release {namespace}/stuck.v1 was left 'pending-install' by an interrupted "
        "action; uninstalled it, to install again"
    )
    [record] = await release_secrets(kube, namespace, "stuck")
    assert record["metadata"]["labels"]["status"] == "deployed"


ROLLBACK = """\
import sys
import helm_python as helm
kubeconfig, namespace, version = sys.argv[1:]
config = helm.Config(kubeconfig_path=kubeconfig, namespace=namespace)
config.rollback("podinfo", version=int(version), wait="watcher", timeout=600)
"""
"""A rollback to a revision whose Deployment never becomes Available, killed while it waits."""


async def test_a_release_left_pending_rollback_is_rolled_back_to_the_last_good_revision(
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
    control_plane: ControlPlane,
) -> None:
    await given_repository(kube, namespace, chart_repo)
    nowhere = {"replicas": 1, "nodeSelector": {"tide.dev/nowhere": "true"}}
    await create_release(
        kube, namespace, "podinfo", {"values": nowhere, "install": {"disableWait": True}}
    )
    await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    good = {"spec": {"values": {"nodeSelector": None}}}  # a merge patch: None removes it
    await kube.patch_merge(HELM_RELEASE, "podinfo", good, namespace=namespace)
    await wait_for(kube, namespace, "podinfo", status="True", reason="UpgradeSucceeded")

    arguments = [str(control_plane.kubeconfig), namespace, "1"]
    killed = await asyncio.create_subprocess_exec(sys.executable, "-c", ROLLBACK, *arguments)
    try:

        async def pending() -> bool:
            records = await release_secrets(kube, namespace, "podinfo")
            return records[-1]["metadata"]["labels"]["status"] == "pending-rollback"

        await eventually(pending, timeout=60, what="the rollback to be under way")
    finally:
        killed.send_signal(signal.SIGKILL)
        await killed.wait()

    await kube.patch_merge(
        HELM_RELEASE,
        "podinfo",
        {"metadata": {"annotations": {REQUESTED_AT: "after-the-crash"}}},
        namespace=namespace,
    )

    async def recovered() -> dict | None:
        events = await events_for(kube, namespace, "podinfo")
        return next((e for e in events if e["reason"] == "ReleaseRecovered"), None)

    event = await eventually(recovered, timeout=60, what="the ReleaseRecovered event")
    assert event["message"] == (
        f"Helm release {namespace}/podinfo.v3 was left 'pending-rollback' by an interrupted "
        "action; rolled it back to revision 2"
    )
    records = await release_secrets(kube, namespace, "podinfo")
    assert records[-1]["metadata"]["labels"]["status"] == "deployed"
