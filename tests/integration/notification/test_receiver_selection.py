"""Which objects a delivery asks: by name, by labels, filtered by CEL, within namespace rules."""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import condition, events_for, eventually
from tests.integration.notification.conftest import (
    Webhooks,
    create_git_repository,
    create_receiver,
    create_token,
    requested_at,
    served_path,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.notification.setup import RECEIVER

pytestmark = pytest.mark.integration


async def test_a_wildcard_with_match_labels_asks_every_labelled_object(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    for name, team in (("a", "web"), ("b", "web"), ("c", "data")):
        await create_git_repository(kube, namespace, name, labels={"team": team})
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic",
        "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "web"}}],
    })  # fmt: skip
    path = await served_path(webhooks, kube, namespace, "hook")

    status, _ = await webhooks.post(path)

    assert status == 200
    assert await requested_at(kube, namespace, "a") is not None
    assert await requested_at(kube, namespace, "b") is not None
    assert await requested_at(kube, namespace, "c") is None
    [event] = [e for e in await events_for(kube, namespace, "hook")
               if e["reason"] == "ReconcileRequested"]  # fmt: skip
    assert event["message"] == (
        f"Reconciliation requested for GitRepository/{namespace}/a, GitRepository/{namespace}/b"
    )


async def test_a_missing_object_gets_500_and_a_warning_but_the_others_are_asked(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    await create_git_repository(kube, namespace, "present")
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic",
        "resources": [{"kind": "GitRepository", "name": "absent"},
                      {"kind": "GitRepository", "name": "present"}],
    })  # fmt: skip
    path = await served_path(webhooks, kube, namespace, "hook")

    status, text = await webhooks.post(path)

    assert status == 500
    assert f"GitRepository '{namespace}/absent' not found" in text
    assert await requested_at(kube, namespace, "present") is not None
    reasons = {e["reason"]: e["type"] for e in await events_for(kube, namespace, "hook")}
    assert reasons["ReconcileRequestFailed"] == "Warning"


async def test_resource_filter_asks_only_the_objects_it_accepts(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    for name in ("podinfo", "other"):
        await create_git_repository(kube, namespace, name, labels={"app": name})
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic",
        "resources": [{"kind": "GitRepository", "name": "podinfo"},
                      {"kind": "GitRepository", "name": "other"}],
        "resourceFilter": "req.image.startsWith(res.metadata.labels.app + ':')",
    })  # fmt: skip
    path = await served_path(webhooks, kube, namespace, "hook")

    status, _ = await webhooks.post(path, json.dumps({"image": "podinfo:6.7.0"}).encode())

    assert status == 200
    assert await requested_at(kube, namespace, "podinfo") is not None
    assert await requested_at(kube, namespace, "other") is None


async def test_a_resource_filter_that_does_not_compile_stalls_the_receiver(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic", "resources": [{"kind": "GitRepository", "name": "a"}],
        "resourceFilter": "res.metadata.name ==",
    })  # fmt: skip

    stalled = await _stalled(kube, namespace, "hook")

    assert stalled["reason"] == "InvalidCELExpression"
    assert stalled["message"].startswith(
        "spec.resourceFilter: resourceFilter 'res.metadata.name ==' does not compile"
    )


async def test_cross_namespace_resources_are_asked_unless_locked_down(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    other = f"{namespace[:50]}-other"
    await kube.create(resources.NAMESPACE, {"metadata": {"name": other}})
    try:
        await create_git_repository(kube, other, "shared")
        await create_token(kube, namespace)
        await create_receiver(kube, namespace, "hook", {
            "type": "generic",
            "resources": [{"kind": "GitRepository", "name": "shared", "namespace": other}],
        })  # fmt: skip
        path = await served_path(webhooks, kube, namespace, "hook")

        assert (await webhooks.post(path))[0] == 200
        assert await requested_at(kube, other, "shared") is not None
    finally:
        await kube.delete(resources.NAMESPACE, other)


async def test_locked_down_a_cross_namespace_resource_stalls_the_receiver(
    kube: KubeClient, namespace: str, locked_webhooks: Webhooks
) -> None:
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic",
        "resources": [{"kind": "GitRepository", "name": "shared", "namespace": "tenant-a"}],
    })  # fmt: skip

    stalled = await _stalled(kube, namespace, "hook")

    assert stalled["reason"] == "AccessDenied"
    assert stalled["message"] == (
        "can't access 'GitRepository/tenant-a/shared', cross-namespace references have been blocked"
    )
    obj = await kube.get(RECEIVER, "hook", namespace=namespace)
    assert "webhookPath" not in obj["status"]


async def _stalled(kube: KubeClient, namespace: str, name: str) -> dict:
    async def probe() -> dict | None:
        obj = await kube.get(RECEIVER, name, namespace=namespace)
        return condition(obj, "Stalled")

    return await eventually(probe, what=f"Receiver {name} to stall")
