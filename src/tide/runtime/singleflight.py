"""Run one piece of work per key at a time; callers arriving meanwhile share its outcome.

Used wherever many objects want the same expensive thing at once — a remote check of one Git
URL, a kustomize build of one artifact — so it happens once. asyncio has no such primitive
(``asyncio.Lock`` would serialise the callers, each still doing the work), hence this small one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Share one run of ``work`` per key among the callers that ask while it runs.

    The caller that finds no run under way leads: it runs ``work`` in its own task. The others
    wait for the leader's result or exception. When the leader itself is cancelled (its
    reconcile was stopped), waiters are not: one of them leads a fresh run instead, so a
    cancellation never reaches callers that did not ask for it. Nothing is remembered after a
    run ends; callers that want a cache keep one around this.
    """

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[T]] = {}

    def running(self, key: str) -> bool:
        """Tell whether a run for ``key`` is under way."""
        return key in self._running

    async def do(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """Return ``work()``'s result, shared with every caller asking for ``key`` meanwhile."""
        while (running := self._running.get(key)) is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise  # this caller was cancelled (perhaps with the leader, at shutdown)
                # Only the leader was cancelled: loop, and lead a new run unless someone else does.
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await work()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark it retrieved: nobody may be waiting
            raise
        finally:
            del self._running[key]
        future.set_result(result)
        return result
