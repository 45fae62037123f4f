"""WorkQueue: de-duplication, one worker per item, delayed adds and shutdown."""

from __future__ import annotations

import asyncio

import pytest

from tide.runtime.queue import QueueShutDown, WorkQueue

pytestmark = pytest.mark.unit


async def _get(queue: WorkQueue[str], timeout: float = 2.0) -> str:
    return await asyncio.wait_for(queue.get(), timeout)


async def _nothing_arrives(queue: WorkQueue[str], within: float = 0.05) -> bool:
    try:
        await asyncio.wait_for(queue.get(), within)
    except TimeoutError:
        return True
    return False


async def test_items_are_handed_out_in_the_order_they_were_added() -> None:
    queue: WorkQueue[str] = WorkQueue("test-fifo")
    for item in ("a", "b", "c"):
        queue.add(item)

    assert [await _get(queue) for _ in range(3)] == ["a", "b", "c"]


async def test_item_added_twice_while_queued_is_handed_out_once() -> None:
    queue: WorkQueue[str] = WorkQueue("test-dedup")
    queue.add("a")
    queue.add("b")
    queue.add("a")

    assert len(queue) == 2
    assert await _get(queue) == "a"
    assert await _get(queue) == "b"
    assert await _nothing_arrives(queue)


async def test_item_re_added_while_processing_is_not_handed_to_a_second_worker() -> None:
    queue: WorkQueue[str] = WorkQueue("test-processing")
    queue.add("a")
    assert await _get(queue) == "a"

    queue.add("a")

    assert len(queue) == 0
    assert await _nothing_arrives(queue)


async def test_item_re_added_many_times_while_processing_is_queued_once_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue("test-requeue-after-done")
    queue.add("a")
    assert await _get(queue) == "a"
    for _ in range(3):
        queue.add("a")

    queue.done("a")

    assert len(queue) == 1
    assert await _get(queue) == "a"
    queue.done("a")
    assert await _nothing_arrives(queue)


async def test_item_not_re_added_while_processing_is_gone_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue("test-done")
    queue.add("a")
    assert await _get(queue) == "a"

    queue.done("a")

    assert len(queue) == 0
    assert await _nothing_arrives(queue)


async def test_item_can_be_added_again_once_it_was_handed_out() -> None:
    queue: WorkQueue[str] = WorkQueue("test-add-after-get")
    queue.add("a")
    assert await _get(queue) == "a"
    queue.done("a")

    queue.add("a")

    assert await _get(queue) == "a"


async def test_waiting_worker_is_woken_by_an_add() -> None:
    queue: WorkQueue[str] = WorkQueue("test-wake")
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()

    queue.add("a")

    assert await asyncio.wait_for(waiter, 2.0) == "a"


async def test_add_after_hands_the_item_out_only_once_the_delay_has_passed() -> None:
    queue: WorkQueue[str] = WorkQueue("test-add-after")
    loop = asyncio.get_running_loop()
    start = loop.time()

    queue.add_after("a", 0.05)

    assert len(queue) == 0
    assert await _get(queue) == "a"
    assert loop.time() - start >= 0.04


async def test_add_after_zero_adds_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue("test-add-after-zero")

    queue.add_after("a", 0)

    assert len(queue) == 1
    assert queue.pending_delay("a") is None


async def test_add_after_negative_delay_adds_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue("test-add-after-negative")

    queue.add_after("a", -1.0)

    assert len(queue) == 1


async def test_later_add_after_does_not_postpone_an_earlier_pending_one() -> None:
    queue: WorkQueue[str] = WorkQueue("test-no-postpone")
    queue.add_after("a", 0.02)

    queue.add_after("a", 60.0)

    delay = queue.pending_delay("a")
    assert delay is not None
    assert delay <= 0.02
    assert await _get(queue) == "a"


async def test_earlier_add_after_brings_a_pending_one_forward() -> None:
    queue: WorkQueue[str] = WorkQueue("test-bring-forward")
    queue.add_after("a", 60.0)

    queue.add_after("a", 0.02)

    delay = queue.pending_delay("a")
    assert delay is not None
    assert delay <= 0.02
    assert await _get(queue) == "a"
    # The cancelled 60 s timer must not come back.
    assert queue.pending_delay("a") is None


async def test_delayed_item_already_queued_is_handed_out_once() -> None:
    queue: WorkQueue[str] = WorkQueue("test-delayed-dedup")
    queue.add("a")
    queue.add_after("a", 0.01)
    await asyncio.sleep(0.05)

    assert len(queue) == 1
    assert await _get(queue) == "a"


async def test_pending_delay_reports_the_time_left_until_the_delayed_add() -> None:
    queue: WorkQueue[str] = WorkQueue("test-pending-delay")

    queue.add_after("a", 30.0)

    delay = queue.pending_delay("a")
    assert delay is not None
    assert 29.0 < delay <= 30.0
    queue.shut_down()


async def test_pending_delay_is_none_without_a_delayed_add_and_after_it_fired() -> None:
    queue: WorkQueue[str] = WorkQueue("test-pending-none")
    assert queue.pending_delay("a") is None

    queue.add_after("a", 0.01)
    assert await _get(queue) == "a"

    assert queue.pending_delay("a") is None


async def test_shut_down_makes_a_waiting_get_raise_queue_shut_down() -> None:
    queue: WorkQueue[str] = WorkQueue("test-shutdown-waiter")
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)

    queue.shut_down()

    with pytest.raises(QueueShutDown):
        await asyncio.wait_for(waiter, 2.0)


async def test_get_after_shut_down_raises_even_when_items_were_queued() -> None:
    queue: WorkQueue[str] = WorkQueue("test-shutdown-queued")
    queue.add("a")

    queue.shut_down()

    with pytest.raises(QueueShutDown):
        await _get(queue)


async def test_shut_down_drops_pending_delayed_adds() -> None:
    queue: WorkQueue[str] = WorkQueue("test-shutdown-timers")
    queue.add_after("a", 0.01)

    queue.shut_down()
    await asyncio.sleep(0.05)

    assert queue.pending_delay("a") is None
    assert len(queue) == 0


async def test_adds_after_shut_down_are_ignored() -> None:
    queue: WorkQueue[str] = WorkQueue("test-shutdown-adds")
    queue.shut_down()

    queue.add("a")
    queue.add_after("b", 0.01)

    assert len(queue) == 0
    assert queue.pending_delay("b") is None


async def test_item_re_added_while_processing_is_not_requeued_by_done_after_shut_down() -> None:
    queue: WorkQueue[str] = WorkQueue("test-shutdown-done")
    queue.add("a")
    assert await _get(queue) == "a"
    queue.add("a")

    queue.shut_down()
    queue.done("a")

    assert len(queue) == 0
    with pytest.raises(QueueShutDown):
        await _get(queue)
