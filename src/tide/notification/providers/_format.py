"""How chat and alerting types name an event's object and lay out its metadata, shared."""

from __future__ import annotations

from datetime import UTC, datetime

from tide.notification.providers.base import Event

__all__ = ["event_time", "is_error", "metadata_items", "object_ref", "text_with_metadata"]


def object_ref(event: Event) -> str:
    """Return ``<kind>/<name>.<namespace>`` with the kind lower-cased, as Flux titles events."""
    obj = event.involved_object
    return f"{obj.kind.lower()}/{obj.name}.{obj.namespace}"


def is_error(event: Event) -> bool:
    """Return whether the event reports a failure (severity ``error``)."""
    return event.severity == "error"


def metadata_items(event: Event) -> list[tuple[str, str]]:
    """Return the metadata as sorted pairs, so a message reads the same each time."""
    return sorted(event.metadata.items())


def text_with_metadata(event: Event, *, bullet: str = "•") -> str:
    """Return the message followed by one ``<bullet> key: value`` line per metadata entry."""
    lines = [event.message, *(f"{bullet} {key}: {value}" for key, value in metadata_items(event))]
    return "\n".join(lines)


def event_time(event: Event) -> datetime:
    """Return the event's timestamp (RFC 3339), or now when it is missing or unreadable."""
    try:
        parsed = datetime.fromisoformat(event.timestamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
