"""Noise control: an unchanged failure is sent once, then summarised; recovery is announced."""

from __future__ import annotations

import pytest

from tests.unit.notification._events import event
from tide.notification.noise import NoiseControl, format_duration

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_failure_is_sent_once_then_summarised_each_interval() -> None:
    clock = Clock()
    noise = NoiseControl(summary_interval=3600, clock=clock)
    failure = event()

    assert noise.observe(failure) == failure
    sent = []
    for _ in range(13):  # a retry every 10 minutes for two hours and ten
        clock.now += 600
        sent.append(noise.observe(failure))

    summaries = [e.message for e in sent if e is not None]
    assert summaries == [
        "Still failing for 1h, 7 attempts: kustomize build failed: missing resource",
        "Still failing for 2h, 13 attempts: kustomize build failed: missing resource",
    ]


@pytest.mark.parametrize(
    "changed",
    [
        {"message": "kustomize build failed: another problem"},
        {"reason": "HealthCheckFailed"},
        {"metadata": {"revision": "main@sha1:new"}},
    ],
)
def test_a_different_failure_or_a_new_revision_is_news_at_once(changed: dict) -> None:
    noise = NoiseControl(clock=Clock())
    noise.observe(event(metadata={"revision": "main@sha1:old"}))

    different = event(**{"metadata": {"revision": "main@sha1:old"}, **changed})

    assert noise.observe(different) == different


def test_recovery_is_announced_once_with_how_long_it_failed() -> None:
    clock = Clock()
    noise = NoiseControl(clock=clock)
    noise.observe(event())
    clock.now += 12 * 60

    recovered = noise.observe(event(severity="info", reason="ReconciliationSucceeded",
                                    message="Applied revision: main@sha1:abc"))  # fmt: skip
    again = noise.observe(event(severity="info", reason="ReconciliationSucceeded",
                                message="Applied revision: main@sha1:abc"))  # fmt: skip

    assert recovered is not None
    assert recovered.message == "Ready again after 12m: Applied revision: main@sha1:abc"
    assert again is not None and again.message == "Applied revision: main@sha1:abc"


def test_progress_events_do_not_end_a_failure() -> None:
    clock = Clock()
    noise = NoiseControl(clock=clock)
    failure = event()
    noise.observe(failure)

    progress = event(severity="info", reason="Progressing", message="Reconciliation in progress")

    assert noise.observe(progress) == progress
    assert noise.observe(failure) is None


def test_failures_of_different_objects_are_counted_apart() -> None:
    noise = NoiseControl(clock=Clock())
    noise.observe(event(name="apps"))

    assert noise.observe(event(name="infra")) is not None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (720, "12m"), (7200, "2h"), (7500, "2h5m"), (90000, "1d1h"), (86400, "1d")],
)
def test_durations_read_as_go_prints_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
