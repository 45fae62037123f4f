"""``telegram``: the Bot API's ``sendMessage`` to a chat, the bot token in the URL path.

The token sits in the path (``/bot<token>/sendMessage``), as the Bot API wants it; error
messages show only the scheme and host, so it never leaks. The text is plain (no parse mode):
Flux object names and messages hold ``_``, ``.`` and ``-``, which Markdown modes would eat.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import object_ref, text_with_metadata
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["TelegramNotifier", "telegram_payload"]

DEFAULT_ADDRESS = "https://api.telegram.org"


def telegram_payload(event: Event, *, chat: str) -> dict[str, Any]:
    """Return the ``sendMessage`` body for ``event`` to ``chat`` (an id or ``@channel``)."""
    return {"chat_id": chat, "text": f"{object_ref(event)}\n{text_with_metadata(event)}"}


class TelegramNotifier(HttpNotifier):
    """Send each event through the bot to the Provider's channel."""

    def __init__(self, settings: ProviderSettings) -> None:
        base = require_url(settings, default=DEFAULT_ADDRESS)
        token = require(settings, "token")
        self.chat = require(settings, "channel")
        self.url = base.copy_with(path=f"{base.path.rstrip('/')}/bot{token}/sendMessage")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as one message."""
        await self.send("POST", self.url, json=telegram_payload(event, chat=self.chat))
