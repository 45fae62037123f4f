"""A de-duplicating asyncio work queue with delayed adds, shaped after client-go's workqueue.

An item waiting in the queue is queued once however often it is added; an item being processed
is not handed to a second worker, and is queued again once if it changed meanwhile. That is what
keeps a burst of watch events for one object down to one reconcile.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Hashable
from typing import Generic, TypeVar

from tide.runtime import metrics

__all__ = ["QueueShutDown", "WorkQueue"]

T = TypeVar("T", bound=Hashable)


class QueueShutDown(Exception):
    """The queue was shut down; workers should exit."""


class WorkQueue(Generic[T]):
    """De-duplicating FIFO with ``add_after``; ``get`` and ``done`` bracket each item's processing.

    Args:
        name: label for the ``workqueue_*`` metrics (the controller's name).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: collections.deque[T] = collections.deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._timers: dict[T, tuple[float, asyncio.TimerHandle]] = {}
        self._nonempty = asyncio.Event()
        self._shut_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: T) -> None:
        """Queue ``item`` unless it is queued already; one being processed is queued after."""
        if self._shut_down or item in self._dirty:
            return
        metrics.WORKQUEUE_ADDS.labels(name=self.name).inc()
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        metrics.WORKQUEUE_DEPTH.labels(name=self.name).set(len(self._queue))
        self._nonempty.set()

    def add_after(self, item: T, delay: float) -> None:
        """Queue ``item`` after ``delay`` seconds; an earlier pending time for it wins."""
        if self._shut_down:
            return
        if delay <= 0:
            self.add(item)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        pending = self._timers.get(item)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[item] = (due, loop.call_at(due, self._fire, item))

    def _fire(self, item: T) -> None:
        self._timers.pop(item, None)
        self.add(item)

    def busy(self, item: T) -> bool:
        """Return whether ``item`` is queued or being processed (delayed adds do not count).

        Tests read this to know a reconcile is neither waiting nor running, instead of sleeping.
        """
        return item in self._dirty or item in self._processing

    def pending_delay(self, item: T) -> float | None:
        """Return seconds until ``item``'s delayed add fires, or None when none is pending."""
        pending = self._timers.get(item)
        if pending is None:
            return None
        return max(0.0, pending[0] - asyncio.get_running_loop().time())

    async def get(self) -> T:
        """Wait for the next item and mark it as being processed."""
        while not self._queue:
            if self._shut_down:
                raise QueueShutDown
            self._nonempty.clear()
            await self._nonempty.wait()
        item = self._queue.popleft()
        metrics.WORKQUEUE_DEPTH.labels(name=self.name).set(len(self._queue))
        self._dirty.discard(item)
        self._processing.add(item)
        return item

    def done(self, item: T) -> None:
        """Finish processing ``item``; queue it again if it was added meanwhile."""
        self._processing.discard(item)
        if item in self._dirty and not self._shut_down:
            self._queue.append(item)
            metrics.WORKQUEUE_DEPTH.labels(name=self.name).set(len(self._queue))
            self._nonempty.set()

    def shut_down(self) -> None:
        """Stop handing out items; waiting workers get ``QueueShutDown``."""
        self._shut_down = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._queue.clear()
        metrics.WORKQUEUE_DEPTH.labels(name=self.name).set(0)
        self._nonempty.set()
