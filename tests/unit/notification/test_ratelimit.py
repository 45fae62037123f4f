"""The rate limit drops identical events within the interval, as Flux does."""

from __future__ import annotations

import pytest

from tests.unit.notification._events import event
from tide.notification.ratelimit import EventRateLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_identical_event_within_the_interval_is_dropped_and_passes_after_it() -> None:
    clock = Clock()
    limiter = EventRateLimiter(300, clock=clock)

    assert limiter.allow(event())
    clock.now += 299
    assert not limiter.allow(event())
    clock.now += 2
    assert limiter.allow(event())


@pytest.mark.parametrize(
    "changed",
    [
        {"message": "other"},
        {"reason": "HealthCheckFailed"},
        {"severity": "info"},
        {"name": "infra"},
        {"namespace": "team-b"},
        {"metadata": {"revision": "main@sha1:def"}},
        {"metadata": {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:def"}},
    ],
)
def test_an_event_differing_in_object_severity_reason_message_or_revision_passes(
    changed: dict,
) -> None:
    limiter = EventRateLimiter(300, clock=Clock())

    assert limiter.allow(event(metadata={"revision": "main@sha1:abc"}))
    assert limiter.allow(event(**{"metadata": {"revision": "main@sha1:abc"}, **changed}))


def test_other_metadata_does_not_make_an_event_different() -> None:
    limiter = EventRateLimiter(300, clock=Clock())

    assert limiter.allow(event(metadata={"summary": "a"}))
    assert not limiter.allow(event(metadata={"summary": "b"}))


def test_a_zero_interval_lets_everything_through() -> None:
    limiter = EventRateLimiter(0, clock=Clock())

    assert limiter.allow(event()) and limiter.allow(event())
