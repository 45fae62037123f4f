"""nats: the event JSON published on the channel's subject of a real nats-server on loopback.

Integration, not unit: it needs Debian's nats-server, which `make testdeps` installs.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest

from tide.notification.providers import (
    Event,
    InvalidProvider,
    InvolvedObject,
    ProviderSettings,
    SendFailed,
    notifier_for,
)
from tide.testing._process import ServerProcess, free_port

pytestmark = pytest.mark.integration


def make_event() -> Event:
    return Event(
        involved_object=InvolvedObject(kind="Kustomization", name="webapp", namespace="apps"),
        severity="info",
        timestamp="2022-10-28T07:26:19Z",
        message="Reconciliation finished in 2s, next run in 5m",
        reason="ReconciliationSucceeded",
        metadata={"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
        reporting_controller="kustomize-controller",
    )


def settings(type_: str, **values: object) -> ProviderSettings:
    return ProviderSettings(type=type_, name="apps/alerts", **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def nats_server() -> Iterator[str]:
    """Start ``nats-server`` (Debian's, from hack/install-test-deps.sh) with user auth."""
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        pytest.fail("nats-server is not installed: run `make testdeps`")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tide-nats-") as folder:
        command = [binary, "-a", "127.0.0.1", "-p", str(port), "--user", "flux", "--pass", "pw"]
        process = ServerProcess.start(
            "nats-server", command, log=Path(folder, "log"), die_with_parent=True
        )
        try:
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.stop()


async def _connected(url: str) -> nats.aio.client.Client:
    """Connect, retrying while the server is still starting (bounded by the test timeout)."""
    while True:
        try:
            return await nats.connect(
                url, user="flux", password="pw", allow_reconnect=False, connect_timeout=1
            )
        except (OSError, nats.errors.NoServersError):
            await asyncio.sleep(0.05)


@pytest.fixture
async def subscriber(nats_server: str) -> AsyncIterator[asyncio.Queue]:  # type: ignore[type-arg]
    client = await asyncio.wait_for(_connected(nats_server), timeout=20)
    received: asyncio.Queue = asyncio.Queue()  # type: ignore[type-arg]

    async def on_message(message) -> None:  # type: ignore[no-untyped-def]
        await received.put(message)

    await client.subscribe("flux.events", cb=on_message)
    await client.flush()
    yield received
    await client.close()


async def test_event_json_is_published_on_the_channel_subject(
    nats_server: str,
    subscriber: asyncio.Queue,  # type: ignore[type-arg]
) -> None:
    notifier = notifier_for(
        settings("nats", address=nats_server, channel="flux.events", username="flux", password="pw")
    )
    event = make_event()

    await notifier.post(event)
    message = await asyncio.wait_for(subscriber.get(), timeout=10)
    await notifier.aclose()

    assert message.subject == "flux.events"
    assert json.loads(message.data) == event.to_json()


async def test_credentials_in_the_address_work_too(
    nats_server: str,
    subscriber: asyncio.Queue,  # type: ignore[type-arg]
) -> None:
    address = nats_server.replace("nats://", "nats://flux:pw@")
    notifier = notifier_for(settings("nats", address=address, channel="flux.events"))

    await notifier.post(make_event())
    await asyncio.wait_for(subscriber.get(), timeout=10)
    await notifier.aclose()


async def test_wrong_password_fails_retryably_without_showing_it(
    nats_server: str,
    subscriber: asyncio.Queue,  # type: ignore[type-arg]
) -> None:
    notifier = notifier_for(
        settings(
            "nats",
            address=nats_server,
            channel="flux.events",
            username="flux",
            password="wrong-pw",
            timeout=2,
        )
    )

    with pytest.raises(SendFailed, match=r"Provider 'apps/alerts' \(nats\)") as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert failure.value.retryable
    assert "wrong-pw" not in str(failure.value)


def test_nats_requires_a_subject_and_a_server_url() -> None:
    with pytest.raises(InvalidProvider, match="requires a channel"):
        notifier_for(settings("nats", address="nats://127.0.0.1:4222"))
    with pytest.raises(InvalidProvider, match="must be a NATS server URL"):
        notifier_for(settings("nats", address="https://127.0.0.1:4222", channel="s"))
