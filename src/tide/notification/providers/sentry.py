"""``sentry``: an error event for ``error``, a transaction with one span for ``info``.

The address is a DSN (``https://<public key>@<host>/<project id>``); the Provider's channel
sets the ``environment``. Metadata rides as ``extra`` on errors and as span ``tags`` on
transactions, as Flux documents.

Written against Sentry's envelope endpoint (``POST /api/<project>/envelope/`` with an
``X-Sentry-Auth`` header) rather than through ``sentry-sdk``: the SDK keeps one global client
and sends from its own thread over urllib3, so it could not honour each Provider's timeout,
proxy and TLS context, nor report a failed delivery back to the dispatcher for a retry.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

import tide
from tide.notification.providers._format import event_time, is_error, object_ref
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, InvalidProvider, ProviderSettings

__all__ = ["Dsn", "SentryNotifier", "envelope", "error_event", "parse_dsn", "transaction_event"]


@dataclass(frozen=True)
class Dsn:
    """The parts of a Sentry DSN a sender needs."""

    public_key: str
    endpoint: httpx.URL
    """The project's envelope endpoint."""


def parse_dsn(settings: ProviderSettings) -> Dsn:
    """Read ``settings.address`` as a DSN; raise :class:`InvalidProvider` if it is not one."""
    url = require_url(settings)
    path, _, project = url.path.rstrip("/").rpartition("/")
    if not url.username or not project.isdigit():
        raise InvalidProvider(
            f"Provider '{settings.name}': address must be a Sentry DSN "
            "(https://<public key>@<host>/<project id>)"
        )
    endpoint = httpx.URL(scheme=url.scheme, host=url.host, port=url.port, path=path)
    return Dsn(url.username, endpoint.copy_with(path=f"{path}/api/{project}/envelope/"))


def _base(event: Event, *, environment: str) -> dict[str, Any]:
    obj = event.involved_object
    body: dict[str, Any] = {
        "event_id": secrets.token_hex(16),
        "timestamp": event_time(event).timestamp(),
        "platform": "other",
        "logger": event.reporting_controller or "flux",
        "tags": {
            "kind": obj.kind,
            "name": obj.name,
            "namespace": obj.namespace,
            "reason": event.reason,
        },
    }
    if environment:
        body["environment"] = environment
    return body


def error_event(event: Event, *, environment: str = "") -> dict[str, Any]:
    """Return the Sentry error event for an ``error`` Flux event."""
    return {
        **_base(event, environment=environment),
        "level": "error",
        "message": {"formatted": event.message},
        "extra": dict(event.metadata),
    }


def transaction_event(event: Event, *, environment: str = "") -> dict[str, Any]:
    """Return the transaction (one span, metadata as its tags) for an ``info`` Flux event."""
    at = event_time(event).timestamp()
    trace_id, root = secrets.token_hex(16), secrets.token_hex(8)
    return {
        **_base(event, environment=environment),
        "type": "transaction",
        "transaction": object_ref(event),
        "start_timestamp": at,
        "contexts": {
            "trace": {"trace_id": trace_id, "span_id": root, "op": "flux", "status": "ok"}
        },
        "spans": [
            {
                "trace_id": trace_id,
                "span_id": secrets.token_hex(8),
                "parent_span_id": root,
                "op": event.reason or "flux",
                "description": event.message,
                "start_timestamp": at,
                "timestamp": at,
                "status": "ok",
                "tags": dict(event.metadata),
            }
        ],
    }


def envelope(item: dict[str, Any]) -> bytes:
    """Return the envelope carrying one event or transaction ``item``."""
    payload = json.dumps(item, separators=(",", ":")).encode()
    kind = item.get("type", "event")
    header = {"event_id": item["event_id"]}
    item_header = {"type": kind, "length": len(payload), "content_type": "application/json"}
    return b"\n".join([json.dumps(header).encode(), json.dumps(item_header).encode(), payload, b""])


class SentryNotifier(HttpNotifier):
    """Send each event to the DSN's project."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.dsn = parse_dsn(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as an error or a transaction, by severity."""
        environment = self.settings.channel
        build = error_event if is_error(event) else transaction_event
        auth = (
            f"Sentry sentry_version=7, sentry_client=tide/{tide.__version__}, "
            f"sentry_key={self.dsn.public_key}"
        )
        await self.send(
            "POST",
            self.dsn.endpoint,
            content=envelope(build(event, environment=environment)),
            headers={"Content-Type": "application/x-sentry-envelope", "X-Sentry-Auth": auth},
        )

    def scrub(self, text: str) -> str:
        """Also hide the DSN's public key, which authenticates the sender."""
        return super().scrub(text).replace(self.dsn.public_key, "*****")
