"""Noise control: a failure that repeats unchanged is announced once, then summarised.

Flux sends a failing object's error again after every ``--rate-limit-interval``: a Kustomization
broken overnight posts a hundred identical messages. Tide sends the first, stays quiet while the
same error repeats, posts one summary per ``summary_interval`` ("Still failing for 2h, 14
attempts: ..."), and announces the recovery once ("Ready again after 12m: ..."). A different
error (another reason or message, or the same one at a new revision) is news and is sent at
once. It changes what Flux users are used to receiving, so it is opt-in: Alerts annotated
``notification.tide.dev/noise-control: enabled`` get it; the others get Flux's behaviour.

The state is per involved object (not per Alert), so every Alert counts the same attempts.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from tide.api import reasons
from tide.notification.providers.base import Event
from tide.notification.ratelimit import revision_of

__all__ = ["NOISE_CONTROL_ANNOTATION", "NoiseControl", "format_duration"]

NOISE_CONTROL_ANNOTATION = "notification.tide.dev/noise-control"
"""Alert annotation; ``enabled`` turns noise control on (off by default: every rate-limited
event is sent, as Flux does)."""

_NOT_RECOVERY = frozenset(
    {reasons.PROGRESSING, reasons.PROGRESSING_WITH_RETRY, reasons.DEPENDENCY_NOT_READY}
)
"""Info reasons that say "not there yet": they neither end a failure nor announce recovery."""
_MAX_OBJECTS = 8192


def format_duration(seconds: float) -> str:
    """Return ``seconds`` as Go prints a rounded duration: ``45s``, ``12m``, ``2h5m``, ``3d1h``."""
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


@dataclass
class _Streak:
    failure: tuple[str, str, str]
    """Reason, message and revision of the failure."""
    since: float
    attempts: int
    last_sent: float


class NoiseControl:
    """Decide, per involved object, whether an event is news.

    Args:
        summary_interval: seconds between summaries of an unchanged failure (default 1h).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self, *, summary_interval: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.summary_interval = summary_interval
        self._clock = clock
        self._streaks: OrderedDict[tuple[str, str, str], _Streak] = OrderedDict()

    def observe(self, event: Event) -> Event | None:
        """Return the event to send for ``event`` (maybe reworded), or None to stay quiet."""
        obj = event.involved_object
        key = (obj.kind, obj.namespace, obj.name)
        now = self._clock()
        streak = self._streaks.get(key)
        if event.severity == "error":
            return self._failure(key, streak, event, now)
        if streak is None or event.reason in _NOT_RECOVERY:
            return event
        del self._streaks[key]
        return replace(
            event, message=f"Ready again after {format_duration(now - streak.since)}: "
            f"{event.message}",
        )  # fmt: skip

    def _failure(
        self, key: tuple[str, str, str], streak: _Streak | None, event: Event, now: float
    ) -> Event | None:
        failure = (event.reason, event.message, revision_of(event))
        if streak is not None and streak.failure == failure:
            streak.attempts += 1
            if now - streak.last_sent < self.summary_interval:
                return None
            streak.last_sent = now
            return replace(
                event,
                message=f"Still failing for {format_duration(now - streak.since)}, "
                f"{streak.attempts} attempts: {event.message}",
            )
        since = streak.since if streak is not None else now
        self._streaks[key] = _Streak(failure, since, 1, now)
        self._streaks.move_to_end(key)
        while len(self._streaks) > _MAX_OBJECTS:
            self._streaks.popitem(last=False)
        return event
