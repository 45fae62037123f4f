"""The part of every Flux-kind reconciler that is the same for all kinds.

Guards first — deleting → finalize; no finalizer → add it; suspended → stop — then the kind's
:class:`~tide.runtime.steps.Pipeline`, then one report: conditions, ``observedGeneration``,
``lastHandledReconcileAt``, events, the next requeue. Status is written once with the result,
plus a progress mark at each phase boundary when something new is being reconciled (one for most
kinds; a Kustomization marks fetch, build and health check), and not at all when nothing changed.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from tide.api import conditions, reasons
from tide.api.keys import FINALIZER, REQUESTED_AT
from tide.api.meta import parse_duration
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType
from tide.runtime import logfields, metrics
from tide.runtime.events import EventRecorder
from tide.runtime.ownwrites import CATCH_UP, OwnWrites
from tide.runtime.reconcile import Request, Result
from tide.runtime.status import StatusWriter
from tide.runtime.steps import IN_PROGRESS, Pipeline, Stalled, StepFailed, Succeeded, Waiting

__all__ = ["ObjectReconciler"]

log = logging.getLogger(__name__)


_JITTER = 0.05
"""Interval requeues vary by ±5% so objects created together do not reconcile in lockstep."""


@dataclass(kw_only=True, eq=False)
class ObjectReconciler:
    """Reconcile one Flux kind: guards, the kind's pipeline, and the status report."""

    rt: ResourceType
    """The kind's resource type."""
    client: KubeClient
    """The API client (writes status, finalizers)."""
    cache: WatchCache
    """The kind's watch cache; objects are read from it, never fetched."""
    recorder: EventRecorder
    """Where events go."""
    pipeline: Pipeline
    """The kind-specific steps."""
    own_writes: OwnWrites = field(default_factory=OwnWrites)
    """What this reconciler last wrote of each object, to spot a cache not caught up yet."""

    async def reconcile(self, request: Request) -> Result:
        """Run the guards, the pipeline and the report for ``request``."""
        obj = self.cache.get(request.namespace, request.name)
        if obj is None:  # deleted (without our finalizer, or after it): nothing to resume
            self._forget(request)
            self.own_writes.forget(request)
            return Result()
        if self.own_writes.behind(request, obj):  # it would undo our last write: wait for it
            return Result(requeue_after=CATCH_UP)
        before = obj["metadata"].get("resourceVersion")
        try:
            return await self._reconcile(request, obj)
        finally:
            self.own_writes.left(request, before, obj)

    async def _reconcile(self, request: Request, obj: dict[str, Any]) -> Result:
        labels = {"kind": self.rt.kind, "name": request.name, "namespace": request.namespace}
        metadata = obj["metadata"]
        if metadata.get("deletionTimestamp"):
            return await self._finalize(obj)
        if FINALIZER not in (metadata.get("finalizers") or []):
            finalizers = [*(metadata.get("finalizers") or []), FINALIZER]
            added = await self._set_finalizers(obj, finalizers)
            obj.clear()  # in place: the caller notes the version this reconcile leaves behind
            obj.update(added)
        suspended = bool((obj.get("spec") or {}).get("suspend"))
        metrics.SUSPEND_STATUS.labels(**labels).set(1 if suspended else 0)
        if suspended:
            log.info("%s %s: reconciliation is suspended", self.rt.kind, request,
                     extra=logfields.about(obj, kind=self.rt.kind))  # fmt: skip
            self._forget(request)
            return Result()
        started = time.monotonic()
        try:
            return await self._run(obj)
        finally:
            metrics.RECONCILE_DURATION.labels(**labels).observe(time.monotonic() - started)

    def _forget(self, request: Request) -> None:
        """Let the pipeline drop its memory of an object it will not run for now (optional)."""
        forget = getattr(self.pipeline, "forget", None)
        if forget is not None:
            forget(request.namespace, request.name)

    async def _run(self, obj: dict[str, Any]) -> Result:
        writer = StatusWriter(self.client, self.rt, obj, field_manager=self.recorder.component)
        generation = obj["metadata"].get("generation")
        requested_at = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
        status = writer.status
        # Taken before the progress mark: events compare the verdict with the last one reported.
        before = conditions.find(status, reasons.READY)
        before = dict(before) if before else None
        progress = _ProgressMarks(writer, self.recorder, obj)
        if _is_new_work(status, generation, requested_at):
            if getattr(self.pipeline, "marks_progress", False):
                progress.begin()  # its own first mark, moments away, says more
            else:
                await progress.mark(IN_PROGRESS, new_work=True)
        if requested_at is not None:
            status["lastHandledReconcileAt"] = requested_at
        try:
            outcome = await self.pipeline.run(obj, status, progress)
        except Stalled as error:
            conditions.mark_stalled(
                status, reason=error.reason, message=str(error), generation=generation
            )
            writer.mark(
                reasons.READY, "False", reason=error.ready_reason, message=error.ready_message
            )
            await self._report(obj, writer, before, settled=True, warning=True)
            raise
        except StepFailed as error:
            self._mark_retrying(writer, error.reason, str(error))
            await self._report(obj, writer, before, settled=False, warning=True)
            if error.retry_after is not None:
                log.warning("%s failed, retrying in %gs: %s", _name(obj), error.retry_after, error,
                            extra=logfields.about(obj))  # fmt: skip
                return Result(requeue_after=error.retry_after)
            raise
        except Exception as error:
            # Anything else (an API error, a bug) still reaches the object: Ready=False with the
            # cause, so a user never sees a stale Ready=True while retries fail behind it.
            self._mark_retrying(writer, reasons.RECONCILIATION_FAILED, _describe(error))
            try:
                await self._report(obj, writer, before, settled=False, warning=True)
            except Exception:
                log.exception("%s: could not report a failed reconcile", _name(obj),
                              extra=logfields.about(obj))  # fmt: skip
            raise
        if isinstance(outcome, Waiting) and outcome.silent:
            # No verdict to report; only what the pipeline recorded (an inventory) is kept.
            log.debug("%s waits: %s", _name(obj), outcome.message)
            if writer.changed:
                await writer.flush()
            return Result(requeue_after=outcome.retry_after)
        if isinstance(outcome, Waiting):
            self._mark_retrying(writer, outcome.reason, outcome.message)
            await self._report(obj, writer, before, settled=False, warning=False)
            return Result(requeue_after=outcome.retry_after)
        assert isinstance(outcome, Succeeded)
        conditions.delete(status, reasons.RECONCILING)
        conditions.delete(status, reasons.STALLED)
        writer.mark(reasons.READY, "True", reason=outcome.reason, message=outcome.message)
        event = (
            (outcome.event_reason, outcome.event_message or "") if outcome.event_reason else None
        )
        await self._report(obj, writer, before, settled=True, warning=False, event=event)
        interval = _interval(obj)
        # A zero interval means "only on change", as Flux treats a zero requeue.
        return Result(requeue_after=_jittered(interval) if interval > 0 else None)

    @staticmethod
    def _mark_retrying(writer: StatusWriter, reason: str, message: str) -> None:
        """Record a failure that will be retried.

        ``Reconciling=True`` (ProgressingWithRetry) stays only while this generation has not
        settled yet; a failure of an already-reconciled generation (a source gone unreachable)
        is just ``Ready=False``, as Flux reports it and as kstatus expects.
        """
        status = writer.status
        conditions.delete(status, reasons.STALLED)
        if status.get("observedGeneration") == writer.generation:
            conditions.delete(status, reasons.RECONCILING)
        else:
            writer.mark(
                reasons.RECONCILING, "True", reason=reasons.PROGRESSING_WITH_RETRY, message=message
            )
        writer.mark(reasons.READY, "False", reason=reason, message=message)

    async def _report(
        self,
        obj: dict[str, Any],
        writer: StatusWriter,
        before: dict[str, Any] | None,
        *,
        settled: bool,
        warning: bool,
        event: tuple[str, str] | None = None,
    ) -> None:
        """Write the status once and record the event the outcome deserves.

        The root ``observedGeneration`` moves only when the generation settled (Ready or
        Stalled), as in Flux: a failed generation stays "in progress" for kstatus readers.
        """
        if settled:
            writer.status["observedGeneration"] = obj["metadata"].get("generation")
        await writer.flush()
        after = conditions.find(writer.status, reasons.READY) or {}
        changed = before is None or any(
            before.get(key) != after.get(key) for key in ("status", "reason", "message")
        )
        if event is not None:
            await self.recorder.record(obj, type="Normal", reason=event[0], message=event[1])
        elif warning or changed:
            await self.recorder.record(
                obj,
                type="Warning" if warning else "Normal",
                reason=after.get("reason", ""),
                message=after.get("message", ""),
            )

    async def _finalize(self, obj: dict[str, Any]) -> Result:
        metadata = obj["metadata"]
        finalizers = metadata.get("finalizers") or []
        if FINALIZER in finalizers:
            try:
                waiting = await self.pipeline.finalize(obj)
            except StepFailed as error:
                await self._report_deletion(obj, error.reason, str(error), warning=True)
                raise
            if waiting is not None:
                log.info("%s: deletion waits: %s", _name(obj), waiting.message,
                         extra=logfields.about(obj))  # fmt: skip
                await self._report_deletion(obj, waiting.reason, waiting.message, warning=False)
                return Result(requeue_after=waiting.retry_after)
            await self._set_finalizers(obj, [f for f in finalizers if f != FINALIZER])
        labels = (self.rt.kind, metadata["name"], metadata.get("namespace") or "")
        for metric in (metrics.SUSPEND_STATUS, metrics.RECONCILE_DURATION):
            with contextlib.suppress(KeyError):
                metric.remove(*labels)
        return Result()

    async def _report_deletion(
        self, obj: dict[str, Any], reason: str, message: str, *, warning: bool
    ) -> None:
        """Show why a deletion has not finished in ``Ready`` and an event, not only in a log.

        Written only when the verdict changes, so a deletion polling for its dependents
        does not write on every look.
        """
        writer = StatusWriter(self.client, self.rt, obj, field_manager=self.recorder.component)
        before = dict(conditions.find(writer.status, reasons.READY) or {})
        writer.mark(reasons.READY, "False", reason=reason, message=message)
        if not writer.changed:
            return
        try:
            await writer.flush()
        except KubeError as error:  # the object may be gone already; the deletion goes on
            log.info("%s: could not report the deletion's state: %s", _name(obj), error)
            return
        if before.get("reason") != reason or before.get("message") != message:
            await self.recorder.record(
                obj, type="Warning" if warning else "Normal", reason=reason, message=message
            )

    async def _set_finalizers(self, obj: dict[str, Any], finalizers: list[str]) -> dict[str, Any]:
        metadata = obj["metadata"]
        # resourceVersion makes the merge patch fail on a concurrent change instead of dropping
        # a finalizer someone else just added.
        patch = {
            "metadata": {"finalizers": finalizers, "resourceVersion": metadata["resourceVersion"]}
        }
        return await self.client.patch_merge(
            self.rt, metadata["name"], patch, namespace=metadata.get("namespace")
        )


