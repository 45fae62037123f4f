"""Pure helpers of the Flux-object reconciler: new-work detection, interval and jitter."""

from __future__ import annotations

from typing import Any

import pytest

from tide.runtime.lifecycle import _interval, _is_new_work, _jittered

pytestmark = pytest.mark.unit

READY = {"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok"}


def _reported(generation: int = 2, handled: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"observedGeneration": generation, "conditions": [dict(READY)]}
    if handled is not None:
        status["lastHandledReconcileAt"] = handled
    return status


def test_already_reported_generation_is_not_new_work() -> None:
    assert _is_new_work(_reported(2), 2, None) is False


def test_unobserved_generation_is_new_work() -> None:
    assert _is_new_work(_reported(1), 2, None) is True


def test_object_never_reconciled_is_new_work() -> None:
    assert _is_new_work({}, 1, None) is True


def test_unhandled_requested_at_is_new_work() -> None:
    assert _is_new_work(_reported(2, handled="t1"), 2, "t2") is True
    assert _is_new_work(_reported(2), 2, "t1") is True


def test_already_handled_requested_at_is_not_new_work() -> None:
    assert _is_new_work(_reported(2, handled="t1"), 2, "t1") is False


def test_status_without_ready_is_new_work() -> None:
    status = {"observedGeneration": 2, "conditions": []}

    assert _is_new_work(status, 2, None) is True


@pytest.mark.parametrize(
    ("interval", "seconds"),
    [("10m", 600.0), ("30s", 30.0), ("1h30m", 5400.0), ("500ms", 0.5)],
)
def test_interval_is_read_from_the_spec(interval: str, seconds: float) -> None:
    assert _interval({"spec": {"interval": interval}}) == seconds


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"spec": None},
        {"spec": {}},
        {"spec": {"interval": ""}},
        {"spec": {"interval": None}},
        {"spec": {"interval": "soon"}},
        {"spec": {"interval": "10d"}},
        {"spec": {"interval": 30}},
    ],
    ids=["no-spec", "null-spec", "no-interval", "empty", "null", "words", "days", "number"],
)
def test_missing_or_invalid_interval_defaults_to_ten_minutes(obj: dict[str, Any]) -> None:
    assert _interval(obj) == 600.0


def test_jitter_stays_within_five_percent_and_varies() -> None:
    samples = [_jittered(600.0) for _ in range(500)]

    assert all(570.0 <= s <= 630.0 for s in samples)
    assert len(set(samples)) > 1
    # Both directions occur, so objects created together spread out.
    assert min(samples) < 600.0 < max(samples)


def test_jitter_of_zero_is_zero() -> None:
    assert _jittered(0.0) == 0.0


def test_retrying_a_failed_generation_is_not_new_work() -> None:
    status = {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Reconciling", "status": "True", "observedGeneration": 2},
            {"type": "Ready", "status": "False", "observedGeneration": 2},
        ],
    }
    assert not _is_new_work(status, 2, None)


def test_a_generation_never_marked_in_progress_is_new_work() -> None:
    status = {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}],
    }
    assert _is_new_work(status, 2, None)
