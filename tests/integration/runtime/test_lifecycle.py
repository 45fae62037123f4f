"""The Flux object lifecycle as users see it, driven through the Receiver controller."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.integration.helpers import (
    assert_kstatus,
    events_for,
    eventually,
    reconcile_count,
    settled,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.notification.receiver import webhook_path
from tide.notification.setup import RECEIVER
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request

pytestmark = pytest.mark.integration

TOKEN = "s3cr3t-token-value"


def receiver(name: str, *, secret: str = "webhook-token", interval: str = "10m") -> dict[str, Any]:
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Receiver",
        "metadata": {"name": name},
        "spec": {
            "type": "generic",
            "interval": interval,
            "secretRef": {"name": secret},
            "resources": [{"kind": "GitRepository", "name": "webapp"}],
        },
    }


async def create_token(kube: KubeClient, namespace: str, name: str = "webhook-token") -> None:
    await kube.create(
        resources.SECRET,
        {
            "metadata": {"name": name, "namespace": namespace},
            "data": {"token": base64.b64encode(TOKEN.encode()).decode()},
        },
    )


async def create_receiver(kube: KubeClient, namespace: str, body: dict[str, Any]) -> None:
    body["metadata"]["namespace"] = namespace
    await kube.create(RECEIVER, body)


def ready(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the Ready condition when it is True for the object's current generation."""
    if not obj:
        return None
    status = obj.get("status") or {}
    for condition in status.get("conditions") or ():
        current = status.get("observedGeneration") == obj["metadata"]["generation"]
        if condition["type"] == "Ready" and condition["status"] == "True" and current:
            return condition
    return None


