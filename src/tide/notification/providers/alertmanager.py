"""``alertmanager``: each event as one firing alert posted to Alertmanager's v2 API.

The labels are the event metadata plus Flux's own — ``alertname`` (``Flux<Kind><Reason>``),
``severity``, ``reason``, ``kind``, ``name``, ``namespace`` — and the annotations carry the
message and, moved out of the labels, the Alert's ``summary``; ``startsAt`` is the event time.
Authentication is a bearer token, or basic auth from the address's ``user:password@``.
"""

from __future__ import annotations

from typing import Any

from tide.notification.providers._http import HttpNotifier, require_url
from tide.notification.providers.base import Event, ProviderSettings

__all__ = ["AlertmanagerNotifier", "alertmanager_payload"]


def alertmanager_payload(event: Event) -> list[dict[str, Any]]:
    """Return the list of (one) alerts for ``event``."""
    obj = event.involved_object
    labels = dict(event.metadata)
    annotations = {"message": event.message}
    if summary := labels.pop("summary", ""):
        annotations["summary"] = summary
    labels.update(
        alertname=f"Flux{obj.kind}{event.reason[:1].upper()}{event.reason[1:]}",
        severity=event.severity,
        reason=event.reason,
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace,
    )
    return [
        {
            "status": "firing",
            "labels": labels,
            "annotations": annotations,
            "startsAt": event.timestamp,
        }
    ]


class AlertmanagerNotifier(HttpNotifier):
    """POST alerts to the address (``https://<host>/api/v2/alerts``)."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.url = require_url(settings)
        super().__init__(settings)

    async def post(self, event: Event) -> None:
        """Send ``event`` as a firing alert."""
        token = self.settings.token
        headers = {"Authorization": f"Bearer {token}"} if token else None
        await self.send("POST", self.url, json=alertmanager_payload(event), headers=headers)
