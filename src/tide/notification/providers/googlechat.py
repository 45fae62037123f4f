"""``googlechat``: a card message (Cards v1) posted to a Google Chat space's webhook.

The header names the object, a text paragraph carries the message, and the metadata follows as
key-value widgets, the layout Flux documents.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["GoogleChatNotifier", "googlechat_payload"]


def googlechat_payload(event: Event) -> dict[str, Any]:
    """Return the card message for ``event``."""
    sections: list[dict[str, Any]] = [{"widgets": [{"textParagraph": {"text": event.message}}]}]
    if event.metadata:
        widgets = [
            {"keyValue": {"topLabel": key, "content": value}}
            for key, value in metadata_items(event)
        ]
        sections.append({"widgets": widgets})
    title = object_ref(event)
    return {"text": title, "cards": [{"header": {"title": title}, "sections": sections}]}


class GoogleChatNotifier(HttpNotifier):
    """Post one card per event to the webhook address."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as a card."""
        await self.send("POST", self.url, json=googlechat_payload(event))
