"""One Provider's outbox: a bounded queue and one worker that posts, retrying with backoff.

Each Provider gets its own outbox so a slow or dead endpoint only delays its own messages:
reconcilers enqueue and return, other Providers keep sending. Retries are for
``SendFailed(retryable=True)`` only (5xx, 429, timeouts, refused connections); a request the
service refused as bad is reported at once. When the queue is full the oldest message is dropped
(and logged): a dead endpoint must not make the process grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tide.notification.providers.base import Event, Notifier, SendFailed

__all__ = ["Delivery", "FailureHandler", "Outbox", "RetryPolicy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One event on its way to a Provider for one Alert."""

    alert: tuple[str, str]
    """(namespace, name) of the Alert the event matched."""
    event: Event


@dataclass(frozen=True)
class RetryPolicy:
    """How an outbox retries a retryable failure.

    Attributes:
        retries: attempts after the first (default 4, five in all, as Flux's HTTP client).
        delay: seconds before the first retry, doubled each time (default 1).
        max_delay: the longest wait between attempts (default 30).
        capacity: messages queued per Provider before the oldest is dropped (default 1000).
    """

    retries: int = 4
    delay: float = 1.0
    max_delay: float = 30.0
    capacity: int = 1000


FailureHandler = Callable[[Delivery, SendFailed], Awaitable[None]]
"""Told of a delivery that failed for good (after its retries)."""


class Outbox:
    """Post deliveries through ``notifier`` one at a time, in order.

    Args:
        name: ``<namespace>/<name>`` of the Provider, for logs.
        notifier: the provider type's sender.
        timeout: seconds one attempt may take at most; the notifier's own timeout should fire
            first, this guards against one that hangs.
        policy: retries, backoff and queue bound.
        on_failure: told of each delivery that failed for good.
    """

    def __init__(
        self,
        name: str,
        notifier: Notifier,
        *,
        timeout: float,
        policy: RetryPolicy,
        on_failure: FailureHandler,
    ) -> None:
        self.name = name
        self._notifier = notifier
        self._timeout = timeout
        self._policy = policy
        self._on_failure = on_failure
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._work(), name=f"outbox-{name}")
        self.sent = 0
        """Deliveries that arrived (for metrics and tests)."""

    @property
    def pending(self) -> int:
        """Deliveries queued and not yet taken by the worker."""
        return self._queue.qsize()

    def put(self, delivery: Delivery) -> None:
        """Queue ``delivery`` without waiting; drop the oldest queued one when full."""
        while self._queue.qsize() >= self._policy.capacity:
            dropped = self._queue.get_nowait()
            self._queue.task_done()
            if dropped is not None:
                log.warning("Provider %s: outbox full, dropped an event", self.name)
        self._queue.put_nowait(delivery)

    def retire(self) -> None:
        """Send what is queued, then close: the Provider changed and a new outbox takes over."""
        self._queue.put_nowait(None)

    async def settle(self) -> None:
        """Wait until every delivery queued so far has arrived or failed for good."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop at once, dropping what is queued, and release the notifier's connections."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._aclose()

    async def _aclose(self) -> None:
        try:
            await self._notifier.aclose()
        except Exception:
            log.exception("Provider %s: closing its connections failed", self.name)

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            try:
                if delivery is None:
                    await self._aclose()
                    return
                await self._deliver(delivery)
            finally:
                self._queue.task_done()

    async def _deliver(self, delivery: Delivery) -> None:
        delay = self._policy.delay
        for attempt in range(self._policy.retries + 1):
            try:
                async with asyncio.timeout(self._timeout):
                    await self._notifier.post(delivery.event)
                self.sent += 1
                return
            except TimeoutError:
                error = SendFailed(f"Provider '{self.name}': no answer within {self._timeout:g}s")
            except SendFailed as failed:
                error = failed
            except Exception as unexpected:  # a provider type's bug must not kill the outbox
                log.exception("Provider %s: sending failed unexpectedly", self.name)
                error = SendFailed(f"Provider '{self.name}': {unexpected}", retryable=False)
            if not error.retryable or attempt == self._policy.retries:
                break
            log.info("Provider %s: %s; retrying in %.1fs", self.name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._policy.max_delay)
        await self._on_failure(delivery, error)
