"""Fixtures the notification unit tests share: the events endpoint on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tide.notification.intake import EventServer
from tide.runtime.servers import Endpoint


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Flux's events endpoint on a free loopback port; yields its URL and what it accepted."""
    received: list[dict[str, Any]] = []
    events = EventServer(Endpoint("127.0.0.1", 0), received.append)
    await events.start()
    yield f"http://127.0.0.1:{events.port}/", received
    await events.stop()
