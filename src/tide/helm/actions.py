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

Where Helm's wait is not needed inside the action (:func:`tide.helm.hooks.tide_waits`), Helm
runs it with its ``hookOnly`` wait and Tide waits for the objects itself between reconciles
(:mod:`tide.helm.readiness`): the worker is given back meanwhile, and the verdict — success,
or a failure remediated as configured — is the one Helm's wait would have led to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tide.api import conditions, reasons
from tide.api.keys import FORCE_AT, REQUESTED_AT, RESET_AT
from tide.api.meta import format_duration
from tide.helm import crds, history, hooks, readiness, remediation, testhooks
from tide.helm.request import ReleaseRequest, action_options
from tide.helm.sdk import ActionError, Helm, Options, Release
from tide.helm.target import Target
from tide.runtime.steps import Progress, Stalled, StepFailed, Succeeded, Waiting

__all__ = ["ChartFile", "ReleaseRequest", "nothing_deployed", "run_release"]

ChartFile = Callable[[], Awaitable[tuple[Path, str, str]]]
"""Fetch the chart; returns (path, chart name, chart version). Called only when an action runs."""


def _in_sync(latest: Release | None, request: ReleaseRequest, status: dict[str, Any]) -> bool:
    """Whether Helm's latest revision already is what the spec asks for.

    With ``upgrade.preserveValues`` Helm stores the old values merged with the new ones, so the
    stored values never equal the spec's; the values last attempted stand in for them.

    A revision whose objects Tide is still waiting for, or whose wait failed
    (:mod:`tide.helm.readiness`), is not in sync, though Helm recorded it ``deployed``.
    """
    latest = readiness.as_recorded(latest, status)
    if latest is None or latest.status != "deployed" or readiness.under_way(latest, status):
        return False
    return _asked_for(latest, request, status)


def _asked_for(latest: Release, request: ReleaseRequest, status: dict[str, Any]) -> bool:
    """Whether ``latest`` was made from the chart, values and post-rendering asked for now."""
    if any(status.get(key, "") != want for key, want in request.render_digests.items()):
        return False  # the post-renderers or common metadata changed: upgrade
    upgrade = request.release.spec.upgrade
    if upgrade and upgrade.preserve_values:
        stored = status.get("lastAttemptedConfigDigest")
    else:
        stored = history.snapshot(latest)["configDigest"]
    if stored != request.config_digest:
        return False
    if request.chart_version is not None:
        return latest.chart_version == request.chart_version
    # An OCI chart: its version is only known after a fetch; the artifact digest stands in.
    return (
        status.get("lastAttemptedRevision") == request.revision
        and (status.get("history") or [{}])[0].get("version") == latest.version
    )


async def _uninstall_moved(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    *,
    moved_from: Helm | None = None,
) -> None:
    """Uninstall the release this HelmRelease made under another name or namespace.

    A new ``releaseName``, ``targetNamespace`` or ``storageNamespace`` (``moved_from``: Helm
    where the records were) makes a new release; the old one would otherwise be left running,
    owned by nobody.
    """
    previous = (status.get("history") or [None])[0]
    if not previous or (
        moved_from is None
        and (previous["name"], previous["namespace"]) == (request.name, request.namespace)
    ):
        return
    old = f"{previous['namespace']}/{previous['name']}"
    options = action_options(request.release, request.release.spec.uninstall)
    uninstall = request.release.spec.uninstall
    try:
        await (moved_from or helm).uninstall(
            previous["name"],
            namespace=previous["namespace"],
            user=request.user,
            options=options,
            keep_history=bool(uninstall and uninstall.keep_history),
        )
    except ActionError as error:
        raise StepFailed(
            f"Helm uninstall failed for release {old}, which the HelmRelease made before "
            f"its release name or namespace changed: {error}",
            reason=reasons.UNINSTALL_FAILED,
        ) from error
    status["history"] = []
    await progress.event(
        reasons.UNINSTALL_SUCCEEDED,
        f"Helm uninstall succeeded for release {old}: the release is now "
        f"{request.namespace}/{request.name}",
    )


def _handle_requests(request: ReleaseRequest, status: dict[str, Any]) -> bool:
    """Honour new ``resetAt`` / ``forceAt`` annotations; return whether to force an action.

    As in Flux, a value counts only when ``requestedAt`` carries the same one (what ``flux
    reconcile hr --reset|--force`` writes), and only once.
    """
    annotations = request.release.metadata.annotations or {}
    requested = annotations.get(REQUESTED_AT)
    reset = annotations.get(RESET_AT)
    if reset and reset == requested and reset != status.get("lastHandledResetAt"):
        for key in ("failures", "installFailures", "upgradeFailures"):
            status.pop(key, None)
        status["lastHandledResetAt"] = reset
    force = annotations.get(FORCE_AT)
    if force and force == requested and force != status.get("lastHandledForceAt"):
        status["lastHandledForceAt"] = force
        return True
    return False


