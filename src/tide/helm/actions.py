"""Decide and run the Helm action a HelmRelease needs: none, install, upgrade, or recovery.

The decision reads Helm's storage (the latest revision) and compares it with what the spec asks
for — chart version and values digest — the way Flux judges a release "in sync". In sync and
``deployed`` means no Helm action at all. Otherwise one action runs, and a failure counts
against ``remediation.retries``: a failed install is uninstalled, a failed upgrade rolled back
(or uninstalled, as ``upgrade.remediation.strategy`` says), and once the retries are spent the
release stalls with ``RetriesExceeded`` until its spec, chart or values change.

A revision left ``pending-install`` / ``pending-upgrade`` / ``pending-rollback`` by a controller
that died mid-action blocks every Helm action ("another operation is in progress"). Tide
recovers it without a person: a pending install is uninstalled and installed again; a pending
upgrade or rollback is rolled back to the last revision that was deployed; an event says which.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import conditions, reasons
from tide.api.helm import HelmRelease
from tide.api.meta import format_duration, parse_duration
from tide.helm import history
from tide.helm.sdk import ActionError, Helm, Options, Release
from tide.runtime.steps import Progress, Stalled, StepFailed, Succeeded

__all__ = ["ChartFile", "ReleaseRequest", "run_release"]

_DEFAULT_TIMEOUT = 300.0
_DEFAULT_MAX_HISTORY = 5

ChartFile = Callable[[], Awaitable[tuple[Path, str, str]]]
"""Fetch the chart; returns (path, chart name, chart version). Called only when an action runs."""


@dataclass(frozen=True)
class ReleaseRequest:
    """What the spec asks of Helm for one reconcile.

    Attributes:
        release: the HelmRelease.
        name: the Helm release name.
        namespace: the release (and storage) namespace.
        user: the identity Helm acts as (a ServiceAccount user), None for the controller's own.
        values: the composed values (may hold secrets: never logged).
        config_digest: their digest.
        chart_version: the chart version the source offers, when known without fetching it.
        revision: the source artifact's revision (``lastAttemptedRevision``).
    """

    release: HelmRelease
    name: str
    namespace: str
    user: str | None
    values: dict[str, Any]
    config_digest: str
    chart_version: str | None
    revision: str

    @property
    def generation(self) -> int | None:
        return self.release.metadata.generation


def _timeout(release: HelmRelease, action: Any) -> float:
    text = (getattr(action, "timeout", None) if action else None) or release.spec.timeout
    return parse_duration(text) if text else _DEFAULT_TIMEOUT


def _options(release: HelmRelease, action: Any) -> Options:
    disabled = bool(getattr(action, "disable_wait", None)) if action else False
    return Options(timeout=_timeout(release, action), wait=not disabled)


def _in_sync(latest: Release | None, request: ReleaseRequest, status: dict[str, Any]) -> bool:
    """Whether Helm's latest revision already is what the spec asks for."""
    if latest is None or latest.status != "deployed":
        return False
    snapshot = history.snapshot(latest)
    if snapshot["configDigest"] != request.config_digest:
        return False
    if request.chart_version is not None:
        return latest.chart_version == request.chart_version
    # An OCI chart: its version is only known after a fetch; the artifact digest stands in.
    return (
        status.get("lastAttemptedRevision") == request.revision
        and (status.get("history") or [{}])[0].get("version") == latest.version
    )


def _reset_if_new(request: ReleaseRequest, status: dict[str, Any]) -> None:
    """Start the failure counts afresh for a new generation, chart revision or values."""
    attempted = (
        status.get("lastAttemptedGeneration"),
        status.get("lastAttemptedRevision"),
        status.get("lastAttemptedConfigDigest"),
    )
    if attempted != (request.generation, request.revision, request.config_digest):
        for key in ("failures", "installFailures", "upgradeFailures"):
            status.pop(key, None)
    status["lastAttemptedGeneration"] = request.generation
    status["lastAttemptedRevision"] = request.revision
    status["lastAttemptedConfigDigest"] = request.config_digest


def _success(request: ReleaseRequest, status: dict[str, Any]) -> Succeeded:
    """The Ready verdict for a release in sync, built from status alone (same text each time)."""
    action = status.get("lastAttemptedReleaseAction") or "install"
    latest = (status.get("history") or [{}])[0]
    ref = f"{latest.get('namespace')}/{latest.get('name')}.v{latest.get('version')}"
    chart = f"{latest.get('chartName')}@{latest.get('chartVersion')}"
    reason = reasons.UPGRADE_SUCCEEDED if action == "upgrade" else reasons.INSTALL_SUCCEEDED
    return Succeeded(reason, f"Helm {action} succeeded for release {ref} with chart {chart}")


def _retries(release: HelmRelease, action: str) -> tuple[int, bool]:
    """(retries, remediateLastFailure) for ``action``, with Flux's defaults."""
    spec = release.spec.install if action == "install" else release.spec.upgrade
    remediation = spec.remediation if spec else None
    retries = (remediation.retries if remediation else None) or 0
    last = remediation.remediate_last_failure if remediation else None
    if last is None:
        last = action == "upgrade" and retries > 0
    return retries, last


def _exhausted(release: HelmRelease, action: str, status: dict[str, Any]) -> bool:
    retries, _ = _retries(release, action)
    failures = status.get(f"{action}Failures") or 0
    return retries >= 0 and failures > retries


