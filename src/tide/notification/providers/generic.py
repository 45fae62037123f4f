"""``generic`` and ``generic-hmac``: Flux's event JSON posted to the address as it is.

``generic-hmac`` signs the exact bytes it sends: ``X-Signature: sha256=<hex HMAC-SHA256 of the
body keyed by the token>``, so a receiver can check who sent the event and that it is whole.
Both add ``Gotk-Component: <reporting controller>``, as Flux does, after the Secret's headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["GenericHmacNotifier", "GenericNotifier", "signature"]


def signature(body: bytes, key: str) -> str:
    """Return the ``X-Signature`` value for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class GenericNotifier(HttpNotifier):
    """POST the event JSON to the address."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        super().__init__(settings)

    def headers(self, event: Event, body: bytes) -> dict[str, str]:
        """Return the request's own headers (the Secret's are on the client already)."""
        headers = {"Content-Type": "application/json"}
        if event.reporting_controller:
            headers["Gotk-Component"] = event.reporting_controller
        return headers

    async def post(self, event: Event) -> None:
        """Send ``event`` as Flux's JSON."""
        body = json.dumps(event.to_json(), separators=(",", ":")).encode()
        await self.send("POST", self.url, content=body, headers=self.headers(event, body))


class GenericHmacNotifier(GenericNotifier):
    """POST the event JSON with an ``X-Signature`` HMAC of the body."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.key = require(settings, "token")
        super().__init__(settings)

    def headers(self, event: Event, body: bytes) -> dict[str, str]:
        """Add the signature of ``body`` to the generic headers."""
        return {**super().headers(event, body), "X-Signature": signature(body, self.key)}
