"""What happens after a failed Helm action: count it, remediate it, give up when told to.

A failed install is uninstalled, a failed upgrade rolled back (or uninstalled, as
``upgrade.remediation.strategy`` says), while ``remediation.retries`` allow another attempt;
once they are spent the release stalls with ``RetriesExceeded`` (remediated first when
``remediateLastFailure`` asks, which it does by default for upgrades with retries).

Under ``strategy: {name: RetryOnFailure}`` (Flux 2.7) nothing is remediated and nothing stalls:
the failure is counted and the action tried again after ``retryInterval``, for workloads a
rollback or uninstall would hurt more than a failed revision left in place.

A revision left ``pending-install`` / ``pending-upgrade`` / ``pending-rollback`` by a controller
that died mid-action blocks every Helm action ("another operation is in progress").
:func:`recover` unlocks it without a person: a pending install is uninstalled (to be installed
again), a pending upgrade or rollback is rolled back to the last revision that was deployed; an
event says which.
"""

from __future__ import annotations

from typing import Any

from tide.api import conditions, reasons
from tide.api.helm import HelmRelease
from tide.api.meta import parse_duration
from tide.helm import history
from tide.helm.request import ReleaseRequest, action_options
from tide.helm.sdk import ActionError, Helm, Release
from tide.runtime.steps import Progress, Stalled, StepFailed

__all__ = ["exhausted", "exhausted_message", "fail", "recover", "retry_interval"]

_DEFAULT_RETRY_INTERVAL = 300.0
"""Seconds between attempts under ``RetryOnFailure`` when ``retryInterval`` is not set (5m)."""


def retry_interval(release: HelmRelease, action: str) -> float | None:
    """Seconds before a failed ``action`` is tried again under ``RetryOnFailure``, else None."""
    spec = release.spec.install if action == "install" else release.spec.upgrade
    strategy = spec.strategy if spec else None
    if strategy is None or strategy.name != "RetryOnFailure":
        return None
    if strategy.retry_interval is None:
        return _DEFAULT_RETRY_INTERVAL
    return parse_duration(strategy.retry_interval)


def _retries(release: HelmRelease, action: str) -> tuple[int, bool]:
    """(retries, remediateLastFailure) for ``action``, with Flux's defaults."""
    spec = release.spec.install if action == "install" else release.spec.upgrade
    remediation = spec.remediation if spec else None
    retries = (remediation.retries if remediation else None) or 0
    last = remediation.remediate_last_failure if remediation else None
    if last is None:
        last = action == "upgrade" and retries > 0
    return retries, last


def exhausted(release: HelmRelease, action: str, status: dict[str, Any]) -> bool:
    """Whether ``action`` failed more often than its ``remediation.retries`` allow.

    Never under ``RetryOnFailure``, which retries without a limit.
    """
    if retry_interval(release, action) is not None:
        return False
    retries, _ = _retries(release, action)
    failures = status.get(f"{action}Failures") or 0
    return retries >= 0 and failures > retries


def exhausted_message(action: str, status: dict[str, Any]) -> str:
    """``Failed to upgrade after 2 attempt(s)``, as Flux words it."""
    return f"Failed to {action} after {status.get(f'{action}Failures') or 0} attempt(s)"


async def fail(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    action: str,
    reason: str,
    message: str,
) -> None:
    """Count a failure of ``action`` (or of its tests), remediate as configured, raise."""
    key = f"{action}Failures"
    status[key] = (status.get(key) or 0) + 1
    status["failures"] = (status.get("failures") or 0) + 1
    retry = retry_interval(request.release, action)
    if retry is not None:  # RetryOnFailure: leave the failed revision, try again later
        raise StepFailed(message, reason=reason, retry_after=retry)
    _, remediate_last = _retries(request.release, action)
    spent = exhausted(request.release, action, status)
    if not spent or remediate_last:
        await _remediate(helm, request, status, progress, action)
    if spent:
        raise Stalled(
            exhausted_message(action, status),
            reason=reasons.RETRIES_EXCEEDED,
            ready_reason=reason,
            ready_message=message,
        )
    raise StepFailed(message, reason=reason)


async def _remediate(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    action: str,
) -> None:
    """Undo a failed action: uninstall a failed install, roll a failed upgrade back."""
    where = {"namespace": request.namespace, "user": request.user}
    spec = request.release.spec
    strategy = "uninstall"
    if action == "upgrade":
        remediation = spec.upgrade.remediation if spec.upgrade else None
        strategy = (remediation.strategy if remediation else None) or "rollback"
    try:
        if strategy == "rollback":
            good = await _last_deployed(helm, request, status)
            if good is None:
                return
            options = action_options(request.release, spec.rollback)
            await helm.rollback(request.name, good, **where, options=options)
            rolled = await helm.get(request.name, **where)
            assert rolled is not None
            history.record(status, history.snapshot(rolled))
            chart = f"{rolled.chart_name}@{rolled.chart_version}"
            message = f"Helm rollback to previous release {rolled.ref} with chart {chart} succeeded"
            reason = reasons.ROLLBACK_SUCCEEDED
        else:
            options = action_options(request.release, spec.uninstall)
            await helm.uninstall(request.name, **where, options=options)
            message = f"Helm uninstall succeeded for release {request.namespace}/{request.name}"
            reason = reasons.UNINSTALL_SUCCEEDED
    except ActionError as error:
        failed = reasons.ROLLBACK_FAILED if strategy == "rollback" else reasons.UNINSTALL_FAILED
        message = f"Helm {strategy} failed for release {request.namespace}/{request.name}: {error}"
        conditions.mark_false(
            status,
            reasons.REMEDIATED,
            reason=failed,
            message=message,
            generation=request.generation,
        )
        await progress.event(failed, message, warning=True)
        return
    conditions.mark_true(
        status, reasons.REMEDIATED, reason=reason, message=message, generation=request.generation
    )
    await progress.event(reason, message)


async def _last_deployed(
    helm: Helm, request: ReleaseRequest, status: dict[str, Any] | None = None
) -> int | None:
    """The newest revision that was deployed before (``superseded`` or ``deployed``).

    Not one whose objects never became ready while Tide waited for them: Helm recorded it
    ``deployed``, ``status.history`` says ``failed`` (:mod:`tide.helm.readiness`).
    """
    revisions = await helm.history(request.name, namespace=request.namespace, user=request.user)
    failed = {
        entry.get("version")
        for entry in (status or {}).get("history") or []
        if entry.get("status") == "failed"
        and (entry.get("name"), entry.get("namespace")) == (request.name, request.namespace)
    }
    good = [
        r
        for r in revisions
        if r.get("status") in ("deployed", "superseded") and int(r["revision"]) not in failed
    ]
    return int(good[-1]["revision"]) if good else None


async def recover(
    helm: Helm, request: ReleaseRequest, latest: Release, progress: Progress
) -> Release | None:
    """Unlock a revision an interrupted action left ``pending-*``; say what was done."""
    where = {"namespace": request.namespace, "user": request.user}
    options = action_options(request.release, request.release.spec.rollback)
    good = await _last_deployed(helm, request)
    if latest.status == "pending-install" or good is None:
        await helm.uninstall(request.name, **where, options=options)
        done = "uninstalled it, to install again"
    else:
        await helm.rollback(request.name, good, **where, options=options)
        done = f"rolled it back to revision {good}"
    message = (
        f"Helm release {latest.ref} was left '{latest.status}' by an interrupted action; {done}"
    )
    await progress.event(reasons.RELEASE_RECOVERED, message)
    return await helm.get(request.name, **where)
