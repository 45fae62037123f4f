"""googlepubsub: Google's client publishing to a loopback gRPC server that speaks Pub/Sub.

The official emulator needs Java and the gcloud SDK, which the test machines lack; this server
implements ``google.pubsub.v1.Publisher/Publish`` on the real wire format instead, and the
client reaches it through ``PUBSUB_EMULATOR_HOST`` exactly as it would reach the emulator.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from google.pubsub_v1.types import PublishRequest, PublishResponse

from tide.notification.providers import InvalidProvider, SendFailed, notifier_for

from .conftest import make_event, settings

pytestmark = pytest.mark.unit


class FakePublisher:
    def __init__(self) -> None:
        self.requests: list[PublishRequest] = []

    async def publish(self, request: PublishRequest, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        if request.topic.endswith("/missing"):
            await context.abort(grpc.StatusCode.NOT_FOUND, "Resource not found")
        if request.topic.endswith("/busy"):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "try later")
        return PublishResponse(message_ids=[str(len(self.requests))])


@pytest.fixture
async def pubsub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakePublisher]:
    fake = FakePublisher()
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "google.pubsub.v1.Publisher",
        {
            "Publish": grpc.unary_unary_rpc_method_handler(
                fake.publish,
                request_deserializer=PublishRequest.deserialize,
                response_serializer=PublishResponse.serialize,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{port}")
    yield fake
    await server.stop(grace=None)


async def test_event_json_is_published_with_headers_as_attributes(pubsub: FakePublisher) -> None:
    notifier = notifier_for(
        settings(
            "googlepubsub",
            address="my-project",
            channel="flux-events",
            headers={"cluster": "prod-eu"},
        )
    )
    event = make_event()

    await notifier.post(event)
    await notifier.aclose()

    (request,) = pubsub.requests
    assert request.topic == "projects/my-project/topics/flux-events"
    (message,) = request.messages
    assert json.loads(message.data) == event.to_json()
    assert dict(message.attributes) == {"cluster": "prod-eu"}


async def test_missing_topic_is_not_retried(pubsub: FakePublisher) -> None:
    notifier = notifier_for(settings("googlepubsub", address="my-project", channel="missing"))

    with pytest.raises(SendFailed, match="NotFound") as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert not failure.value.retryable


async def test_unavailable_is_retried_later_not_by_the_library(pubsub: FakePublisher) -> None:
    notifier = notifier_for(settings("googlepubsub", address="my-project", channel="busy"))

    with pytest.raises(SendFailed, match="ServiceUnavailable") as failure:
        await notifier.post(make_event())
    await notifier.aclose()

    assert failure.value.retryable
    assert len(pubsub.requests) == 1


def test_project_topic_and_credentials_are_checked_up_front() -> None:
    with pytest.raises(InvalidProvider, match="requires an address"):
        notifier_for(settings("googlepubsub", channel="t-1"))
    with pytest.raises(InvalidProvider, match="must be a GCP project ID"):
        notifier_for(settings("googlepubsub", address="My Project", channel="topic"))
    with pytest.raises(InvalidProvider, match="JSON service-account credentials"):
        notifier_for(
            settings("googlepubsub", address="my-project", channel="topic", token="not-json")
        )
