"""``matrix``: an ``m.room.message`` text event sent to a room through the client-server API.

``PUT <homeserver>/_matrix/client/r0/rooms/<room>/send/m.room.message/<txn>`` with the access
token as bearer. The transaction id is a digest of the event, so a retried delivery of the
same event reuses it and the homeserver drops the duplicate instead of posting twice.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from tide.notification.providers._format import object_ref, text_with_metadata
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["MatrixNotifier", "matrix_payload", "transaction_id"]


def matrix_payload(event: Event) -> dict[str, Any]:
    """Return the ``m.text`` message content for ``event``."""
    return {"msgtype": "m.text", "body": f"{object_ref(event)}\n{text_with_metadata(event)}"}


def transaction_id(event: Event) -> str:
    """Return a transaction id that is the same for every delivery of ``event``."""
    return hashlib.sha256(json.dumps(event.to_json(), sort_keys=True).encode()).hexdigest()[:32]


class MatrixNotifier(HttpNotifier):
    """Send each event to the room given as the Provider's channel (``!id:server``)."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.base = require_url(settings)
        self.room = require(settings, "channel")
        self.token = require(settings, "token")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as one text message."""
        path = (
            f"{self.base.path.rstrip('/')}/_matrix/client/r0/rooms/{quote(self.room, safe='')}"
            f"/send/m.room.message/{transaction_id(event)}"
        )
        await self.send(
            "PUT",
            self.base.copy_with(path=path),
            json=matrix_payload(event),
            headers={"Authorization": f"Bearer {self.token}"},
        )
