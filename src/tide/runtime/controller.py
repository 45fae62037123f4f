"""Drive one reconciler: a work queue, a bounded pool of workers, backoff on failure.

The reconciler never sees any of this (see :mod:`tide.runtime.reconcile`); the controller turns
its outcomes into queue actions.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time

from tide.runtime import metrics
from tide.runtime.queue import QueueShutDown, WorkQueue
from tide.runtime.ratelimit import ExponentialBackoff
from tide.runtime.reconcile import Reconciler, Request, TerminalError

__all__ = ["Controller"]

log = logging.getLogger(__name__)


class Controller:
    """Run ``reconciler`` for queued requests with at most ``workers`` at a time.

    Args:
        name: the controller's name, used in logs and metric labels (e.g. "kustomization").
        reconciler: what to run per request.
        workers: how many reconciles may run at once (default 4, Flux's ``--concurrent``).
        backoff: per-request delays after failures (default 750 ms doubling to 15 min).
    """

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        *,
        workers: int = 4,
        backoff: ExponentialBackoff | None = None,
    ) -> None:
        self.name = name
        self.reconciler = reconciler
        self.workers = workers
        self.backoff = backoff or ExponentialBackoff()
        self.queue: WorkQueue[Request] = WorkQueue(name)
        self.results: collections.Counter[str] = collections.Counter()
        """Reconciles this controller finished, by result; for tests and the CLI."""
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, request: Request) -> None:
        """Ask for a reconcile of ``request`` as soon as a worker is free."""
        self.queue.add(request)

    def enqueue_after(self, request: Request, delay: float) -> None:
        """Ask for a reconcile of ``request`` in ``delay`` seconds."""
        self.queue.add_after(request, delay)

    def start(self) -> None:
        """Start the workers."""
        metrics.ACTIVE_WORKERS.labels(controller=self.name).set(0)
        self._tasks = [
            asyncio.create_task(self._work(), name=f"{self.name}-worker-{i}")
            for i in range(self.workers)
        ]

    async def stop(self, *, timeout: float = 30.0) -> None:
        """Take no new work; let running reconciles finish for up to ``timeout`` seconds."""
        self.queue.shut_down()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _work(self) -> None:
        while True:
            try:
                request = await self.queue.get()
            except QueueShutDown:
                return
            gauge = metrics.ACTIVE_WORKERS.labels(controller=self.name)
            gauge.inc()
            try:
                await self._reconcile(request)
            finally:
                gauge.dec()
                self.queue.done(request)

    async def _reconcile(self, request: Request) -> None:
        started = time.monotonic()
        try:
            result = await self.reconciler.reconcile(request)
        except TerminalError as error:
            self.backoff.forget(request)
            # controller-runtime exports terminal errors as result="error" plus their own counter.
            self._count("terminal", exported="error")
            metrics.RECONCILE_ERRORS.labels(controller=self.name).inc()
            metrics.TERMINAL_ERRORS.labels(controller=self.name).inc()
            log.error("%s %s: %s (not retried until it changes)", self.name, request, error)
        except Exception as error:
            delay = self.backoff.when(request)
            self._count("error")
            metrics.RECONCILE_ERRORS.labels(controller=self.name).inc()
            metrics.WORKQUEUE_RETRIES.labels(name=self.name).inc()
            log.warning(
                "%s %s failed, retrying in %.2fs: %s",
                self.name,
                request,
                delay,
                error,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            self.queue.add_after(request, delay)
        else:
            if result.requeue_after is not None:
                self.backoff.forget(request)
                self._count("requeue_after")
                self.queue.add_after(request, result.requeue_after)
            elif result.requeue:
                self._count("requeue")
                self.queue.add_after(request, self.backoff.when(request))
            else:
                self.backoff.forget(request)
                self._count("success")
        finally:
            metrics.RECONCILE_TIME.labels(controller=self.name).observe(time.monotonic() - started)

    def _count(self, result: str, *, exported: str | None = None) -> None:
        self.results[result] += 1
        metrics.RECONCILE_TOTAL.labels(controller=self.name, result=exported or result).inc()
