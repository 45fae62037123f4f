"""``opsgenie``: each event as an alert through the Alert API, keyed ``GenieKey <token>``.

The alert's message names the object (Opsgenie keeps 130 characters of it), the description
holds the event message, and ``details`` the metadata with the severity and reason.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import object_ref
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["OpsgenieNotifier", "opsgenie_payload"]

DEFAULT_ADDRESS = "https://api.opsgenie.com/v2/alerts"


def opsgenie_payload(event: Event) -> dict[str, Any]:
    """Return the create-alert body for ``event``."""
    details = {**event.metadata, "severity": event.severity, "reason": event.reason}
    return {
        "message": object_ref(event)[:130],
        "description": event.message,
        "details": details,
        "tags": ["flux", event.involved_object.kind.lower()],
    }


class OpsgenieNotifier(HttpNotifier):
    """POST alerts to the address (the Alert API by default)."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings, default=DEFAULT_ADDRESS)
        self.auth_headers = {"Authorization": f"GenieKey {require(settings, 'token')}"}
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as an alert."""
        payload = opsgenie_payload(event)
        await self.send("POST", self.url, json=payload, headers=self.auth_headers)
