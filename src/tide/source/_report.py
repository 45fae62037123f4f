"""The reports every source kind shares: artifact stored, storage failed; and its cleanup."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tide.api import conditions, reasons
from tide.artifacts import Storage, StorageError
from tide.runtime.steps import StepFailed, Succeeded

__all__ = ["mark_stored", "remove_artifacts", "storage_failed", "stored"]


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


def stored(
    status: dict[str, Any],
    *,
    failure_types: Iterable[str],
    message: str,
    generation: int | None,
    event: tuple[str, str] | None,
) -> Succeeded:
    """Mark the artifact stored and return the outcome, with ``event`` when one is due."""
    mark_stored(
        status,
        failure_types=failure_types,
        reason=reasons.SUCCEEDED,
        message=message,
        generation=generation,
    )
    return Succeeded(
        reason=reasons.SUCCEEDED,
        message=message,
        event_reason=event[0] if event else None,
        event_message=event[1] if event else None,
    )


def storage_failed(
    status: dict[str, Any], error: StorageError, *, generation: int | None
) -> StepFailed:
    """Mark ``StorageOperationFailed`` and return the failure to raise (retried with backoff).

    Every source kind reports a full, read-only or unwritable storage this one way, with the
    sentence :class:`StorageError` carries; ``status.artifact`` is left as it was, so the
    previous artifact stays published.
    """
    message = str(error)
    conditions.mark_true(
        status,
        reasons.STORAGE_OPERATION_FAILED,
        reason=reasons.STORAGE_OPERATION_FAILED,
        message=message,
        generation=generation,
    )
    return StepFailed(message, reason=reasons.STORAGE_OPERATION_FAILED)


def remove_artifacts(storage: Storage, kind: str, obj: dict[str, Any]) -> None:
    """Delete a deleted object's artifacts from storage (every source kind's finalizer)."""
    metadata = obj["metadata"]
    storage.remove_all(kind, metadata.get("namespace") or "default", metadata["name"])
