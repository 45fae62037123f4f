"""A request budget per registry host, shared by every ImageRepository that scans it.

Registries limit clients by address: Docker Hub, GHCR, ECR and Quay answer ``429 Too Many
Requests`` past a rate, and a controller scanning 500 repositories of one registry on the same
interval would make 500 tag listings (plus token requests) in the same second. Flux sends them
all at once; Tide spaces them out so the registry sees at most ``rps`` requests per second from
this controller, with a burst of ``burst`` when it has been quiet.

The budget is a GCRA (generic cell rate algorithm) per host: each request takes the next free
slot, ``1/rps`` seconds after the previous one, and waits for it only when more than ``burst``
slots are already taken. It is exact, needs no lock in one event loop (the slot is reserved
before the wait) and keeps one float per host.

Example::

    budget = RegistryBudget(rps=10)
    client = RegistryClient(repo, before_request=budget.gate("ghcr.io"))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["DEFAULT_RPS", "RegistryBudget"]

DEFAULT_RPS = 10.0
"""Requests per second per registry host by default: far below what public registries allow
one address (Docker Hub's tag listings, GHCR's API), and still 600 repositories a minute."""


class RegistryBudget:
    """Space the requests of one controller to each registry host.

    Args:
        rps: requests per second allowed per host; 0 or less means no limit.
        burst: requests allowed back to back after a quiet spell (default: ``rps``, at least 1).
        clock: monotonic seconds (for tests; default ``time.monotonic``).
    """

    def __init__(
        self,
        rps: float = DEFAULT_RPS,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rps = rps
        self.burst = max(1, burst if burst is not None else int(rps))
        self._clock = clock
        self._next: dict[str, float] = {}
        self.requests: dict[str, int] = {}
        """Requests let through so far, by host (for benchmarks and tests)."""

    def delay(self, host: str) -> float:
        """Reserve the next slot for ``host``; return the seconds to wait before using it."""
        self.requests[host] = self.requests.get(host, 0) + 1
        if self.rps <= 0:
            return 0.0
        now = self._clock()
        interval = 1.0 / self.rps
        theoretical = max(self._next.get(host, now), now)
        self._next[host] = theoretical + interval
        return max(0.0, theoretical - now - (self.burst - 1) * interval)

    async def acquire(self, host: str) -> None:
        """Wait until ``host`` may receive one more request."""
        wait = self.delay(host)
        if wait > 0:
            await asyncio.sleep(wait)

    def gate(self, host: str) -> Callable[[], Awaitable[None]]:
        """Return the ``before_request`` hook of a client talking to ``host``."""

        async def acquire() -> None:
            await self.acquire(host)

        return acquire
