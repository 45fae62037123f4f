"""Events forwarded over HTTP (``--events-addr=http://...``) arrive as the same events.

The forwarder's JSON goes through the real events endpoint (:mod:`tide.notification.intake`),
so the parser that accepts Flux's controllers accepts Tide's own; a flaky endpoint is retried
and a full queue drops the oldest event, not the newest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tide.notification.providers.base import Event
from tide.runtime.eventforward import EventForwarder

pytestmark = pytest.mark.unit

RECORDED = {
    "involvedObject": {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "name": "apps", "namespace": "flux-system", "uid": "4f1c", "resourceVersion": "812",
    },
    "severity": "error",
    "timestamp": "2026-01-01T00:00:00Z",
    "message": "kustomization path not found: stat /tmp/x/nowhere: no such file or directory",
    "reason": "ArtifactFailed",
    "metadata": {"revision": "main@sha1:0f3ac1"},
    "reportingController": "kustomize-controller",
    "reportingInstance": "kustomize-controller-7f9c",
}  # fmt: skip
"""An event as Tide's recorder hands it to its sinks (metadata keys bare)."""


def recorded(**changes: Any) -> dict[str, Any]:
    return {**RECORDED, **changes}


async def test_a_forwarded_event_parses_back_to_the_recorded_event(server) -> None:
    url, received = server
    forwarder = EventForwarder(url)
    await forwarder.start()
    try:
        await forwarder.submit(recorded())
        await forwarder.settle()
    finally:
        await forwarder.stop()

    assert len(received) == 1
    assert Event.from_json(received[0]) == Event.from_json(RECORDED)
    assert received[0]["metadata"] == {"revision": "main@sha1:0f3ac1"}
    assert forwarder.dropped == 0


async def test_a_full_queue_drops_the_oldest_events(server) -> None:
    url, received = server
    forwarder = EventForwarder(url, capacity=2)
    for reason in ("First", "Second", "Third"):
        await forwarder.submit(recorded(reason=reason))  # not started: nothing is sent yet
    await forwarder.start()
    try:
        await forwarder.settle()
    finally:
        await forwarder.stop()

    assert [event["reason"] for event in received] == ["Second", "Third"]
    assert forwarder.dropped == 1


@pytest_asyncio.fixture
async def flaky() -> AsyncIterator[tuple[str, list[int]]]:
    """An endpoint answering 503 to the first POST, 400 to a reason 'Bad', 202 otherwise."""
    answers: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        payload = await request.json()
        status = 503 if not answers else 400 if payload["reason"] == "Bad" else 202
        answers.append(status)
        return web.Response(status=status, text="nope" if status >= 400 else "")

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/", answers
    await runner.cleanup()


async def test_a_5xx_is_retried_and_a_refused_event_is_not(flaky) -> None:
    url, answers = flaky
    forwarder = EventForwarder(url, backoff=0.01)
    await forwarder.start()
    try:
        await forwarder.submit(recorded())
        await forwarder.submit(recorded(reason="Bad"))
        await forwarder.settle()
    finally:
        await forwarder.stop()

    assert answers == [503, 202, 400]
    assert forwarder.dropped == 1


async def test_an_unreachable_endpoint_gives_up_without_blocking_the_recorder() -> None:
    forwarder = EventForwarder("http://127.0.0.1:9/", attempts=2, backoff=0.01, timeout=1.0)
    await forwarder.start()
    try:
        await asyncio.wait_for(forwarder.submit(recorded()), timeout=0.1)  # only queues
        await asyncio.wait_for(forwarder.settle(), timeout=10)
    finally:
        await forwarder.stop()

    assert forwarder.dropped == 1
