"""Drop an event identical to one seen within ``--rate-limit-interval``, as Flux does.

Two events are identical when their involved object (kind, namespace, name), severity, reason,
message and revision metadata agree. A retrying reconciler records the same failure on every
attempt; without this, each attempt would page someone.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from tide.notification.providers.base import Event

__all__ = ["EventRateLimiter", "event_key", "revision_of"]

_MAX_KEYS = 8192
"""Keys remembered; the oldest are forgotten first (bounded memory with many objects)."""


def revision_of(event: Event) -> str:
    """Return the event's revision: ``revision``, or Flux's ``<group>/revision`` key."""
    for key, value in event.metadata.items():
        if key == "revision" or key.endswith("/revision"):
            return value
    return ""


def event_key(event: Event) -> tuple[str, ...]:
    """Return what makes two events "the same" for the rate limit."""
    obj = event.involved_object
    return (
        obj.kind, obj.namespace, obj.name, event.severity, event.reason, event.message,
        revision_of(event),
    )  # fmt: skip


class EventRateLimiter:
    """Let the first of identical events through per ``interval`` seconds.

    Args:
        interval: seconds an identical event is dropped for (``--rate-limit-interval``, 5m);
            0 lets every event through.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._seen: OrderedDict[tuple[str, ...], float] = OrderedDict()

    def allow(self, event: Event) -> bool:
        """Tell whether ``event`` should be dispatched, and remember it if so."""
        if self.interval <= 0:
            return True
        key = event_key(event)
        now = self._clock()
        last = self._seen.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._seen[key] = now
        self._seen.move_to_end(key)
        while len(self._seen) > _MAX_KEYS:
            self._seen.popitem(last=False)
        return True
