"""``datadog``: each event as a Datadog event (``POST /api/v1/events``, ``DD-API-KEY``).

The address is the site's API base (``https://api.datadoghq.com``, ``https://api.datadoghq.eu``
…). Tags carry the object and the metadata as ``key:value``, so monitors and dashboards can
filter on them; the aggregation key is the object, so its events roll up together.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import event_time, metadata_items, object_ref
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["DatadogNotifier", "datadog_payload"]

DEFAULT_ADDRESS = "https://api.datadoghq.com"


def datadog_payload(event: Event) -> dict[str, Any]:
    """Return the Datadog event for ``event``."""
    obj = event.involved_object
    tags = [
        "flux",
        f"kube_kind:{obj.kind.lower()}",
        f"kube_name:{obj.name}",
        f"kube_namespace:{obj.namespace}",
        f"flux_reason:{event.reason}",
        *(f"{key}:{value}" for key, value in metadata_items(event)),
    ]
    if event.reporting_controller:
        tags.append(f"flux_reporting_controller:{event.reporting_controller}")
    return {
        "title": object_ref(event),
        "text": event.message,
        "alert_type": "error" if event.severity == "error" else "info",
        "source_type_name": "fluxcd",
        "date_happened": int(event_time(event).timestamp()),
        "aggregation_key": object_ref(event),
        "tags": tags,
    }


class DatadogNotifier(HttpNotifier):
    """POST events to ``<address>/api/v1/events`` with the API key."""

    def __init__(self, settings: ProviderSettings) -> None:
        base = require_url(settings, default=DEFAULT_ADDRESS)
        self.token = require(settings, "token")
        self.url = base.copy_with(path=f"{base.path.rstrip('/')}/api/v1/events")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` to Datadog."""
        await self.send(
            "POST", self.url, json=datadog_payload(event), headers={"DD-API-KEY": self.token}
        )
