"""Helm tests after a release (``test.enable``): run them once per revision, report TestSuccess.

Whether a revision's tests ran is read from Helm's storage (each test hook's last run), so an
idle reconcile does not run them again. A failure counts against the action that made the
revision — remediated and retried as for a failed action — unless ``test.ignoreFailures``.
"""

from __future__ import annotations

from typing import Any

from tide.api import conditions, reasons
from tide.api.meta import format_duration
from tide.helm import history, remediation
from tide.helm.request import ReleaseRequest, action_timeout
from tide.helm.sdk import ActionError, Helm, Options, Release
from tide.runtime.steps import Progress

__all__ = ["retry_wanted", "run_tests", "tests_wanted"]


def tests_wanted(request: ReleaseRequest) -> bool:
    """Whether ``test.enable`` asks for Helm tests."""
    test = request.release.spec.test
    return bool(test and test.enable)


def retry_wanted(request: ReleaseRequest, status: dict[str, Any], action: str) -> bool:
    """Whether tests that failed on this generation are run again (``RetryOnFailure``).

    Without this, tests whose hooks completed (failed) would not run again on an unchanged
    release, and the release would read Ready on the next reconcile.
    """
    test = request.release.spec.test
    if not tests_wanted(request) or (test and test.ignore_failures):
        return False
    if remediation.retry_interval(request.release, action) is None:
        return False
    tested = conditions.find(status, reasons.TEST_SUCCESS) or {}
    return tested.get("status") == "False"


async def run_tests(
    helm: Helm,
    request: ReleaseRequest,
    status: dict[str, Any],
    progress: Progress,
    release: Release,
    action: str,
) -> None:
    """Run the release's Helm tests; a failure counts against ``action`` unless ignored."""
    test = request.release.spec.test
    assert test is not None
    where = {"namespace": request.namespace, "user": request.user}
    options = Options(timeout=action_timeout(request.release, test))
    chart = f"{release.chart_name}@{release.chart_version}"
    generation = request.generation
    filters = test.filters or []
    await progress.mark(
        f"Running 'test' action with timeout of '{format_duration(options.timeout)}'",
        new_work=True,
    )
    try:
        await helm.test(
            request.name,
            **where,
            options=options,
            include=[f.name for f in filters if not f.exclude],
            exclude=[f.name for f in filters if f.exclude],
        )
    except ActionError as error:
        message = f"Helm test failed for release {release.ref} with chart {chart}: {error}"
        conditions.mark_false(
            status, reasons.TEST_SUCCESS, reason=reasons.TEST_FAILED, message=message,
            generation=generation,
        )  # fmt: skip
        _record_tests(status, await helm.get(request.name, **where))
        if test.ignore_failures:
            await progress.event(reasons.TEST_FAILED, message, warning=True)
            return
        await remediation.fail(
            helm, request, status, progress, action, reasons.TEST_FAILED, message
        )
    count = len(release.test_hooks)
    message = (
        f"Helm test succeeded for release {release.ref} with chart {chart}: "
        f"{count} test hook(s) completed successfully"
    )
    conditions.mark_true(
        status, reasons.TEST_SUCCESS, reason=reasons.TEST_SUCCEEDED, message=message,
        generation=generation,
    )  # fmt: skip
    _record_tests(status, await helm.get(request.name, **where))


def _record_tests(status: dict[str, Any], release: Release | None) -> None:
    """Refresh the newest snapshot from storage, which now holds the test hooks' last run."""
    if release is not None:
        history.record(status, history.snapshot(release))
