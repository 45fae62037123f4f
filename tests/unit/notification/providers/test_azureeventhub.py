"""azureeventhub: the official producer sending to a loopback AMQP 1.0 peer (fake_eventhubs)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest

from tide.notification.providers import InvalidProvider, SendFailed, notifier_for
from tide.notification.providers.azureeventhub import StaticToken

from .conftest import deliver, make_event, settings
from .fake_eventhubs import FakeEventHubs

pytestmark = pytest.mark.unit


@pytest.fixture
async def hubs() -> AsyncIterator[FakeEventHubs]:
    fake = FakeEventHubs()
    await fake.start()
    yield fake
    await fake.stop()


async def test_event_json_arrives_on_the_hub_of_the_connection_string(
    hubs: FakeEventHubs,
) -> None:
    first, second = make_event(), make_event(severity="error", message="failed")

    await deliver("azureeventhub", first, second, address=hubs.connection_string())

    assert [address.rsplit("/", 1)[-1] for address, _ in hubs.events] == ["flux-events"] * 2
    assert [json.loads(body) for _, body in hubs.events] == [first.to_json(), second.to_json()]
    assert hubs.tokens[0].startswith(b"SharedAccessSignature ")


async def test_rejected_credentials_are_not_retried(hubs: FakeEventHubs) -> None:
    hubs.reject_tokens = True

    with pytest.raises(SendFailed, match="event hub 'flux-events' failed") as failure:
        await deliver("azureeventhub", make_event(), address=hubs.connection_string(), timeout=5)

    assert not failure.value.retryable
    assert "c2VjcmV0" not in str(failure.value)
    assert hubs.events == []


async def test_unreachable_namespace_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = (
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=send;SharedAccessKey=a2V5;"
        "EntityPath=hub;UseDevelopmentEmulator=true"
    )

    with pytest.raises(SendFailed) as failure:
        await deliver("azureeventhub", make_event(), address=address, timeout=5)

    assert failure.value.retryable


def test_jwt_mode_reads_hub_from_address_and_namespace_from_channel() -> None:
    notifier = notifier_for(
        settings("azureeventhub", address="flux-events", channel="fluxv2", token="jwt")
    )

    assert notifier.namespace == "fluxv2.servicebus.windows.net"  # type: ignore[attr-defined]
    assert notifier.hub == "flux-events"  # type: ignore[attr-defined]


async def test_static_token_expires_when_the_jwt_says() -> None:
    jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE4OTM0NTYwMDB9.sig"  # {"exp": 1893456000}

    token = await StaticToken(jwt).get_token("https://eventhubs.azure.net/.default")

    assert (token.token, token.expires_on) == (jwt, 1893456000)


def test_address_must_be_a_connection_string_or_come_with_a_token() -> None:
    with pytest.raises(InvalidProvider, match="requires a connection string"):
        notifier_for(settings("azureeventhub", address="flux-events"))
    with pytest.raises(InvalidProvider, match="EntityPath"):
        notifier_for(
            settings("azureeventhub", address="Endpoint=sb://ns.servicebus.windows.net/;X=y")
        )
    with pytest.raises(InvalidProvider, match="requires a channel"):
        notifier_for(settings("azureeventhub", address="flux-events", token="jwt"))
