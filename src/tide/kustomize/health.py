"""Health of what a Kustomization applied: ``wait``, ``healthChecks``, ``healthCheckExprs``.

kstatus rules read built-in kinds and anything with kstatus conditions; ``healthCheckExprs``
(CEL) decide for the kinds they name. A wait can be cut short by its caller (``stop``) when
waiting no longer helps: a newer revision, a changed spec, a deletion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tide.api import conditions, reasons
from tide.api.kustomize import Kustomization
from tide.api.meta import format_duration, parse_duration
from tide.kube.ssa import ChangeSet, ResourceManager
from tide.kube.ssa.health_exprs import HealthExpressionError, compile_expressions
from tide.kube.ssa.wait import Judge, WaitCanceled
from tide.runtime.steps import Progress, Stalled, StepFailed

__all__ = ["Stop", "check", "compile_rules"]

Stop = Callable[[], str | None]
"""Asked before each look; a reason ends the wait."""


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


async def check(
    kustomization: Kustomization,
    manager: ResourceManager,
    changes: ChangeSet,
    *,
    status: dict[str, Any],
    progress: Progress,
    message: str,
    judge: Judge | None,
    stop: Stop,
) -> None:
    """Wait for what ``spec.wait`` or ``spec.healthChecks`` names to be healthy.

    The verdict is kept in the ``Healthy`` condition (Flux's): ``Unknown`` with ``message``
    while a check of new work runs (marked through ``progress``, so readers see it at once),
    then ``True`` or ``False``. Without ``wait`` or ``healthChecks`` there is no such
    condition. The messages carry no timings, so a repeat check of the same revision leaves
    the condition as it was and writes nothing.

    Raises:
        StepFailed: HealthCheckFailed naming each object not healthy at the timeout, or
            HealthCheckCanceled when ``stop`` ended the wait.
    """
    spec = kustomization.spec
    targets = _targets(kustomization, changes)
    if targets is None:
        conditions.delete(status, reasons.HEALTHY)
        return

    def healthy(value: conditions.ConditionStatus, reason: str, verdict: str) -> None:
        generation = kustomization.metadata.generation
        conditions.set_condition(
            status, reasons.HEALTHY, value, reason=reason, message=verdict, generation=generation
        )

    if progress.active or changes.changed:
        healthy("Unknown", reasons.PROGRESSING, message)
        await progress.mark(message, new_work=changes.changed)
    timeout = parse_duration(spec.timeout or spec.interval)
    try:
        problems = await manager.wait(targets, timeout, judge=judge, stop=stop)
    except WaitCanceled as canceled:
        # Whatever made waiting pointless has queued the Kustomization again: the next
        # attempt comes at once.
        raise StepFailed(
            f"health check canceled: {canceled}", reason=reasons.HEALTH_CHECK_CANCELED
        ) from canceled
    if problems:
        failure = f"health check failed after {format_duration(timeout)}: " + "; ".join(problems)
        healthy("False", reasons.HEALTH_CHECK_FAILED, failure)
        raise StepFailed(failure, reason=reasons.HEALTH_CHECK_FAILED)
    healthy("True", reasons.SUCCEEDED, "Health check passed")


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
