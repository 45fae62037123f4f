"""``pagerduty``: Events API v2 — an error triggers an incident, info resolves it.

The routing (integration) key is the Provider's channel; the dedup key is the object
(``<kind>/<name>.<namespace>``), so the info event that follows a failure resolves the incident
that failure opened. An info event is also sent as a change event (``/v2/change/enqueue``), so
the service's timeline shows each reconciliation. The address is the Events API's base.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._format import is_error, object_ref
from tide.notification.providers._http import HttpNotifier, require, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["PagerDutyNotifier", "change_payload", "incident_payload"]

DEFAULT_ADDRESS = "https://events.pagerduty.com"
_SUMMARY_LIMIT = 1024


def _summary(event: Event) -> str:
    return f"{object_ref(event)}: {event.message}"[:_SUMMARY_LIMIT]


def incident_payload(event: Event, *, routing_key: str) -> dict[str, Any]:
    """Return the ``trigger`` (error) or ``resolve`` (info) event for ``event``."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger" if is_error(event) else "resolve",
        "dedup_key": object_ref(event),
    }
    if is_error(event):
        obj = event.involved_object
        body["payload"] = {
            "summary": _summary(event),
            "source": event.reporting_controller or "flux",
            "severity": "error",
            "timestamp": event.timestamp,
            "component": f"{obj.kind}/{obj.name}",
            "group": obj.namespace,
            "class": event.reason,
            "custom_details": dict(event.metadata),
        }
    return body


def change_payload(event: Event, *, routing_key: str) -> dict[str, Any]:
    """Return the change event recording an info ``event`` on the service's timeline."""
    return {
        "routing_key": routing_key,
        "payload": {
            "summary": _summary(event),
            "source": event.reporting_controller or "flux",
            "timestamp": event.timestamp,
            "custom_details": dict(event.metadata),
        },
    }


class PagerDutyNotifier(HttpNotifier):
    """Send events to the Events API v2 under the channel's routing key."""

    def __init__(self, settings: ProviderSettings) -> None:
        base = require_url(settings, default=DEFAULT_ADDRESS)
        self.routing_key = require(settings, "channel")
        prefix = base.path.rstrip("/")
        self.enqueue = base.copy_with(path=f"{prefix}/v2/enqueue")
        self.change = base.copy_with(path=f"{prefix}/v2/change/enqueue")
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Trigger or resolve the object's incident; record info events as changes."""
        key = self.routing_key
        await self.send("POST", self.enqueue, json=incident_payload(event, routing_key=key))
        if not is_error(event):
            await self.send("POST", self.change, json=change_payload(event, routing_key=key))
