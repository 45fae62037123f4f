"""The report every source kind makes once its artifact is in storage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tide.api import conditions, reasons

__all__ = ["mark_stored"]


def mark_stored(
    status: dict[str, Any],
    *,
    failure_types: Iterable[str],
    reason: str,
    message: str,
    generation: int | None,
) -> None:
    """Clear the kind's negative-polarity failure conditions and set ``ArtifactInStorage``."""
    for kind in failure_types:
        conditions.delete(status, kind)
    conditions.mark_true(
        status, reasons.ARTIFACT_IN_STORAGE, reason=reason, message=message, generation=generation
    )
