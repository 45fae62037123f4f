"""Read conditions from a ``status`` mapping without changing it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["find", "is_false", "is_true", "is_unknown", "reason", "status_of"]


def find(status: Mapping[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """Return the condition of type ``kind``, or None when absent."""
    for condition in (status or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return condition
    return None


def status_of(status: Mapping[str, Any] | None, kind: str) -> str | None:
    """Return "True", "False" or "Unknown" for ``kind``; None when the condition is absent."""
    condition = find(status, kind)
    return condition.get("status") if condition else None


def is_true(status: Mapping[str, Any] | None, kind: str) -> bool:
    """Tell whether ``kind`` is present and True."""
    return status_of(status, kind) == "True"


def is_false(status: Mapping[str, Any] | None, kind: str) -> bool:
    """Tell whether ``kind`` is present and False."""
    return status_of(status, kind) == "False"


def is_unknown(status: Mapping[str, Any] | None, kind: str) -> bool:
    """Tell whether ``kind`` is absent or Unknown, as kstatus treats both."""
    return status_of(status, kind) in (None, "Unknown")


def reason(status: Mapping[str, Any] | None, kind: str) -> str | None:
    """Return the reason of ``kind``, or None when absent."""
    condition = find(status, kind)
    return condition.get("reason") if condition else None