class _ProgressMarks:
    """The lifecycle's :class:`~tide.runtime.steps.Progress`: marks written through ``writer``."""

    def __init__(self, writer: StatusWriter, recorder: EventRecorder, obj: dict[str, Any]) -> None:
        self._writer = writer
        self._recorder = recorder
        self._obj = obj
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def begin(self) -> None:
        """Treat this reconcile as new work without writing a mark yet."""
        self._active = True

    async def mark(self, message: str, *, new_work: bool = False) -> None:
        self._active = self._active or new_work
        if not self._active:
            return
        writer = self._writer
        conditions.delete(writer.status, reasons.STALLED)
        writer.mark(reasons.RECONCILING, "True", reason=reasons.PROGRESSING, message=message)
        writer.mark(reasons.READY, "Unknown", reason=reasons.PROGRESSING, message=IN_PROGRESS)
        await writer.flush()

    async def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        kind = "Warning" if warning else "Normal"
        await self._recorder.record(self._obj, type=kind, reason=reason, message=message)


def _is_new_work(status: dict[str, Any], generation: int | None, requested_at: str | None) -> bool:
    """Tell whether this reconcile is for something not yet reported (worth a progress mark).

    A retry of a generation that already carries ``Reconciling`` for it is not new work, so a
    failing object does not flap between ``Ready=Unknown`` and ``Ready=False`` on every retry.
    """
    if requested_at is not None and requested_at != status.get("lastHandledReconcileAt"):
        return True
    if conditions.find(status, reasons.READY) is None:
        return True
    if status.get("observedGeneration") == generation:
        return False
    reconciling = conditions.find(status, reasons.RECONCILING)
    return reconciling is None or reconciling.get("observedGeneration") != generation


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, KubeError) else f"{type(error).__name__}: {text}"


def _name(obj: dict[str, Any]) -> str:
    metadata = obj["metadata"]
    return f"{obj.get('kind')} {metadata.get('namespace')}/{metadata['name']}"


def _interval(obj: dict[str, Any]) -> float:
    text = (obj.get("spec") or {}).get("interval")
    if not text:
        return 600.0
    try:
        return parse_duration(text)
    except ValueError:
        return 600.0


def _jittered(seconds: float) -> float:
    return seconds * random.uniform(1 - _JITTER, 1 + _JITTER)
