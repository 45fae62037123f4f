"""Conditions: reading them, and writing them with the kstatus invariants kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tide.api import conditions

pytestmark = pytest.mark.unit

T1 = "2024-01-01T00:00:00Z"
T2 = "2024-02-01T00:00:00Z"


def _set(
    status: dict[str, Any],
    kind: str,
    value: Any,
    *,
    now: str = T1,
    generation: int | None = 1,
    reason: str = "Succeeded",
    message: str = "done",
) -> dict[str, Any]:
    return conditions.set_condition(
        status, kind, value, reason=reason, message=message, generation=generation, now=now
    )


def _types(status: dict[str, Any]) -> list[str]:
    return [c["type"] for c in status["conditions"]]


# --- setter -------------------------------------------------------------------------------------


def test_set_condition_creates_the_conditions_list_and_returns_the_condition() -> None:
    status: dict[str, Any] = {}

    condition = _set(status, "Ready", "True", generation=3, message="applied")

    assert status["conditions"] == [condition]
    assert condition == {
        "type": "Ready",
        "status": "True",
        "reason": "Succeeded",
        "message": "applied",
        "lastTransitionTime": T1,
        "observedGeneration": 3,
    }


def test_a_new_reason_or_message_moves_the_last_transition_time_as_flux_does() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "False", now=T1, reason="FetchFailed", message="first")

    _set(status, "Ready", "False", now=T2, reason="BuildFailed", message="second")

    (condition,) = status["conditions"]
    assert condition["lastTransitionTime"] == T2
    assert condition["reason"] == "BuildFailed"
    assert condition["message"] == "second"


def test_a_new_generation_alone_keeps_the_last_transition_time() -> None:
    status: dict[str, Any] = {}
    conditions.set_condition(
        status, "Ready", "True", reason="Succeeded", message="ok", generation=1, now=T1
    )

    conditions.set_condition(
        status, "Ready", "True", reason="Succeeded", message="ok", generation=2, now=T2
    )

    (condition,) = status["conditions"]
    assert condition["lastTransitionTime"] == T1
    assert condition["observedGeneration"] == 2


def test_repeating_the_same_verdict_leaves_the_condition_identical() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "True", now=T1)
    before = [dict(c) for c in status["conditions"]]

    _set(status, "Ready", "True", now=T2)

    assert status["conditions"] == before


def test_status_flip_moves_the_last_transition_time() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "True", now=T1)

    _set(status, "Ready", "False", now=T2)

    (condition,) = status["conditions"]
    assert condition["status"] == "False"
    assert condition["lastTransitionTime"] == T2


def test_existing_condition_without_a_transition_time_gets_one() -> None:
    status: dict[str, Any] = {"conditions": [{"type": "Ready", "status": "True"}]}

    _set(status, "Ready", "True", now=T2)

    assert status["conditions"][0]["lastTransitionTime"] == T2


def test_transition_time_defaults_to_now_in_rfc3339_utc() -> None:
    status: dict[str, Any] = {}

    condition = conditions.mark_true(
        status, "Ready", reason="Succeeded", message="ok", generation=1
    )

    stamp = condition["lastTransitionTime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=1)


def test_observed_generation_is_stamped_on_every_write() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "True", generation=1)

    _set(status, "Ready", "True", generation=2)

    assert status["conditions"][0]["observedGeneration"] == 2


def test_no_generation_leaves_observed_generation_out() -> None:
    status: dict[str, Any] = {}

    condition = _set(status, "Ready", "True", generation=None)

    assert "observedGeneration" not in condition


def test_setting_a_condition_replaces_it_rather_than_adding_a_second() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "True")
    _set(status, "Ready", "False")
    _set(status, "Ready", "Unknown")

    assert _types(status) == ["Ready"]
    assert status["conditions"][0]["status"] == "Unknown"


def test_conditions_keep_stalled_reconciling_ready_first_then_the_rest_by_name() -> None:
    status: dict[str, Any] = {}
    for kind in ("Healthy", "Stalled", "ArtifactInStorage", "Ready", "Reconciling", "Zeta"):
        _set(status, kind, "True")

    assert _types(status) == [
        "Stalled",
        "Reconciling",
        "Ready",
        "ArtifactInStorage",
        "Healthy",
        "Zeta",
    ]


def test_order_is_kept_when_an_existing_condition_is_updated() -> None:
    status: dict[str, Any] = {}
    for kind in ("Ready", "Reconciling", "Healthy"):
        _set(status, kind, "True")

    _set(status, "Ready", "False")

    assert _types(status) == ["Reconciling", "Ready", "Healthy"]


def test_message_longer_than_32768_characters_is_cut_to_32768() -> None:
    status: dict[str, Any] = {}

    condition = _set(status, "Ready", "False", message="x" * 40000)

    assert condition["message"] == "x" * 32768


def test_message_of_exactly_32768_characters_is_kept_whole() -> None:
    status: dict[str, Any] = {}
    message = "ab" * 16384

    condition = _set(status, "Ready", "False", message=message)

    assert condition["message"] == message


@pytest.mark.parametrize(
    ("mark", "expected"),
    [
        (conditions.mark_true, "True"),
        (conditions.mark_false, "False"),
        (conditions.mark_unknown, "Unknown"),
    ],
)
def test_mark_helpers_set_the_matching_status(mark: Any, expected: str) -> None:
    status: dict[str, Any] = {}

    mark(status, "Healthy", reason="R", message="m", generation=4)

    assert conditions.find(status, "Healthy") == {
        "type": "Healthy",
        "status": expected,
        "reason": "R",
        "message": "m",
        "lastTransitionTime": conditions.find(status, "Healthy")["lastTransitionTime"],
        "observedGeneration": 4,
    }


def test_mark_reconciling_removes_stalled() -> None:
    status: dict[str, Any] = {}
    conditions.mark_stalled(status, reason="InvalidConfig", message="bad", generation=1)

    conditions.mark_reconciling(status, reason="Progressing", message="go", generation=2)

    assert conditions.find(status, "Stalled") is None
    assert conditions.is_true(status, "Reconciling")
    assert conditions.find(status, "Reconciling")["observedGeneration"] == 2


def test_mark_stalled_removes_reconciling() -> None:
    status: dict[str, Any] = {}
    conditions.mark_reconciling(status, reason="Progressing", message="go", generation=1)

    conditions.mark_stalled(status, reason="InvalidConfig", message="bad", generation=1)

    assert conditions.find(status, "Reconciling") is None
    assert conditions.is_true(status, "Stalled")
    assert conditions.reason(status, "Stalled") == "InvalidConfig"


def test_mark_reconciling_and_stalled_keep_other_conditions() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "False")
    _set(status, "Healthy", "True")

    conditions.mark_stalled(status, reason="InvalidConfig", message="bad", generation=1)
    conditions.mark_reconciling(status, reason="Progressing", message="go", generation=1)

    assert _types(status) == ["Reconciling", "Ready", "Healthy"]


def test_delete_removes_only_the_named_condition() -> None:
    status: dict[str, Any] = {}
    for kind in ("Ready", "Reconciling", "Healthy"):
        _set(status, kind, "True")

    conditions.delete(status, "Reconciling")

    assert _types(status) == ["Ready", "Healthy"]


def test_delete_of_an_absent_condition_changes_nothing() -> None:
    empty: dict[str, Any] = {}
    conditions.delete(empty, "Ready")
    assert empty == {}

    status: dict[str, Any] = {}
    _set(status, "Ready", "True")
    before = [dict(c) for c in status["conditions"]]
    conditions.delete(status, "Stalled")
    assert status["conditions"] == before


# --- getter -------------------------------------------------------------------------------------


def test_getters_read_a_present_condition() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "False", reason="FetchFailed")

    assert conditions.find(status, "Ready")["reason"] == "FetchFailed"
    assert conditions.status_of(status, "Ready") == "False"
    assert conditions.reason(status, "Ready") == "FetchFailed"
    assert conditions.is_false(status, "Ready")
    assert not conditions.is_true(status, "Ready")
    assert not conditions.is_unknown(status, "Ready")


@pytest.mark.parametrize("status", [None, {}, {"conditions": None}, {"conditions": []}])
def test_getters_treat_a_missing_condition_as_absent_and_unknown(status: Any) -> None:
    assert conditions.find(status, "Ready") is None
    assert conditions.status_of(status, "Ready") is None
    assert conditions.reason(status, "Ready") is None
    assert not conditions.is_true(status, "Ready")
    assert not conditions.is_false(status, "Ready")
    assert conditions.is_unknown(status, "Ready")


def test_unknown_status_counts_as_unknown_not_true_or_false() -> None:
    status: dict[str, Any] = {}
    _set(status, "Ready", "Unknown")

    assert conditions.is_unknown(status, "Ready")
    assert not conditions.is_true(status, "Ready")
    assert not conditions.is_false(status, "Ready")


def test_getters_do_not_change_the_status() -> None:
    status: dict[str, Any] = {}

    conditions.find(status, "Ready")
    conditions.is_unknown(status, "Ready")

    assert status == {}
