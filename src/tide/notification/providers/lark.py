"""``lark``: an interactive message card posted to a Lark (Feishu) custom bot's webhook.

The card's header names the object (red for error, green for info); its body holds the message
and the metadata. Lark answers HTTP 200 with ``{"code": <non-zero>, "msg": ...}`` when it refuses
a message, so the answer is read.
"""

from __future__ import annotations

from typing import Any

import httpx

from tide.notification.providers._format import is_error, object_ref, text_with_metadata
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["LarkNotifier", "lark_payload"]


def lark_payload(event: Event) -> dict[str, Any]:
    """Return the interactive card message for ``event``."""
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": object_ref(event)},
                "template": "red" if is_error(event) else "green",
            },
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": text_with_metadata(event)}}
            ],
        },
    }


class LarkNotifier(HttpNotifier):
    """Post one card per event to the bot's webhook address."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as a card."""
        response = await self.send("POST", self.url, json=lark_payload(event))
        self.check_answer(response)

    def check_answer(self, response: httpx.Response) -> None:
        """Raise when Lark answered a non-zero ``code``."""
        try:
            answer = response.json()
        except ValueError:
            return
        code = answer.get("code", answer.get("StatusCode", 0)) if isinstance(answer, dict) else 0
        if code:
            message = answer.get("msg") or answer.get("StatusMessage") or "unknown error"
            raise self.failed(f"Lark refused the message: code {code}: {message}", retryable=False)
