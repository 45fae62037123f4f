"""Say how long ago something happened, in ``kubectl``'s short form (``4m12s``, ``3h``, ``2d``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["age", "event_time"]


def event_time(event: Mapping[str, Any]) -> str:
    """Return when ``event`` last happened (RFC 3339), from whichever field the writer filled."""
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def age(timestamp: str, *, now: datetime | None = None) -> str:
    """Return how long ago ``timestamp`` (RFC 3339) was, in kubectl's short form (``4m12s``)."""
    if not timestamp:
        return "<unknown>"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 10:
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 3:
        return (
            f"{hours}h{minutes}m"
            if hours and minutes
            else (f"{hours}h" if hours else f"{minutes}m")
        )
    days, hours = divmod(hours, 24)
    if days < 2:
        return f"{days * 24 + hours}h"
    return f"{days}d{hours}h" if days < 8 and hours else f"{days}d"
