"""``webex``: a Markdown message to a room through the Messages API, as the bot (token)."""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["WebexNotifier", "webex_payload"]

DEFAULT_ADDRESS = "https://webexapis.com/v1/messages"


def webex_payload(event: Event, *, room: str) -> dict[str, Any]:
    """Return the message for ``event`` to the room ``room`` (the Provider's channel)."""
    lines = [f"**{object_ref(event)}**", "", event.message]
    if event.metadata:
        lines += ["", *(f"- **{key}**: {value}" for key, value in metadata_items(event))]
    return {"roomId": room, "markdown": "\n".join(lines)}


class WebexNotifier(HttpNotifier):
    """Post to ``address`` (the Messages API by default) with ``Authorization: Bearer``."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings, default=DEFAULT_ADDRESS)
        self.room = require(settings, "channel")
        self.token = require(settings, "token")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` to the room."""
        await self.send(
            "POST",
            self.url,
            json=webex_payload(event, room=self.room),
            headers={"Authorization": f"Bearer {self.token}"},
        )
