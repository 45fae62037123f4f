"""Deliveries a Receiver refuses: bad signature, big body, wrong path or method, suspended."""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import events_for, eventually
from tests.integration.notification.conftest import (
    Webhooks,
    create_git_repository,
    create_receiver,
    create_token,
    requested_at,
    served_path,
)
from tide.kube.client import KubeClient
from tide.notification.payloads import sign
from tide.notification.server import MAX_BODY
from tide.notification.setup import RECEIVER

pytestmark = pytest.mark.integration

BODY = json.dumps({"ref": "refs/heads/main"}).encode()


async def hmac_receiver(hooks: Webhooks, kube: KubeClient, namespace: str) -> str:
    await create_git_repository(kube, namespace, "fleet")
    await create_token(kube, namespace)
    await create_receiver(kube, namespace, "hook", {
        "type": "generic-hmac", "resources": [{"kind": "GitRepository", "name": "fleet"}],
    })  # fmt: skip
    return await served_path(hooks, kube, namespace, "hook")


async def test_a_bad_signature_gets_401_and_a_warning_and_asks_nothing(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)

    status, text = await webhooks.post(path, BODY, {"X-Signature": sign(BODY, "guessed")})

    assert status == 401
    assert text.strip() == "the X-Signature header does not match the HMAC of the body"
    assert await requested_at(kube, namespace, "fleet") is None

    async def warning() -> list[dict]:
        return [e for e in await events_for(kube, namespace, "hook")
                if e["reason"] == "WebhookRejected"]  # fmt: skip

    [event] = await eventually(warning, what="a WebhookRejected event")
    assert event["type"] == "Warning"
    assert event["message"] == (
        "generic-hmac: the X-Signature header does not match the HMAC of the body"
    )
    assert "r3ceiver-t0ken" not in json.dumps(event)


async def test_a_missing_signature_gets_401(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)

    status, text = await webhooks.post(path, BODY)

    assert (status, text.strip()) == (401, "the X-Signature header is missing")
    assert await requested_at(kube, namespace, "fleet") is None


async def test_a_body_over_the_bound_gets_413_without_being_read_whole(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)
    huge = b"x" * (MAX_BODY + 1)

    status, _ = await webhooks.post(path, huge, {"X-Signature": sign(huge, "r3ceiver-t0ken")})

    assert status == 413
    assert await requested_at(kube, namespace, "fleet") is None


async def test_a_chunked_body_over_the_bound_gets_413(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"y" * 65536

    status, _ = await webhooks.post(path, chunks())  # type: ignore[arg-type]

    assert status == 413


async def test_unknown_paths_get_404_and_other_methods_405(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)

    assert (await webhooks.post("/hook/" + "0" * 64))[0] == 404
    assert (await webhooks.post("/elsewhere"))[0] == 404
    status, _ = await webhooks.post(path, method="GET")
    assert status == 405


async def test_a_suspended_receiver_answers_503_and_asks_nothing(
    kube: KubeClient, namespace: str, webhooks: Webhooks
) -> None:
    path = await hmac_receiver(webhooks, kube, namespace)
    await kube.patch_merge(RECEIVER, "hook", {"spec": {"suspend": True}}, namespace=namespace)

    cache = webhooks.manager.cache_for(RECEIVER)

    async def seen() -> bool:
        return bool((cache.get(namespace, "hook") or {}).get("spec", {}).get("suspend"))

    await eventually(seen, what="the server's cache to see the suspension")
    status, text = await webhooks.post(path, BODY, {"X-Signature": sign(BODY, "r3ceiver-t0ken")})

    assert (status, text.strip()) == (503, "the Receiver is suspended")
    assert await requested_at(kube, namespace, "fleet") is None
