"""A gcr Receiver: a Pub/Sub push with a Google-signed ID token asks its ImageRepository."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator

import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.notification.conftest import (
    Webhooks,
    create_git_repository,
    create_receiver,
    requested_at,
    running,
    served_path,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AUDIENCE = "https://tide.example/hook"
EMAIL = "gcr-push@project.iam.gserviceaccount.com"


@pytest_asyncio.fixture(loop_scope="session")
async def gcr_webhooks(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> AsyncIterator[Webhooks]:
    """The notification controller, checking ID tokens against keys served on loopback."""
    entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))

    async def certs(_: web.Request) -> web.Response:
        return web.json_response({"keys": [{**entry, "kid": "k1", "alg": "RS256"}]})

    app = web.Application()
    app.router.add_get("/certs", certs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        keys_url = f"http://127.0.0.1:{port}/certs"
        async with running(control_plane, kube, namespace, google_keys_url=keys_url) as hooks:
            yield hooks
    finally:
        await runner.cleanup()


def push(tag: str) -> bytes:
    event = {"action": "INSERT", "digest": f"{tag}@sha256:ab", "tag": tag}
    data = base64.b64encode(json.dumps(event).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": "1"}, "subscription": "s"}).encode()


def bearer(email: str = EMAIL) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": email,
              "email_verified": True, "iat": now, "exp": now + 600}  # fmt: skip
    token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})
    return {"Authorization": f"Bearer {token}"}


async def test_a_push_signed_by_google_for_the_expected_account_is_accepted(
    kube: KubeClient, namespace: str, gcr_webhooks: Webhooks
) -> None:
    for name in ("app", "other"):
        await create_git_repository(kube, namespace, name)
    await kube.create(resources.SECRET, {
        "metadata": {"name": "webhook-token", "namespace": namespace},
        "stringData": {"token": "t", "audience": AUDIENCE, "email": EMAIL},
    })  # fmt: skip
    await create_receiver(kube, namespace, "gcr", {
        "type": "gcr",
        "resources": [{"kind": "GitRepository", "name": "app"},
                      {"kind": "GitRepository", "name": "other"}],
        "resourceFilter": "req.tag.endsWith('/' + res.metadata.name + ':1.0')",
    })  # fmt: skip
    path = await served_path(gcr_webhooks, kube, namespace, "gcr")

    status, text = await gcr_webhooks.post(path, push("gcr.io/p/app:1.0"), bearer("x@y"))
    assert status == 401 and "email" in text
    assert await requested_at(kube, namespace, "app") is None

    status, _ = await gcr_webhooks.post(path, push("gcr.io/p/app:1.0"), bearer())
    assert status == 200
    assert await requested_at(kube, namespace, "app") is not None
    assert await requested_at(kube, namespace, "other") is None
