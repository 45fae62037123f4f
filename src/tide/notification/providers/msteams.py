"""``msteams``: an Adaptive Card for a Teams workflow, or a MessageCard for an old connector.

Flux tells the two apart by host: an address on ``*.webhook.office.com`` is a (retired) Office
365 connector that reads only the legacy MessageCard; any other is an incoming-webhook workflow
that takes an Adaptive Card wrapped in a message. Both show the object as title, the message,
the metadata as facts and the severity as colour.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import is_error, metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["MSTeamsNotifier", "adaptive_card", "message_card"]

_CONNECTOR_SUFFIX = ".webhook.office.com"


def adaptive_card(event: Event) -> dict[str, Any]:
    """Return the workflow message: one Adaptive Card (schema 1.4)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": object_ref(event),
            "size": "Medium",
            "weight": "Bolder",
            "color": "Attention" if is_error(event) else "Good",
            "wrap": True,
        },
        {"type": "TextBlock", "text": event.message, "wrap": True},
    ]
    if event.metadata:
        facts = [{"title": key, "value": value} for key, value in metadata_items(event)]
        body.append({"type": "FactSet", "facts": facts})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


def message_card(event: Event) -> dict[str, Any]:
    """Return the legacy connector's MessageCard."""
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": "FF0000" if is_error(event) else "0076D7",
        "summary": object_ref(event),
        "sections": [
            {
                "activityTitle": object_ref(event),
                "activitySubtitle": event.message,
                "facts": [{"name": key, "value": value} for key, value in metadata_items(event)],
            }
        ],
    }


class MSTeamsNotifier(HttpNotifier):
    """Post one card per event to the Teams webhook address."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        self.legacy = self.url.host.endswith(_CONNECTOR_SUFFIX)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as a card."""
        payload = message_card(event) if self.legacy else adaptive_card(event)
        await self.send("POST", self.url, json=payload)
