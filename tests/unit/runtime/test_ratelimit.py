"""ExponentialBackoff: per-item delays doubling from 0.75 s up to 15 minutes."""

from __future__ import annotations

import pytest

from tide.runtime.ratelimit import ExponentialBackoff

pytestmark = pytest.mark.unit


def test_delays_double_from_750_milliseconds() -> None:
    backoff = ExponentialBackoff()

    delays = [backoff.when("a") for _ in range(6)]

    assert delays == [0.75, 1.5, 3.0, 6.0, 12.0, 24.0]


def test_delays_are_capped_at_15_minutes() -> None:
    backoff = ExponentialBackoff()

    delays = [backoff.when("a") for _ in range(20)]

    assert max(delays) == 900.0
    assert delays[-1] == 900.0
    # 0.75 * 2**10 = 768 is the last uncapped delay; the next one would be 1536.
    assert delays[10] == 768.0
    assert delays[11] == 900.0


def test_base_and_cap_are_configurable() -> None:
    backoff = ExponentialBackoff(base=0.01, cap=0.05)

    assert [backoff.when("a") for _ in range(5)] == [0.01, 0.02, 0.04, 0.05, 0.05]


def test_failures_are_counted_per_item() -> None:
    backoff = ExponentialBackoff()
    backoff.when("a")
    backoff.when("a")
    backoff.when("a")

    assert backoff.when("b") == 0.75
    assert backoff.failures("a") == 3
    assert backoff.failures("b") == 1
    assert backoff.failures("never-failed") == 0


def test_forget_starts_the_item_over_at_the_base_delay() -> None:
    backoff = ExponentialBackoff()
    for _ in range(5):
        backoff.when("a")
    backoff.when("b")

    backoff.forget("a")

    assert backoff.failures("a") == 0
    assert backoff.when("a") == 0.75
    assert backoff.failures("b") == 1


def test_forgetting_an_item_that_never_failed_is_harmless() -> None:
    backoff = ExponentialBackoff()

    backoff.forget("never-failed")

    assert backoff.failures("never-failed") == 0


def test_thousands_of_failures_stay_at_the_cap_without_overflowing() -> None:
    backoff = ExponentialBackoff()

    # 0.75 * 2**1100 does not fit in a float; the delay must still be the cap.
    delays = [backoff.when("a") for _ in range(1100)]

    assert delays[-1] == 900.0
    assert backoff.failures("a") == 1100