async def wait_ready(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(RECEIVER, name, namespace=namespace)
        return obj if ready(obj) else None

    return await eventually(probe, what=f"Receiver {namespace}/{name} to be Ready")


async def test_receiver_becomes_ready_for_each_generation(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook"))

    obj = await wait_ready(kube, namespace, "hook")
    expected_path = webhook_path(TOKEN, "hook", namespace)
    assert obj["status"]["webhookPath"] == expected_path
    assert ready(obj)["message"] == f"Receiver initialized for path: {expected_path}"
    assert obj["status"]["observedGeneration"] == 1
    assert "finalizers.fluxcd.io" in obj["metadata"]["finalizers"]
    assert_kstatus(obj)

    await kube.patch_merge(RECEIVER, "hook", {"spec": {"events": ["push"]}}, namespace=namespace)
    obj = await wait_ready(kube, namespace, "hook")
    assert obj["metadata"]["generation"] == 2
    assert obj["status"]["observedGeneration"] == 2
    assert_kstatus(obj)
    reasons = [e["reason"] for e in await events_for(kube, namespace, "hook")]
    assert "Succeeded" in reasons


async def test_requested_at_annotation_triggers_exactly_one_reconcile(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook"))
    await wait_ready(kube, namespace, "hook")
    await settled(kube, manager, RECEIVER, namespace, "hook")  # finalizer and status writes seen
    before = reconcile_count("Receiver", namespace, "hook")

    annotation = {"reconcile.fluxcd.io/requestedAt": "2026-11-22T10:00:00Z"}
    await kube.patch_merge(
        RECEIVER, "hook", {"metadata": {"annotations": annotation}}, namespace=namespace
    )

    async def handled() -> bool:
        obj = await kube.get(RECEIVER, "hook", namespace=namespace)
        return obj["status"].get("lastHandledReconcileAt") == "2026-11-22T10:00:00Z"

    await eventually(handled, what="lastHandledReconcileAt to follow the annotation")
    # Once the controller has seen its own status write and has nothing queued, a second
    # reconcile (e.g. one caused by that write) would have run or be waiting: neither happened.
    await settled(kube, manager, RECEIVER, namespace, "hook")
    assert reconcile_count("Receiver", namespace, "hook") == before + 1


async def test_suspended_object_is_not_reconciled_until_resumed(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook"))
    await wait_ready(kube, namespace, "hook")

    await kube.patch_merge(RECEIVER, "hook", {"spec": {"suspend": True}}, namespace=namespace)
    labels = {"kind": "Receiver", "name": "hook", "namespace": namespace}

    async def suspended_gauge() -> bool:
        return REGISTRY.get_sample_value("gotk_suspend_status", labels) == 1.0

    await eventually(suspended_gauge, what="gotk_suspend_status to report the suspension")
    before = reconcile_count("Receiver", namespace, "hook")
    annotation = {"reconcile.fluxcd.io/requestedAt": "while-suspended"}
    await kube.patch_merge(
        RECEIVER, "hook", {"metadata": {"annotations": annotation}}, namespace=namespace
    )
    # The annotation has reached the controller's cache and nothing is queued for it.
    obj = await settled(kube, manager, RECEIVER, namespace, "hook")
    assert obj["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] == "while-suspended"
    assert obj["status"].get("lastHandledReconcileAt") != "while-suspended"
    assert reconcile_count("Receiver", namespace, "hook") == before

    await kube.patch_merge(RECEIVER, "hook", {"spec": {"suspend": False}}, namespace=namespace)
    obj = await wait_ready(kube, namespace, "hook")
    assert obj["status"]["lastHandledReconcileAt"] == "while-suspended"
    assert REGISTRY.get_sample_value("gotk_suspend_status", labels) == 0.0


async def test_failing_reconcile_retries_with_growing_delays_then_recovers(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_receiver(kube, namespace, receiver("hook", secret="missing"))

    attempts: list[float] = []
    seen = 0.0
    deadline = time.monotonic() + 20
    while len(attempts) < 5 and time.monotonic() < deadline:
        count = reconcile_count("Receiver", namespace, "hook")
        if count > seen:
            attempts.append(time.monotonic())
            seen = count
        await asyncio.sleep(0.02)
    assert len(attempts) == 5, f"expected 5 attempts in 20s, saw {len(attempts)}"
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # 750 ms doubling: 0.75, 1.5, 3, 6 s. Each gap is measured between the ends of two attempts,
    # so it is the backoff plus one reconcile: never shorter, and only a little longer.
    for gap, expected in zip(gaps, (0.75, 1.5, 3.0, 6.0), strict=True):
        assert expected * 0.95 <= gap <= expected + 2.5, gaps
    # The next retry is already scheduled 12 s out, as the queue itself reports.
    controller = manager.controllers[0]
    pending = controller.queue.pending_delay(Request(namespace, "hook"))
    assert pending is not None and 6.0 < pending <= 12.0, pending
    assert all(b > a * 1.5 for a, b in itertools.pairwise(gaps)), gaps

    obj = await kube.get(RECEIVER, "hook", namespace=namespace)
    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "TokenNotFound"
    assert conditions["Ready"]["message"] == (
        f"Secret '{namespace}/missing' (spec.secretRef) not found"
    )
    assert conditions["Reconciling"]["reason"] == "ProgressingWithRetry"
    assert_kstatus(obj)
    warnings = [e for e in await events_for(kube, namespace, "hook") if e["type"] == "Warning"]
    assert warnings and warnings[0]["reason"] == "TokenNotFound"
    assert warnings[0]["count"] >= 4  # repeated failures aggregate into one Event

    await create_token(kube, namespace, "missing")
    obj = await wait_ready(kube, namespace, "hook")
    assert "Reconciling" not in {c["type"] for c in obj["status"]["conditions"]}
    assert_kstatus(obj)
    everything = str(obj) + str(await events_for(kube, namespace, "hook"))
    assert TOKEN not in everything


async def test_reconcile_with_nothing_changed_writes_nothing(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook", interval="1s"))
    await wait_ready(kube, namespace, "hook")
    quiet = await settled(kube, manager, RECEIVER, namespace, "hook")
    writes_before = manager.client.total_writes(namespace=namespace)
    count_before = reconcile_count("Receiver", namespace, "hook")

    async def three_more() -> bool:
        return reconcile_count("Receiver", namespace, "hook") >= count_before + 3

    await eventually(three_more, timeout=15, what="three interval reconciles")
    after = await kube.get(RECEIVER, "hook", namespace=namespace)
    assert manager.client.total_writes(namespace=namespace) == writes_before
    assert after["metadata"]["resourceVersion"] == quiet["metadata"]["resourceVersion"]


async def test_deleting_a_receiver_releases_its_finalizer(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook"))
    await wait_ready(kube, namespace, "hook")

    await kube.delete(RECEIVER, "hook", namespace=namespace)

    async def gone() -> bool:
        return await kube.get_or_none(RECEIVER, "hook", namespace=namespace) is None

    await eventually(gone, what="the Receiver to be deleted")


async def test_zero_interval_reconciles_only_on_change(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook", interval="0s"))
    await wait_ready(kube, namespace, "hook")
    await settled(kube, manager, RECEIVER, namespace, "hook")
    # Settled and no delayed add pending: nothing but a change can reconcile it again, and a
    # change to an unrelated object does not.
    count = reconcile_count("Receiver", namespace, "hook")
    controller = manager.controllers[0]
    assert controller.queue.pending_delay(Request(namespace, "hook")) is None
    await create_receiver(kube, namespace, receiver("other", interval="0s"))
    await wait_ready(kube, namespace, "other")
    await settled(kube, manager, RECEIVER, namespace, "hook")
    assert reconcile_count("Receiver", namespace, "hook") == count


async def test_status_is_owned_by_the_controllers_own_field_manager(
    kube: KubeClient, namespace: str, manager: Manager
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, receiver("hook"))
    obj = await wait_ready(kube, namespace, "hook")
    owners = {
        entry["manager"]
        for entry in obj["metadata"]["managedFields"]
        if entry.get("subresource") == "status"
    }
    assert owners == {"notification-controller"}
