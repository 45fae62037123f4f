"""Write conditions into a ``status`` mapping, keeping kstatus invariants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from tide.api import reasons

__all__ = [
    "ConditionStatus",
    "delete",
    "mark_false",
    "mark_reconciling",
    "mark_stalled",
    "mark_true",
    "mark_unknown",
    "set_condition",
]

ConditionStatus = Literal["True", "False", "Unknown"]
"""The value of a condition, as ``metav1.Condition`` spells it."""

_MAX_MESSAGE = 32768
"""metav1.Condition caps messages at 32 KiB; the API server refuses longer ones."""
_ORDER = (reasons.STALLED, reasons.RECONCILING, reasons.READY)
"""Flux's fixed order (fluxcd/pkg ``conditionWeights``): Stalled, Reconciling, Ready, then the
rest by type, so ``kubectl describe`` lists conditions the same way for Tide and Flux objects."""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sort_key(condition: dict[str, Any]) -> tuple[int, str]:
    kind = condition.get("type", "")
    rank = _ORDER.index(kind) if kind in _ORDER else len(_ORDER)
    return rank, kind


def set_condition(
    status: dict[str, Any],
    kind: str,
    value: ConditionStatus,
    *,
    reason: str,
    message: str,
    generation: int | None,
    now: str | None = None,
) -> dict[str, Any]:
    """Set condition ``kind`` and return it.

    ``lastTransitionTime`` changes only when the status, reason or message changes (Flux's
    "same state"), so a reconcile that repeats the same verdict leaves the condition
    byte-identical and causes no status write.

    Args:
        status: the object's status mapping; ``conditions`` is created when missing.
        kind: condition type, such as "Ready".
        value: "True", "False" or "Unknown".
        reason: CamelCase reason from :mod:`tide.api.reasons`.
        message: human-readable detail; cut to 32 KiB, the API server's limit.
        generation: ``metadata.generation`` the verdict is about (None leaves it out).
        now: RFC 3339 time to stamp on a transition (default: the current time).
    """
    conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
    existing = next((c for c in conditions if c.get("type") == kind), None)
    condition: dict[str, Any] = {
        "type": kind,
        "status": value,
        "reason": reason,
        "message": message[:_MAX_MESSAGE],
        "lastTransitionTime": now or _now(),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    if existing is not None:
        same_state = all(
            existing.get(key) == condition[key] for key in ("status", "reason", "message")
        )
        if same_state and existing.get("lastTransitionTime"):
            condition["lastTransitionTime"] = existing["lastTransitionTime"]
        conditions.remove(existing)
    conditions.append(condition)
    conditions.sort(key=_sort_key)
    return condition


def mark_true(
    status: dict[str, Any], kind: str, *, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    """Set ``kind`` to True."""
    return set_condition(
        status, kind, "True", reason=reason, message=message, generation=generation
    )


def mark_false(
    status: dict[str, Any], kind: str, *, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    """Set ``kind`` to False."""
    return set_condition(
        status, kind, "False", reason=reason, message=message, generation=generation
    )


def mark_unknown(
    status: dict[str, Any], kind: str, *, reason: str, message: str, generation: int | None
) -> dict[str, Any]:
    """Set ``kind`` to Unknown."""
    return set_condition(
        status, kind, "Unknown", reason=reason, message=message, generation=generation
    )


def delete(status: dict[str, Any], kind: str) -> None:
    """Remove ``kind``; abnormal-true conditions are removed rather than set False."""
    conditions = status.get("conditions")
    if conditions:
        status["conditions"] = [c for c in conditions if c.get("type") != kind]


def mark_reconciling(
    status: dict[str, Any], *, reason: str, message: str, generation: int | None
) -> None:
    """Mark a reconcile under way: ``Reconciling=True`` and ``Stalled`` removed."""
    delete(status, reasons.STALLED)
    mark_true(status, reasons.RECONCILING, reason=reason, message=message, generation=generation)


def mark_stalled(
    status: dict[str, Any], *, reason: str, message: str, generation: int | None
) -> None:
    """Mark a reconcile that cannot progress: ``Stalled=True`` and ``Reconciling`` removed."""
    delete(status, reasons.RECONCILING)
    mark_true(status, reasons.STALLED, reason=reason, message=message, generation=generation)
