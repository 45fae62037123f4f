"""How a kind's pipeline reports its outcome to the object lifecycle around it.

A pipeline returns :class:`Succeeded` or :class:`Waiting`, or raises :class:`StepFailed` (a step
failed; retried with backoff) or :class:`Stalled` (bad configuration; not retried). Each carries
the one condition reason that names what happened; the lifecycle turns it into conditions,
events and a requeue in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from tide.api import reasons
from tide.runtime.reconcile import TerminalError

__all__ = [
    "IN_PROGRESS",
    "Outcome",
    "Pipeline",
    "Progress",
    "Stalled",
    "StepFailed",
    "Succeeded",
    "Waiting",
    "parse_object",
]

IN_PROGRESS = "Reconciliation in progress"
"""``Ready=Unknown``'s message while work is under way (Flux's words; clients match on them)."""


@dataclass(frozen=True)
class Succeeded:
    """The object reached its desired state: ``Ready=True`` with ``reason`` and ``message``.

    ``event_reason`` and ``event_message`` replace the Normal event the lifecycle records, for
    kinds whose users expect a specific one (a source's ``NewArtifact``).
    """

    reason: str
    message: str
    event_reason: str | None = None
    event_message: str | None = None


@dataclass(frozen=True)
class Waiting:
    """Something outside is not ready yet: ``Ready=False``, look again after ``retry_after`` s.

    A ``silent`` wait writes and records nothing: it is expected to end soon, a watch wakes the
    object when it does, and the pipeline reports it as a plain wait if it lasts
    (:class:`~tide.runtime.firstartifact.FirstArtifactWait`).
    """

    reason: str
    message: str
    retry_after: float
    silent: bool = False


Outcome = Succeeded | Waiting


class StepFailed(Exception):
    """A step failed in a way worth retrying; ``reason`` becomes the Ready condition's reason.

    ``retry_after`` (seconds) asks for the next attempt at a fixed time, as a Kustomization's
    ``retryInterval`` does; without it the controller's exponential backoff decides.
    """

    reason: str = reasons.RECONCILIATION_FAILED
    retry_after: float | None = None

    def __init__(
        self, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.retry_after = retry_after


class Stalled(TerminalError):
    """The spec cannot work as written; ``Stalled=True`` until it changes.

    ``Ready=False`` carries the same reason and message, unless ``ready_reason`` /
    ``ready_message`` say what failed in other words (a HelmRelease stalled on spent retries
    reads ``Stalled`` ``RetriesExceeded`` but ``Ready`` ``UpgradeFailed``, as Flux reports it).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        ready_reason: str | None = None,
        ready_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.ready_reason = ready_reason or reason
        self.ready_message = ready_message or message


class Progress(Protocol):
    """Show a reconcile's phase boundaries on the object while it works.

    A long reconcile (a build, a health check that may take ``spec.timeout``) would otherwise
    show its previous verdict until the end, and ``kubectl get`` / ``flux get`` / Argo CD read
    that stale verdict as the current one. A mark writes ``Reconciling=True`` with the phase's
    message and ``Ready=Unknown`` (:data:`IN_PROGRESS`), together with whatever the pipeline has
    put in ``status`` so far (an inventory, a ``Healthy`` condition).

    Marks are written only for new work — a new generation, a ``requestedAt`` request, or what
    the pipeline itself calls new (``new_work=True``: a new source revision, objects changed by
    the apply). A periodic reconcile that finds nothing new writes nothing.
    """

    @property
    def active(self) -> bool:
        """Whether this reconcile is new work, so that marks are being written."""
        ...

    async def mark(self, message: str, *, new_work: bool = False) -> None:
        """Write ``message`` as the current phase, if this reconcile is (or becomes) new work."""
        ...

    async def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        """Record an event now rather than when the reconcile ends (a change set).

        Normal unless ``warning``: a step that failed and was remediated (a Helm upgrade
        rolled back) reports the failure as it happens, before the verdict.
        """
        ...


class Pipeline(Protocol):
    """The kind-specific part of a reconciler: the steps between the guards and the report.

    A pipeline whose class sets ``marks_progress = True`` makes its own first progress mark
    early (before any slow step); the lifecycle then skips its generic "in progress" mark,
    saving a status write per reconcile of new work. A pipeline with a ``forget(namespace,
    name)`` method has it called when an object is suspended or gone from the cache, to drop
    per-object state kept between reconciles.
    """

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Reconcile ``obj``; record results (artifact, inventory…) in ``status`` as you go.

        ``progress`` marks phase boundaries on the object while the reconcile is long.
        """
        ...

    async def finalize(self, obj: dict[str, Any]) -> Waiting | None:
        """Clean up before ``obj`` is deleted (garbage-collect what it made).

        Return :class:`Waiting` to keep the finalizer and look again later (something else
        must go first); None lets the deletion finish.
        """
        ...


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_object(model: type[ModelT], obj: dict[str, Any]) -> ModelT:
    """Parse ``obj`` into ``model``; a spec the model refuses stalls with every field named.

    The API server validates against the same schema, so this fails only for rules the CRD
    cannot express; retrying cannot help until the spec changes.
    """
    try:
        return model.model_validate(obj)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise Stalled(
            f"invalid {obj.get('kind') or model.__name__}: {problems}",
            reason=reasons.INVALID_CONFIG,
        ) from error
