"""``azureeventhub``: Flux's event JSON sent as one event to an Azure Event Hub.

Two ways to authenticate, as Flux documents them:

- SAS: the address (from the Secret) is a connection string ``Endpoint=sb://<namespace>.
  servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=<hub>``.
- JWT: the address is the Event Hub's name, the channel its namespace (``<namespace>`` or the
  fully qualified ``<namespace>.servicebus.windows.net``) and the token a bearer JWT that
  something else keeps fresh.

Sent with the official ``azure-eventhub`` asyncio producer, its own retries off (the
dispatcher backs off). The Provider's proxy and ``certSecretRef`` do not apply: the SDK takes a
proxy only over WebSockets and a CA only as a file. Workload identity is not implemented.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from tide.notification.providers._http import require
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings, SendFailed

__all__ = ["AzureEventHubNotifier", "StaticToken"]

_DOMAIN = ".servicebus.windows.net"
_NOT_RETRYABLE = ("AuthenticationError", "EventDataError")


class StaticToken:
    """An async token credential that hands out the Provider's JWT until it expires."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.expires_on = _jwt_expiry(token) or int(time.time()) + 3600

    async def get_token(self, *scopes: str, **options: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, self.expires_on)

    async def close(self) -> None:
        """Nothing to release."""


def _jwt_expiry(token: str) -> int | None:
    """Return the ``exp`` claim of a JWT, or None when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return int(exp) if isinstance(exp, int | float) else None


def _connection_string_fields(address: str) -> dict[str, str]:
    fields = {}
    for part in address.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields


class AzureEventHubNotifier:
    """Send each event to one Event Hub."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        address = require(settings, "address")
        self.connection_string: str | None = None
        self.credential: StaticToken | None = None
        if "endpoint=" in address.lower():
            fields = _connection_string_fields(address)
            if not fields.get("endpoint", "").startswith("sb://") or not fields.get("entitypath"):
                raise InvalidProvider(
                    f"Provider '{settings.name}': address must be an Event Hubs connection "
                    "string with Endpoint=sb://… and EntityPath=<event hub>"
                )
            self.connection_string = address
            self.hub = fields["entitypath"]
        elif settings.token:
            namespace = require(settings, "channel")
            self.namespace = namespace if "." in namespace else namespace + _DOMAIN
            self.hub = address
            self.credential = StaticToken(settings.token)
        else:
            raise InvalidProvider(
                f"Provider '{settings.name}': type 'azureeventhub' requires a connection string "
                "as address (SAS), or a token with the Event Hub name as address and its "
                "namespace as channel (JWT)"
            )
        self._producer: Any = None

    def _make_producer(self) -> Any:
        from azure.eventhub.aio import EventHubProducerClient

        if self.connection_string is not None:
            return EventHubProducerClient.from_connection_string(
                self.connection_string, retry_total=0
            )
        return EventHubProducerClient(
            fully_qualified_namespace=self.namespace,
            eventhub_name=self.hub,
            credential=self.credential,
            retry_total=0,
        )

    async def post(self, event: Event) -> None:
        """Send ``event``; returns once the hub has accepted it."""
        from azure.eventhub import EventData
        from azure.eventhub.exceptions import EventHubError

        if self._producer is None:
            self._producer = self._make_producer()
        body = json.dumps(event.to_json(), separators=(",", ":"))
        try:
            async with asyncio.timeout(self.settings.timeout):
                batch = await self._producer.create_batch()
                batch.add(EventData(body))
                await self._producer.send_batch(batch)
        except TimeoutError as error:
            raise self._failed(f"timed out after {self.settings.timeout:g}s") from error
        except EventHubError as error:
            kind = type(error).__name__
            raise self._failed(kind, retryable=kind not in _NOT_RETRYABLE) from error

    def _failed(self, what: str, *, retryable: bool = True) -> SendFailed:
        return SendFailed(
            f"Provider '{self.settings.name}' (azureeventhub): sending to event hub "
            f"'{self.hub}' failed: {what}",
            retryable=retryable,
        )

    async def aclose(self) -> None:
        """Close the AMQP connection, if one was opened."""
        if self._producer is not None:
            await self._producer.close()
