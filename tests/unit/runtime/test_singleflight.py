"""One run per key: callers share it, and only the caller that was cancelled sees a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from tide.runtime.singleflight import SingleFlight

pytestmark = pytest.mark.unit


class Work:
    """Work that blocks until released, counting how often it ran."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> str:
        self.runs += 1
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return f"result {self.runs}"


async def test_callers_arriving_during_a_run_share_its_result() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    callers = [asyncio.create_task(flight.do("k", work)) for _ in range(5)]
    await work.started.wait()
    work.release.set()

    assert await asyncio.gather(*callers) == ["result 1"] * 5
    assert work.runs == 1
    assert not flight.running("k")


async def test_a_failure_reaches_every_caller_and_is_not_remembered() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    work.error = ValueError("boom")
    callers = [asyncio.create_task(flight.do("k", work)) for _ in range(3)]
    await work.started.wait()
    work.release.set()

    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["boom"] * 3
    work.error = None
    assert await flight.do("k", work) == "result 2"


async def test_a_cancelled_leader_hands_over_instead_of_cancelling_its_waiters() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    leader = asyncio.create_task(flight.do("k", work))
    await work.started.wait()
    waiter = asyncio.create_task(flight.do("k", work))
    await asyncio.sleep(0)  # the waiter is now waiting on the leader's run
    work.started.clear()
    leader.cancel()
    await work.started.wait()  # the waiter leads a fresh run
    work.release.set()

    assert await waiter == "result 2"
    assert leader.cancelled()


async def test_a_cancelled_waiter_leaves_the_run_going() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    leader = asyncio.create_task(flight.do("k", work))
    await work.started.wait()
    waiter = asyncio.create_task(flight.do("k", work))
    await asyncio.sleep(0)
    waiter.cancel()
    work.release.set()

    assert await leader == "result 1"
    assert waiter.cancelled()
    assert work.runs == 1


async def test_a_waiter_cancelled_together_with_its_leader_starts_nothing_new() -> None:
    # As at shutdown, when every worker is cancelled at once.
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    leader = asyncio.create_task(flight.do("k", work))
    await work.started.wait()
    waiter = asyncio.create_task(flight.do("k", work))
    await asyncio.sleep(0)
    leader.cancel()
    waiter.cancel()
    outcomes = await asyncio.gather(leader, waiter, return_exceptions=True)

    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert work.runs == 1
    assert not flight.running("k")
