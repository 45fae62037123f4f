"""Rotating a Receiver's token retires the old webhook path at once and publishes the new one."""

from __future__ import annotations

import base64

import pytest

from tests.integration.helpers import eventually
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
from tide.notification.receiver import webhook_path
from tide.notification.setup import RECEIVER

pytestmark = pytest.mark.integration


async def test_a_rotated_watched_token_moves_the_webhook_path_at_once(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    await create_git_repository(kube, namespace, "fleet")
    await create_token(kube, namespace, token="first", watched=True)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic", "interval": "1h",
        "resources": [{"kind": "GitRepository", "name": "fleet"}],
    })  # fmt: skip
    old = await served_path(webhooks, kube, namespace, "hook")
    new = webhook_path("second", "hook", namespace)

    await kube.patch_merge(resources.SECRET, "webhook-token", {
        "data": {"token": base64.b64encode(b"second").decode()}}, namespace=namespace)  # fmt: skip

    assert (await webhooks.post(old))[0] == 404  # at once: the server re-reads the token

    async def published() -> bool:
        obj = await kube.get(RECEIVER, "hook", namespace=namespace)
        return obj["status"].get("webhookPath") == new

    await eventually(published, what="the new path in status (interval is 1h)")
    assert await requested_at(kube, namespace, "fleet") is None

    async def served() -> bool:
        return (await webhooks.post(new))[0] == 200

    await eventually(served, what="the new path to be served")
    assert await requested_at(kube, namespace, "fleet") is not None


async def test_a_deleted_token_withdraws_the_path(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    await create_token(kube, namespace, watched=True)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic", "resources": [{"kind": "GitRepository", "name": "fleet"}],
    })  # fmt: skip
    path = await served_path(webhooks, kube, namespace, "hook")

    await kube.delete(resources.SECRET, "webhook-token", namespace=namespace)

    async def withdrawn() -> dict | None:
        obj = await kube.get(RECEIVER, "hook", namespace=namespace)
        return obj if "webhookPath" not in obj["status"] else None

    obj = await eventually(withdrawn, what="the path to be withdrawn")
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "TokenNotFound")

    async def unknown() -> bool:
        return (await webhooks.post(path))[0] == 404

    await eventually(unknown, what="the withdrawn path to answer 404")
