"""How long a watch cache waits between attempts while the API server is away."""

from __future__ import annotations

import pytest

from tide.kube import cache

pytestmark = pytest.mark.unit


def test_delays_double_from_half_a_second_within_ten_percent() -> None:
    backoff = cache._Backoff()

    delays = [backoff.next_delay() for _ in range(6)]

    for delay, nominal in zip(delays, [0.5, 1, 2, 4, 8, 16], strict=True):
        assert nominal * 0.9 <= delay <= nominal * 1.1


def test_delays_stop_growing_at_about_thirty_seconds() -> None:
    backoff = cache._Backoff()

    delays = [backoff.next_delay() for _ in range(200)]

    assert all(delay <= 30 * 1.1 for delay in delays)
    assert all(delay >= 30 * 0.9 for delay in delays[7:])


def test_jitter_spreads_caches_that_failed_together() -> None:
    delays = set()
    for _ in range(20):
        backoff = cache._Backoff()
        for _ in range(4):
            delay = backoff.next_delay()
        delays.add(round(delay, 6))

    assert len(delays) > 1


def test_reset_starts_again_from_half_a_second() -> None:
    backoff = cache._Backoff()
    for _ in range(10):
        backoff.next_delay()

    backoff.reset()

    assert 0.45 <= backoff.next_delay() <= 0.55
