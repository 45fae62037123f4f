"""Health of what a Kustomization applied: ``wait``, ``healthChecks``, ``healthCheckExprs``.

kstatus rules read built-in kinds and anything with kstatus conditions; ``healthCheckExprs``
(CEL) decide for the kinds they name. A check is a series of looks, not a wait: between them
the Kustomization gives its worker back (the reconciler keeps the :class:`Pending` check,
parked on watches of its objects' kinds: :mod:`tide.runtime.wakeups`), so ``--concurrent``
bounds work rather than waiting, and a newer revision, a changed spec or a deletion simply
replaces the check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from tide.api import conditions, reasons
from tide.api.kustomize import Kustomization
from tide.api.meta import format_duration, parse_duration
from tide.kube.ssa import ChangeSet, ResourceManager, wait
from tide.kube.ssa.changeset import subject
from tide.kube.ssa.health_exprs import HealthExpressionError, compile_expressions
from tide.kube.ssa.wait import Judge
from tide.runtime.steps import Progress, Stalled, StepFailed

__all__ = ["Pending", "check", "compile_rules", "resume"]


def compile_rules(kustomization: Kustomization) -> Judge | None:
    """Compile ``healthCheckExprs``; an expression that does not parse stalls the Kustomization."""
    entries = kustomization.spec.health_check_exprs
    if not entries:
        return None
    try:
        rules = compile_expressions(
            [entry.model_dump(by_alias=True, exclude_none=True) for entry in entries]
        )
    except HealthExpressionError as error:
        raise Stalled(str(error), reason=reasons.INVALID_CEL_EXPRESSION) from error
    return rules.evaluate


@dataclass(frozen=True)
class Pending:
    """A health check still under way after a look: what to look at again, and until when."""

    targets: list[dict[str, Any]]
    """The objects not healthy at the last look (identity only; each look reads them).

    Each keeps the resourceVersion its apply returned, if any: the least version a look may
    judge."""
    timeout: float
    """``spec.timeout`` in seconds, for the failure message."""
    deadline: float
    """``time.monotonic()`` past which the check fails."""
    judge: Judge | None
    """Compiled ``healthCheckExprs``, if any."""


async def check(
    kustomization: Kustomization,
    manager: ResourceManager,
    changes: ChangeSet,
    *,
    status: dict[str, Any],
    progress: Progress,
    message: str,
    judge: Judge | None,
) -> Pending | None:
    """Start the check of what ``spec.wait`` or ``spec.healthChecks`` names: one look.

    The verdict is kept in the ``Healthy`` condition (Flux's): ``Unknown`` with ``message``
    while a check of new work runs (marked through ``progress``, so readers see it at once),
    then ``True`` or ``False``. Without ``wait`` or ``healthChecks`` there is no such
    condition. The messages carry no timings, so a repeat check of the same revision leaves
    the condition as it was and writes nothing.

    Returns None when every object is healthy (or nothing is checked), else the
    :class:`Pending` check for :func:`resume` to look at again: the caller gives its worker
    back meanwhile instead of waiting here.

    Raises:
        StepFailed: HealthCheckFailed when an object failed (waiting will not help).
    """
    spec = kustomization.spec
    targets = _targets(kustomization, changes)
    if targets is None:
        conditions.delete(status, reasons.HEALTHY)
        return None
    if progress.active or changes.changed:
        _healthy(kustomization, status, "Unknown", reasons.PROGRESSING, message)
        await progress.mark(message, new_work=changes.changed)
    timeout = parse_duration(spec.timeout or spec.interval)
    pending = Pending(targets, timeout, time.monotonic() + timeout, judge)
    return await resume(kustomization, manager, pending, status=status, fresh=True)


async def resume(
    kustomization: Kustomization,
    manager: ResourceManager,
    pending: Pending,
    *,
    status: dict[str, Any],
    fresh: bool = False,
    cached: wait.Lookup | None = None,
) -> Pending | None:
    """Look again at a :class:`Pending` check; as :func:`check` returns and raises.

    With ``fresh``, objects carrying a ``resourceVersion`` (the apply's replies) are judged
    as they are, without a read; ``cached`` (a watch the check is parked on) serves the
    reads it can.

    Raises:
        StepFailed: HealthCheckFailed naming each object not healthy once the timeout has
            passed, or one that failed.
    """
    verdicts = await wait.look(
        manager, pending.targets, judge=pending.judge, fresh=fresh, cached=cached
    )
    left = [obj for obj in pending.targets if not verdicts[subject(obj)].ready]
    if not left:
        _healthy(kustomization, status, "True", reasons.SUCCEEDED, "Health check passed")
        return None
    failed = all(verdicts[subject(obj)].health is wait.Health.FAILED for obj in left)
    if failed or time.monotonic() >= pending.deadline:
        problems = "; ".join(f"{subject(obj)}: {verdicts[subject(obj)].message}" for obj in left)
        failure = f"health check failed after {format_duration(pending.timeout)}: {problems}"
        _healthy(kustomization, status, "False", reasons.HEALTH_CHECK_FAILED, failure)
        raise StepFailed(failure, reason=reasons.HEALTH_CHECK_FAILED)
    return replace(pending, targets=[_identity(obj) for obj in left])


def _healthy(
    kustomization: Kustomization,
    status: dict[str, Any],
    value: conditions.ConditionStatus,
    reason: str,
    verdict: str,
) -> None:
    generation = kustomization.metadata.generation
    conditions.set_condition(
        status, reasons.HEALTHY, value, reason=reason, message=verdict, generation=generation
    )


def _identity(obj: dict[str, Any]) -> dict[str, Any]:
    """What a later look needs to read an object again: its kind and name, not its state.

    And the resourceVersion of the apply's reply, when there was one: a later look must not
    judge a watch's copy from before the apply (:func:`wait.look`).
    """
    metadata = obj.get("metadata") or {}
    identity = {"name": metadata.get("name"), "namespace": metadata.get("namespace")}
    if metadata.get("resourceVersion"):
        identity["resourceVersion"] = metadata["resourceVersion"]
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": identity}


def _targets(kustomization: Kustomization, changes: ChangeSet) -> list[dict[str, Any]] | None:
    """Return the objects to judge, or None when the spec asks for no health check."""
    spec = kustomization.spec
    if spec.wait:
        # The apply's replies: the first look needs no read.
        return [dict(entry.stored) for entry in changes.entries if entry.stored is not None]
    if spec.health_checks:
        return [
            {
                "apiVersion": ref.api_version or "v1",
                "kind": ref.kind,
                "metadata": {"name": ref.name, "namespace": ref.namespace},
            }
            for ref in spec.health_checks
        ]
    return None
