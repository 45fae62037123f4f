"""Controller: turns a reconciler's outcomes into retries, requeues and bounded concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from tide.runtime.controller import Controller
from tide.runtime.ratelimit import ExponentialBackoff
from tide.runtime.reconcile import Request, Result, TerminalError

pytestmark = pytest.mark.unit

A = Request("default", "a")
B = Request("default", "b")


async def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Wait until ``predicate()`` holds, failing the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def running(controller: Controller) -> AsyncIterator[Controller]:
    controller.start()
    try:
        yield controller
    finally:
        await controller.stop(timeout=5.0)


class Scripted:
    """Returns (or raises) the scripted outcomes in turn, then plain success."""

    def __init__(self, *outcomes: Result | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[Request, float]] = []

    async def reconcile(self, request: Request) -> Result:
        self.calls.append((request, asyncio.get_running_loop().time()))
        outcome = self.outcomes.pop(0) if self.outcomes else Result()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_successful_reconcile_is_counted_and_not_repeated() -> None:
    reconciler = Scripted(Result())
    controller = Controller("test-success", reconciler)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)
        await asyncio.sleep(0.05)

    assert [request for request, _ in reconciler.calls] == [A]
    assert controller.queue.pending_delay(A) is None


async def test_failing_reconcile_is_retried_until_it_succeeds() -> None:
    reconciler = Scripted(RuntimeError("boom"), RuntimeError("boom"), Result())
    controller = Controller("test-retry", reconciler, backoff=ExponentialBackoff(base=0.01))

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)

    assert controller.results["error"] == 2
    assert len(reconciler.calls) == 3
    times = [when for _, when in reconciler.calls]
    # Retries wait for the backoff: at least ~0.01 s, then ~0.02 s.
    assert times[1] - times[0] >= 0.008
    assert times[2] - times[1] >= 0.016


async def test_success_forgets_earlier_failures() -> None:
    reconciler = Scripted(RuntimeError("boom"), RuntimeError("boom"), Result())
    backoff = ExponentialBackoff(base=0.01)
    controller = Controller("test-forget", reconciler, backoff=backoff)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)

    assert backoff.failures(A) == 0


async def test_failing_reconcile_is_requeued_after_the_backoff_delay() -> None:
    reconciler = Scripted(RuntimeError("boom"))
    backoff = ExponentialBackoff(base=5.0)
    controller = Controller("test-backoff-delay", reconciler, backoff=backoff)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["error"] == 1)
        delay = controller.queue.pending_delay(A)

    assert delay is not None
    assert 4.0 < delay <= 5.0
    assert backoff.failures(A) == 1
    assert len(reconciler.calls) == 1


async def test_terminal_error_is_not_retried_and_clears_the_backoff() -> None:
    reconciler = Scripted(RuntimeError("transient"), TerminalError("bad spec"))
    backoff = ExponentialBackoff(base=0.01)
    controller = Controller("test-terminal", reconciler, backoff=backoff)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["terminal"] == 1)
        await asyncio.sleep(0.1)
        pending = controller.queue.pending_delay(A)

    assert len(reconciler.calls) == 2
    assert controller.results["error"] == 1
    assert pending is None
    assert backoff.failures(A) == 0


async def test_terminal_error_object_is_reconciled_again_when_it_changes() -> None:
    reconciler = Scripted(TerminalError("bad spec"), Result())
    controller = Controller("test-terminal-change", reconciler)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["terminal"] == 1)
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)

    assert len(reconciler.calls) == 2


async def test_requeue_after_schedules_the_next_reconcile_after_that_delay() -> None:
    reconciler = Scripted(Result(requeue_after=30.0))
    controller = Controller("test-requeue-after", reconciler)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["requeue_after"] == 1)
        delay = controller.queue.pending_delay(A)

    assert delay is not None
    assert 29.0 < delay <= 30.0
    assert len(reconciler.calls) == 1


async def test_requeue_after_reconciles_again_once_the_delay_has_passed() -> None:
    reconciler = Scripted(Result(requeue_after=0.03), Result())
    controller = Controller("test-requeue-after-fires", reconciler)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)

    times = [when for _, when in reconciler.calls]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.025


async def test_requeue_after_forgets_earlier_failures() -> None:
    reconciler = Scripted(RuntimeError("boom"), Result(requeue_after=30.0))
    backoff = ExponentialBackoff(base=0.01)
    controller = Controller("test-requeue-after-forget", reconciler, backoff=backoff)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["requeue_after"] == 1)

    assert backoff.failures(A) == 0


async def test_requeue_retries_with_backoff_without_counting_an_error() -> None:
    reconciler = Scripted(Result(requeue=True), Result())
    backoff = ExponentialBackoff(base=0.01)
    controller = Controller("test-requeue", reconciler, backoff=backoff)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 1)

    assert controller.results["requeue"] == 1
    assert controller.results["error"] == 0
    assert len(reconciler.calls) == 2


async def test_no_more_than_workers_reconciles_run_at_once() -> None:
    active = 0
    peak = 0

    class Slow:
        async def reconcile(self, request: Request) -> Result:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.02)
            active -= 1
            return Result()

    controller = Controller("test-concurrency", Slow(), workers=3)

    async with running(controller):
        for i in range(10):
            controller.enqueue(Request("default", f"obj-{i}"))
        await eventually(lambda: controller.results["success"] == 10)

    assert peak == 3


async def test_one_request_is_never_reconciled_by_two_workers_at_once() -> None:
    in_flight: set[Request] = set()
    overlaps: list[Request] = []
    calls: list[Request] = []
    controller: Controller

    class EnqueuesItself:
        async def reconcile(self, request: Request) -> Result:
            if request in in_flight:
                overlaps.append(request)
            in_flight.add(request)
            calls.append(request)
            if len(calls) == 1:
                # Watch events for the same object arriving mid-reconcile.
                for _ in range(3):
                    controller.enqueue(request)
                    await asyncio.sleep(0.01)
            in_flight.discard(request)
            return Result()

    controller = Controller("test-exclusive", EnqueuesItself(), workers=4)

    async with running(controller):
        controller.enqueue(A)
        await eventually(lambda: controller.results["success"] == 2)
        await asyncio.sleep(0.05)

    assert overlaps == []
    # The burst collapses into exactly one more reconcile, after the first one finished.
    assert calls == [A, A]


async def test_stop_lets_an_in_flight_reconcile_finish_and_takes_no_new_work() -> None:
    started = asyncio.Event()
    finished: list[Request] = []

    class Slow:
        async def reconcile(self, request: Request) -> Result:
            started.set()
            await asyncio.sleep(0.05)
            finished.append(request)
            return Result()

    controller = Controller("test-stop", Slow(), workers=1)
    controller.start()
    controller.enqueue(A)
    controller.enqueue(B)
    await asyncio.wait_for(started.wait(), 2.0)

    await controller.stop(timeout=5.0)

    assert finished == [A]
    assert controller.results["success"] == 1


async def test_stop_cancels_a_reconcile_that_outlives_the_timeout() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    class Stuck:
        async def reconcile(self, request: Request) -> Result:
            started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return Result()

    controller = Controller("test-stop-timeout", Stuck(), workers=1)
    controller.start()
    controller.enqueue(A)
    await asyncio.wait_for(started.wait(), 2.0)

    await asyncio.wait_for(controller.stop(timeout=0.05), 2.0)

    assert cancelled.is_set()


async def test_stop_before_start_returns_at_once() -> None:
    controller = Controller("test-stop-unstarted", Scripted())

    await asyncio.wait_for(controller.stop(), 1.0)

    controller.enqueue(A)
    assert len(controller.queue) == 0
