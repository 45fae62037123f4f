"""``nats``: Flux's event JSON published on a NATS subject (the Provider's channel).

The address is the server URL (``nats://host:4222``, ``tls://...``; credentials may sit in it,
hence best kept in the Secret), or the Secret's ``username``/``password`` authenticate. One
connection per Notifier, opened at the first event and kept: nats-py reconnects by itself.
Each publish is followed by a flush, so a delivery counts only once the server has taken it;
a connection that cannot be made or a flush that times out is retried later.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

from tide.notification.providers._http import redact, require
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings, SendFailed

__all__ = ["NatsNotifier"]

_SCHEMES = ("nats", "tls", "ws", "wss")


async def _quiet(*_: Any) -> None:
    """Swallow nats-py's callbacks: its default logs errors with the server URL in them."""


class NatsNotifier:
    """Publish each event to ``settings.channel`` on the server at ``settings.address``."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.subject = require(settings, "channel")
        address = require(settings, "address")
        scheme = address.split("://", 1)[0] if "://" in address else ""
        if scheme not in _SCHEMES:
            raise InvalidProvider(
                f"Provider '{settings.name}': address must be a NATS server URL "
                "(nats://<host>:<port>)"
            )
        self.address = address
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    def _failed(self, what: str, *, retryable: bool = True) -> SendFailed:
        return SendFailed(
            f"Provider '{self.settings.name}' (nats): {what} ({redact(self.address)})",
            retryable=retryable,
        )

    async def _connect(self) -> Client:
        async with self._lock:
            if self._client is not None and not self._client.is_closed:
                return self._client
            settings = self.settings
            options: dict[str, Any] = {
                "servers": [self.address],
                "name": "tide-notification",
                "connect_timeout": settings.timeout,
                "max_reconnect_attempts": 3,
                "reconnect_time_wait": 0.5,
                "error_cb": _quiet,
                "disconnected_cb": _quiet,
                "reconnected_cb": _quiet,
                "closed_cb": _quiet,
            }
            if settings.username:
                options["user"] = settings.username
                options["password"] = settings.password
            if settings.tls is not None:
                options["tls"] = settings.tls
            try:
                self._client = await nats.connect(**options)
            except (NatsError, OSError, TimeoutError) as error:
                raise self._failed(f"cannot connect: {type(error).__name__}") from error
            return self._client

    async def post(self, event: Event) -> None:
        """Publish ``event`` and wait until the server has it."""
        client = await self._connect()
        body = json.dumps(event.to_json(), separators=(",", ":")).encode()
        try:
            await client.publish(self.subject, body)
            await client.flush(timeout=self.settings.timeout)
        except (NatsError, OSError, TimeoutError) as error:
            raise self._failed(f"publish failed: {type(error).__name__}") from error

    async def aclose(self) -> None:
        """Drain and close the connection, if one was made."""
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
