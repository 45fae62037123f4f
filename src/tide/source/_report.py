"""The reports every source kind shares: artifact stored, fetch or storage failed; cleanup.

Each failure is marked on its condition and returned as the exception to raise, so a call site
reads ``raise fetch_failed(...) from error`` and every kind fails the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tide.api import conditions, reasons
from tide.artifacts import Artifact, Storage, StorageError
from tide.kube.client import KubeClient
from tide.runtime.steps import Stalled, StepFailed, Succeeded

__all__ = [
    "FAILURE_TYPES",
    "ArtifactPipeline",
    "fetch_failed",
    "mark_stored",
    "record_observed",
    "remove_artifacts",
    "storage_failed",
    "store_artifact",
    "stored",
]

FAILURE_TYPES = (reasons.FETCH_FAILED, reasons.STORAGE_OPERATION_FAILED)
"""The failure conditions every source kind may carry (:func:`fetch_failed`,
:func:`storage_failed`); a kind adds its own, and a stored artifact clears them all."""


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
    observed: Mapping[str, Any] | None = None,
) -> Succeeded:
    """Mark the artifact stored and return the outcome, with ``event`` when one is due.

    ``observed`` holds the ``observed*`` fields the artifact was built with
    (:func:`record_observed`).
    """
    record_observed(status, observed or {})
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
    reason = reasons.STORAGE_OPERATION_FAILED
    return fetch_failed(status, str(error), reason=reason, generation=generation, condition=reason)


def fetch_failed(
    status: dict[str, Any],
    message: str,
    *,
    reason: str,
    generation: int | None,
    stall: bool = False,
    condition: str = reasons.FETCH_FAILED,
) -> StepFailed | Stalled:
    """Mark ``condition`` (``FetchFailed``) with ``reason`` and return the failure to raise.

    Args:
        status: the object's status, marked in place.
        message: what failed, for the condition and the ``Ready`` message.
        reason: Flux's reason for the failure.
        generation: the object's generation, recorded on the condition.
        stall: return :class:`Stalled` (retrying cannot help) instead of a failure retried with
            backoff. Default False.
        condition: the negative-polarity condition to mark. Default ``FetchFailed``.
    """
    conditions.mark_true(status, condition, reason=reason, message=message, generation=generation)
    if stall:
        return Stalled(message, reason=reason)
    return StepFailed(message, reason=reason)


def store_artifact(
    storage: Storage,
    kind: str,
    namespace: str,
    name: str,
    source: Path,
    **options: Any,
) -> Artifact:
    """Store ``source`` as the object's newest artifact, then drop the ones past retention.

    ``options`` are :meth:`Storage.store`'s (``revision``, ``metadata``, ``filename``).

    Raises:
        StorageError: the file system refused the write or a deletion.
    """
    artifact = storage.store(kind, namespace, name, source, **options)
    storage.collect_garbage(kind, namespace, name, current=artifact.path)
    return artifact


def record_observed(status: dict[str, Any], observed: Mapping[str, Any]) -> None:
    """Write the ``observed*`` fields an artifact was built with; a None value drops its field."""
    for key, value in observed.items():
        if value is None:
            status.pop(key, None)
        else:
            status[key] = value


def remove_artifacts(storage: Storage, kind: str, obj: dict[str, Any]) -> None:
    """Delete a deleted object's artifacts from storage (every source kind's finalizer)."""
    metadata = obj["metadata"]
    storage.remove_all(kind, metadata.get("namespace") or "default", metadata["name"])


@dataclass(kw_only=True, eq=False)
class ArtifactPipeline:
    """Base of the source pipelines: deleting an object removes its artifacts from storage.

    Each pipeline is a keyword-only dataclass of what it is built with, these two first.
    """

    kind: ClassVar[str]
    """The kind whose artifacts the pipeline stores (``GitRepository`` …)."""
    client: KubeClient
    """Reads the Secrets (and ServiceAccounts) the spec names."""
    storage: Storage
    """Where the kind's artifacts are stored and served from."""

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Delete the object's artifacts from storage."""
        remove_artifacts(self.storage, self.kind, obj)
