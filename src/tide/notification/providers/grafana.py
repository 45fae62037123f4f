"""``grafana``: each event as an annotation through Grafana's HTTP API (``/api/annotations``).

Tags are what a dashboard's annotation query matches on: ``flux``, the reporting controller,
``kind: <Kind>``, ``name: <name>``, ``namespace: <namespace>`` and ``<key>: <value>`` for each
metadata entry, as Flux documents. A token authenticates as bearer; without one, the username
and password go as basic auth (Flux's order: the token wins).
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import event_time, metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["GrafanaNotifier", "grafana_payload"]


def grafana_payload(event: Event) -> dict[str, Any]:
    """Return the annotation for ``event`` (``time`` in epoch milliseconds)."""
    obj = event.involved_object
    tags = ["flux"]
    if event.reporting_controller:
        tags.append(event.reporting_controller)
    tags += [f"{key}: {value}" for key, value in metadata_items(event)]
    tags += [f"kind: {obj.kind}", f"name: {obj.name}", f"namespace: {obj.namespace}"]
    return {
        "time": int(event_time(event).timestamp() * 1000),
        "text": f"{object_ref(event)}: {event.message}",
        "tags": tags,
    }


class GrafanaNotifier(HttpNotifier):
    """POST one annotation per event to the address."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as an annotation."""
        settings = self.settings
        headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else None
        auth = None
        if not settings.token and settings.username and settings.password:
            auth = (settings.username, settings.password)
        await self.send("POST", self.url, json=grafana_payload(event), headers=headers, auth=auth)