def nothing_deployed(latest: Release | None) -> bool:
    """Whether there is no release to upgrade: none, one uninstalled, or a failed first install.

    Helm refuses to upgrade those; the install that follows removes what is left first.
    """
    if latest is None or latest.status == "uninstalled":
        return True
    return latest.status == "failed" and latest.version == 1


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
    """The Ready verdict for a release in sync, built from status alone (same text each time).

    With tests enabled and passed, Ready tells of the tests, as Flux's summary does.
    """
    tested = conditions.find(status, reasons.TEST_SUCCESS)
    if testhooks.tests_wanted(request) and tested and tested.get("status") == "True":
        return Succeeded(reasons.TEST_SUCCEEDED, tested.get("message", ""))
    return _released_verdict(status)


def _released_verdict(status: dict[str, Any]) -> Succeeded:
    """``Helm install succeeded for release ns/name.v1 with chart podinfo@6.5.0``."""
    action = status.get("lastAttemptedReleaseAction") or "install"
    latest = (status.get("history") or [{}])[0]
    ref = f"{latest.get('namespace')}/{latest.get('name')}.v{latest.get('version')}"
    chart = f"{latest.get('chartName')}@{latest.get('chartVersion')}"
    reason = reasons.UPGRADE_SUCCEEDED if action == "upgrade" else reasons.INSTALL_SUCCEEDED
    return Succeeded(reason, f"Helm {action} succeeded for release {ref} with chart {chart}")


async def run_release(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    fetch: ChartFile,
    *,
    cluster: Target,
    moved_from: Helm | None = None,
    waits: readiness.ReleaseWaits | None = None,
) -> Succeeded | Waiting:
    """Bring the Helm release to what ``request`` asks for; return the Ready verdict.

    ``cluster`` is where the release is installed (its CRDs are written there under the
    ``crds`` policy). ``moved_from`` is Helm where the release's records were before
    ``storageNamespace`` changed: the release is uninstalled there first. ``waits`` looks at
    the objects of a release Tide waits for itself; the reconcile then returns
    :class:`Waiting` (silent: the marks say what it does) until they are ready. Default:
    waits that poll.

    Raises:
        StepFailed: the action failed and will be retried (``InstallFailed``/``UpgradeFailed``).
        Stalled: retries are spent (``RetriesExceeded``).
        ActionError: reading Helm's storage failed.
    """
    waits = waits or readiness.ReleaseWaits()
    where = {"namespace": request.namespace, "user": request.user}
    await _uninstall_moved(helm, request, status, progress, moved_from=moved_from)
    latest = await helm.get(request.name, **where)
    if latest is not None and latest.pending:
        latest = await remediation.recover(helm, request, latest, progress)
    forced = _handle_requests(request, status)
    waiting = readiness.under_way(latest, status)
    if waiting and not forced and latest is not None and _resumable(latest, request, status):
        return await _await_objects(helm, request, status, progress, latest, waiting,
                                    cluster=cluster, waits=waits)  # fmt: skip
    latest = readiness.as_recorded(latest, status)
    if not forced and _in_sync(latest, request, status):
        assert latest is not None
        history.record(status, history.snapshot(latest))
        _released(status, request)
        action = status.get("lastAttemptedReleaseAction") or "install"
        retry = testhooks.retry_wanted(request, status, action)
        if testhooks.tests_wanted(request) and latest.has_tests and (retry or not latest.tested):
            await testhooks.run_tests(helm, request, status, progress, latest, action)
        elif not testhooks.tests_wanted(request):
            conditions.delete(status, reasons.TEST_SUCCESS)
        return _success(request, status)
    _reset_if_new(request, status)
    action = "install" if nothing_deployed(latest) else "upgrade"
    if remediation.exhausted(request.release, action, status):
        last = conditions.find(status, reasons.RELEASED) or {}
        failed = last.get("status") == "False"
        raise Stalled(
            remediation.exhausted_message(action, status),
            reason=reasons.RETRIES_EXCEEDED,
            ready_reason=last.get("reason") if failed else None,
            ready_message=last.get("message") if failed else None,
        )
    chart, chart_name, chart_version = await fetch()
    status["lastAttemptedReleaseAction"] = action
    options = action_options(request.release, _action_spec(request, action))
    await progress.mark(_running(action, options), new_work=True)
    post_hooks = await asyncio.to_thread(hooks.chart_has_post_hooks, chart, request.values)
    tide_waits = hooks.tide_waits(options, post_hooks=post_hooks)
    try:
        if action == "install" and latest is not None:
            # a failed first install is removed before trying again
            await helm.uninstall(request.name, **where, options=options)
        options = await _chart_crds(action, chart, request, cluster, options)
        await helm.release(
            request.name,
            action=action,
            chart=chart,
            values=request.values,
            **where,
            options=replace(options, wait=False) if tide_waits else options,  # hookOnly
            render=request.render,
        )
    except ActionError as error:
        await _failed(helm, request, status, progress, action, f"{chart_name}@{chart_version}",
                      str(error))  # fmt: skip
    done = await helm.get(request.name, **where)
    assert done is not None
    for key, digest in request.render_digests.items():  # recorded once a release is made so
        if digest:
            status[key] = digest
        else:
            status.pop(key, None)
    if tide_waits:  # the marker a restarted controller resumes the wait from
        history.record(status, history.snapshot(replace(done, status=readiness.PENDING[action])))
        return await _await_objects(helm, request, status, progress, done, action,
                                    cluster=cluster, waits=waits)  # fmt: skip
    history.record(status, history.snapshot(done))
    return await _released_now(helm, request, status, progress, done, action)