async def run_release(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    fetch: ChartFile,
) -> Succeeded:
    """Bring the Helm release to what ``request`` asks for; return the Ready verdict.

    Raises:
        StepFailed: the action failed and will be retried (``InstallFailed``/``UpgradeFailed``).
        Stalled: retries are spent (``RetriesExceeded``).
        ActionError: reading Helm's storage failed.
    """
    where = {"namespace": request.namespace, "user": request.user}
    latest = await helm.get(request.name, **where)
    if latest is not None and latest.pending:
        latest = await _recover(helm, request, latest, progress)
    if _in_sync(latest, request, status):
        history.record(status, history.snapshot(latest))  # type: ignore[arg-type]
        _released(status, request)
        return _success(request, status)
    _reset_if_new(request, status)
    action = "upgrade" if latest is not None and latest.status != "uninstalled" else "install"
    if _exhausted(request.release, action, status):
        raise Stalled(_exhausted_message(action, status), reason=reasons.RETRIES_EXCEEDED)
    chart, chart_name, chart_version = await fetch()
    status["lastAttemptedReleaseAction"] = action
    spec = request.release.spec.install if action == "install" else request.release.spec.upgrade
    options = _options(request.release, spec)
    await progress.mark(
        f"Running '{action}' action with timeout of '{format_duration(options.timeout)}'",
        new_work=True,
    )
    try:
        if action == "install":
            if latest is not None:  # a failed first install is removed before trying again
                await helm.uninstall(request.name, **where, options=options)
            await helm.install(
                chart,
                request.name,
                request.values,
                **where,
                options=options,
                create_namespace=bool(spec and spec.create_namespace),  # type: ignore[union-attr]
            )
        else:
            upgrade = request.release.spec.upgrade
            max_history = request.release.spec.max_history
            await helm.upgrade(
                chart,
                request.name,
                request.values,
                **where,
                options=options,
                max_history=_DEFAULT_MAX_HISTORY if max_history is None else max_history,
                cleanup_on_fail=bool(upgrade and upgrade.cleanup_on_fail),
                reuse_values=bool(upgrade and upgrade.preserve_values),
            )
    except ActionError as error:
        await _failed(
            helm, request, status, progress, action, f"{chart_name}@{chart_version}", error
        )
    done = await helm.get(request.name, **where)
    assert done is not None
    history.record(status, history.snapshot(done))
    for key in ("failures", "installFailures", "upgradeFailures"):
        status.pop(key, None)
    conditions.delete(status, reasons.REMEDIATED)
    _released(status, request)
    return _success(request, status)


def _released(status: dict[str, Any], request: ReleaseRequest) -> None:
    verdict = _success(request, status)
    conditions.mark_true(
        status,
        reasons.RELEASED,
        reason=verdict.reason,
        message=verdict.message,
        generation=request.generation,
    )


def _exhausted_message(action: str, status: dict[str, Any]) -> str:
    return f"Failed to {action} after {status.get(f'{action}Failures') or 0} attempt(s)"


async def _failed(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    action: str,
    chart: str,
    error: ActionError,
) -> None:
    """Count the failure, remediate as configured, and raise the verdict."""
    key = f"{action}Failures"
    status[key] = (status.get(key) or 0) + 1
    status["failures"] = (status.get("failures") or 0) + 1
    reason = reasons.INSTALL_FAILED if action == "install" else reasons.UPGRADE_FAILED
    message = (
        f"Helm {action} failed for release {request.namespace}/{request.name} "
        f"with chart {chart}: {error}"
    )
    conditions.mark_false(
        status, reasons.RELEASED, reason=reason, message=message, generation=request.generation
    )
    _, remediate_last = _retries(request.release, action)
    exhausted = _exhausted(request.release, action, status)
    if exhausted:  # the verdict reads RetriesExceeded: the failure gets its own Warning
        await progress.event(reason, message, warning=True)
    if not exhausted or remediate_last:
        await _remediate(helm, request, status, progress, action)
    if exhausted:
        raise Stalled(
            f"{_exhausted_message(action, status)}: {message}", reason=reasons.RETRIES_EXCEEDED
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
            good = await _last_deployed(helm, request)
            if good is None:
                return
            options = _options(request.release, spec.rollback)
            await helm.rollback(request.name, good, **where, options=options)
            rolled = await helm.get(request.name, **where)
            assert rolled is not None
            history.record(status, history.snapshot(rolled))
            chart = f"{rolled.chart_name}@{rolled.chart_version}"
            message = f"Helm rollback to previous release {rolled.ref} with chart {chart} succeeded"
            reason = reasons.ROLLBACK_SUCCEEDED
        else:
            options = _options(request.release, spec.uninstall)
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


async def _last_deployed(helm: Helm, request: ReleaseRequest) -> int | None:
    """The newest revision that was deployed before (``superseded`` or ``deployed``)."""
    revisions = await helm.history(request.name, namespace=request.namespace, user=request.user)
    good = [r for r in revisions if r.get("status") in ("deployed", "superseded")]
    return int(good[-1]["revision"]) if good else None


async def _recover(
    helm: Helm, request: ReleaseRequest, latest: Release, progress: Progress
) -> Release | None:
    """Unlock a revision an interrupted action left ``pending-*``; say what was done."""
    where = {"namespace": request.namespace, "user": request.user}
    options = _options(request.release, request.release.spec.rollback)
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
