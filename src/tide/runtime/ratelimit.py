"""Per-item exponential backoff: how long a failing object waits before its next attempt."""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["ExponentialBackoff"]


class ExponentialBackoff:
    """Delay ``base * 2**failures`` seconds, capped at ``cap``, counted per item.

    Args:
        base: first delay in seconds (default 0.75, as Flux's controllers use).
        cap: longest delay in seconds (default 900, i.e. 15 minutes).
    """

    def __init__(self, *, base: float = 0.75, cap: float = 900.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        """Record one more failure of ``item`` and return how long it should wait."""
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        # Past 2**40 the cap has long been reached; stop the exponent from growing without bound.
        return min(self.cap, self.base * 2 ** min(failures, 40))

    def failures(self, item: Hashable) -> int:
        """Return how many failures in a row ``item`` has had."""
        return self._failures.get(item, 0)

    def forget(self, item: Hashable) -> None:
        """Clear ``item``'s failures after a success."""
        self._failures.pop(item, None)