def _action_spec(request: ReleaseRequest, action: str) -> Any:
    """``spec.install`` or ``spec.upgrade``, the settings of ``action``."""
    spec = request.release.spec
    return spec.install if action == "install" else spec.upgrade


def _running(action: str, options: Options) -> str:
    """``Running 'install' action with timeout of '5m0s'``, as Flux's progress reads."""
    return f"Running '{action}' action with timeout of '{format_duration(options.timeout)}'"


def _resumable(latest: Release, request: ReleaseRequest, status: dict[str, Any]) -> bool:
    """Whether a wait under way on ``latest`` is still for what the spec asks.

    A newer generation, chart or values replaces the wait with a new action, as a newer
    revision replaces a Kustomization's health check.
    """
    return status.get("lastAttemptedGeneration") == request.generation and _asked_for(
        latest, request, status
    )


async def _await_objects(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    release: Release,
    action: str,
    *,
    cluster: Target,
    waits: readiness.ReleaseWaits,
) -> Succeeded | Waiting:
    """Look at the objects ``action`` made (Helm's ``hookOnly`` wait): done, failed, or wait.

    Ready objects end it as Helm's wait would (tests, then Released); a timeout or a failed
    object fails the action as Helm's wait failure does, recorded ``failed`` in the snapshot.
    """
    options = action_options(request.release, _action_spec(request, action))
    until = readiness.deadline(release, options.timeout)
    key = (request.release.metadata.namespace, request.release.metadata.name)
    seen = await waits.look(
        key,
        release,
        cluster=cluster,
        user=request.user,
        wait_for_jobs=options.wait_for_jobs,
        until=until,
    )
    if seen.ready:
        history.record(status, history.snapshot(release))
        return await _released_now(helm, request, status, progress, release, action)
    timed_out = time.time() >= until
    if seen.failed or timed_out:
        waits.release(key)
        history.record(status, history.snapshot(replace(release, status=readiness.FAILED)))
        problem = readiness.not_ready_error(seen, timed_out=timed_out)
        chart = f"{release.chart_name}@{release.chart_version}"
        await _failed(helm, request, status, progress, action, chart, problem)
    message = f"{_running(action, options)}: waiting for {seen.waiting_for()}"
    await progress.mark(message, new_work=True)
    return Waiting(reasons.PROGRESSING, message, retry_after=seen.delay, silent=True)


async def _failed(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    action: str,
    chart: str,
    error: str,
) -> None:
    """Report ``action`` failed (Released False), then remediate as configured; always raises."""
    reason = reasons.INSTALL_FAILED if action == "install" else reasons.UPGRADE_FAILED
    message = (
        f"Helm {action} failed for release {request.namespace}/{request.name} "
        f"with chart {chart}: {error}"
    )
    conditions.mark_false(
        status, reasons.RELEASED, reason=reason, message=message, generation=request.generation
    )
    await remediation.fail(helm, request, status, progress, action, reason, message)


async def _released_now(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    done: Release,
    action: str,
) -> Succeeded:
    """The action and its wait succeeded: Released, the tests if enabled, counters cleared."""
    _released(status, request)
    conditions.delete(status, reasons.TEST_SUCCESS)
    if testhooks.tests_wanted(request):
        await testhooks.run_tests(helm, request, status, progress, done, action)
    for key in ("failures", "installFailures", "upgradeFailures"):
        status.pop(key, None)
    conditions.delete(status, reasons.REMEDIATED)
    return _success(request, status)


async def _chart_crds(
    action: str, chart: Path, request: ReleaseRequest, cluster: Target, options: Options
) -> Options:
    """Write the chart's CRDs as the action's ``crds`` policy says; return Helm's options.

    Helm itself only creates missing CRDs on install; Tide does the rest and then tells Helm
    to leave ``crds/`` alone. A CRD that cannot be written fails the action.
    """
    chosen = crds.policy(action, _action_spec(request, action))
    if not crds.tide_applies(action, chosen):
        return replace(options, skip_crds=chosen == "Skip")
    client = cluster.client.impersonating(request.user) if request.user else cluster.client
    try:
        await crds.apply_crds(
            chart,
            client=client,
            mapper=cluster.mapper,
            replace=chosen == "CreateReplace",
            timeout=options.timeout,
        )
    except crds.CRDError as error:
        raise ActionError(
            f"applying the chart's CRDs ({action}.crds: {chosen}) failed: {error}"
        ) from error
    return replace(options, skip_crds=True)


def _released(status: dict[str, Any], request: ReleaseRequest) -> None:
    verdict = _released_verdict(status)
    conditions.mark_true(
        status,
        reasons.RELEASED,
        reason=verdict.reason,
        message=verdict.message,
        generation=request.generation,
    )
