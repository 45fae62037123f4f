"""Outboxes: retries with backoff for retryable failures only; bounded queues."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.notification._events import event
from tide.notification.delivery import Delivery, Outbox, RetryPolicy
from tide.notification.providers.base import Event, SendFailed

pytestmark = pytest.mark.unit

FAST = RetryPolicy(retries=3, delay=0.001, max_delay=0.002)


class Scripted:
    """A notifier that fails as told, then succeeds."""

    def __init__(self, *failures: SendFailed, hang: bool = False) -> None:
        self.failures = list(failures)
        self.hang = hang
        self.posted: list[Event] = []
        self.closed = False

    async def post(self, e: Event) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(e)

    async def aclose(self) -> None:
        self.closed = True


async def until(probe) -> None:
    async with asyncio.timeout(5):
        while not probe():
            await asyncio.sleep(0.001)


async def test_retryable_failures_are_retried_until_it_arrives() -> None:
    notifier = Scripted(SendFailed("503"), SendFailed("timeout"))
    failed: list[str] = []

    async def on_failure(d: Delivery, error: SendFailed) -> None:
        failed.append(str(error))

    outbox = Outbox("team-a/hook", notifier, timeout=5, policy=FAST, on_failure=on_failure)
    outbox.put(Delivery(("team-a", "ops"), event()))

    await until(lambda: notifier.posted)
    assert failed == []
    await outbox.close()
    assert notifier.closed


async def test_a_non_retryable_failure_is_reported_at_once() -> None:
    notifier = Scripted(SendFailed("400 bad request", retryable=False))
    failed: list[str] = []

    async def on_failure(d: Delivery, error: SendFailed) -> None:
        failed.append(str(error))

    outbox = Outbox("team-a/hook", notifier, timeout=5, policy=FAST, on_failure=on_failure)
    outbox.put(Delivery(("team-a", "ops"), event()))
    outbox.put(Delivery(("team-a", "ops"), event(message="second")))

    await until(lambda: notifier.posted)
    assert failed == ["400 bad request"]
    assert [e.message for e in notifier.posted] == ["second"]
    await outbox.close()


async def test_an_endpoint_that_never_answers_times_out_and_is_reported_after_retries() -> None:
    failed: list[str] = []

    async def on_failure(d: Delivery, error: SendFailed) -> None:
        failed.append(str(error))

    outbox = Outbox("team-a/dead", Scripted(hang=True), timeout=0.01, policy=FAST,
                    on_failure=on_failure)  # fmt: skip
    outbox.put(Delivery(("team-a", "ops"), event()))

    await until(lambda: failed)
    assert failed == ["Provider 'team-a/dead': no answer within 0.01s"]
    await outbox.close()


async def test_a_full_outbox_drops_its_oldest_message() -> None:
    notifier = Scripted(hang=True)

    async def on_failure(d: Delivery, error: SendFailed) -> None:
        pass

    outbox = Outbox("team-a/hook", notifier, timeout=5, policy=RetryPolicy(capacity=2),
                    on_failure=on_failure)  # fmt: skip
    for index in range(5):
        outbox.put(Delivery(("team-a", "ops"), event(message=str(index))))

    assert outbox.pending == 2
    await outbox.close()
