"""What the release actions decide from Helm's latest revision and the status: pure rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tide.api.helm import HelmRelease
from tide.helm import actions, remediation, testhooks
from tide.helm.history import snapshot
from tide.helm.request import ReleaseRequest, action_options, action_timeout
from tide.helm.sdk import Release
from tide.helm.values import config_digest

pytestmark = pytest.mark.unit

DEPLOYED = Release(
    name="podinfo",
    namespace="apps",
    version=2,
    status="deployed",
    chart_name="podinfo",
    chart_version="6.5.0",
    app_version="6.5.0",
    first_deployed="2026-12-01T21:33:02Z",
    last_deployed="2026-12-01T21:40:02Z",
    description="Upgrade complete",
    config={"replicas": 2},
)


def request(values: dict | None = None, version: str = "6.5.0", **spec: Any) -> ReleaseRequest:
    release = HelmRelease.model_validate({
        "metadata": {"name": "podinfo", "namespace": "apps", "generation": 3,
                     "annotations": spec.pop("annotations", {})},
        "spec": {"interval": "5m", "chartRef": {"kind": "HelmChart", "name": "c"}, **spec},
    })  # fmt: skip
    chosen = {"replicas": 2} if values is None else values
    return ReleaseRequest(
        release=release,
        name="podinfo",
        namespace="apps",
        user=None,
        values=chosen,
        config_digest=config_digest(chosen),
        chart_version=version,
        revision=version,
    )


def test_a_deployed_release_with_the_same_chart_and_values_is_in_sync() -> None:
    assert actions._in_sync(DEPLOYED, request(), {})


@pytest.mark.parametrize(
    ("latest", "wanted"),
    [
        (None, request()),
        (DEPLOYED, request(values={"replicas": 3})),
        (DEPLOYED, request(version="6.5.1")),
        (replace(DEPLOYED, status="failed"), request()),
        (replace(DEPLOYED, status="pending-upgrade"), request()),
    ],
    ids=["no release", "new values", "new chart", "failed", "pending"],
)
def test_anything_else_is_not_in_sync(latest: Release | None, wanted: ReleaseRequest) -> None:
    assert not actions._in_sync(latest, wanted, {})


def test_preserved_values_are_judged_by_the_last_attempt_not_by_what_helm_merged() -> None:
    preserving = request(values={"replicas": 3}, upgrade={"preserveValues": True})
    merged = replace(DEPLOYED, config={"replicas": 3, "kept": "from before"})
    attempted = {"lastAttemptedConfigDigest": config_digest({"replicas": 3})}
    assert actions._in_sync(merged, preserving, attempted)
    assert not actions._in_sync(merged, preserving, {})


def test_an_oci_chart_is_in_sync_by_its_revision_and_the_recorded_revision() -> None:
    oci = replace(request(), chart_version=None, revision="6.5.0@sha256:abc")
    status = {"lastAttemptedRevision": "6.5.0@sha256:abc", "history": [snapshot(DEPLOYED)]}
    assert actions._in_sync(DEPLOYED, oci, status)
    assert not actions._in_sync(DEPLOYED, replace(oci, revision="6.5.1@sha256:def"), status)


def test_install_when_nothing_was_ever_deployed() -> None:
    assert actions.nothing_deployed(None)
    assert actions.nothing_deployed(replace(DEPLOYED, status="uninstalled"))
    assert actions.nothing_deployed(replace(DEPLOYED, version=1, status="failed"))
    assert not actions.nothing_deployed(replace(DEPLOYED, status="failed"))
    assert not actions.nothing_deployed(DEPLOYED)


def test_failure_counts_start_afresh_for_a_new_attempt_only() -> None:
    status = {"lastAttemptedGeneration": 3, "lastAttemptedRevision": "6.5.0",
              "lastAttemptedConfigDigest": config_digest({"replicas": 2}),
              "upgradeFailures": 2, "failures": 2}  # fmt: skip
    actions._reset_if_new(request(), status)
    assert status["upgradeFailures"] == 2
    actions._reset_if_new(request(values={"replicas": 5}), status)
    assert "upgradeFailures" not in status and "failures" not in status


def test_reset_and_force_need_the_same_requested_at_and_count_once() -> None:
    annotations = {"reconcile.fluxcd.io/requestedAt": "a", "reconcile.fluxcd.io/forceAt": "a",
                   "reconcile.fluxcd.io/resetAt": "a"}  # fmt: skip
    status: dict[str, Any] = {"installFailures": 1}
    assert actions._handle_requests(request(annotations=annotations), status)
    assert "installFailures" not in status
    assert (status["lastHandledForceAt"], status["lastHandledResetAt"]) == ("a", "a")
    assert not actions._handle_requests(request(annotations=annotations), status)
    other = {**annotations, "reconcile.fluxcd.io/requestedAt": "b"}
    assert not actions._handle_requests(request(annotations=other), {})


@pytest.mark.parametrize(
    ("spec", "action", "failures", "spent"),
    [
        ({}, "install", 1, True),
        ({}, "upgrade", 1, True),
        ({"upgrade": {"remediation": {"retries": 2}}}, "upgrade", 2, False),
        ({"upgrade": {"remediation": {"retries": 2}}}, "upgrade", 3, True),
        ({"install": {"remediation": {"retries": -1}}}, "install", 99, False),
    ],
)
def test_retries_are_spent_after_retries_plus_one_failures(
    spec: dict, action: str, failures: int, spent: bool
) -> None:
    wanted = request(**spec)
    assert remediation.exhausted(wanted.release, action, {f"{action}Failures": failures}) is spent


def test_remediate_last_failure_defaults_to_on_for_upgrades_with_retries_only() -> None:
    assert remediation._retries(request().release, "upgrade") == (0, False)
    retried = request(upgrade={"remediation": {"retries": 1}}).release
    assert remediation._retries(retried, "upgrade") == (1, True)
    assert remediation._retries(request(install={"remediation": {"retries": 1}}).release,
                                "install") == (1, False)  # fmt: skip


def test_timeouts_come_from_the_action_then_the_release_then_five_minutes() -> None:
    release = request(timeout="2m", upgrade={"timeout": "30s", "disableWait": True}).release
    assert action_timeout(release, release.spec.upgrade) == 30
    assert action_timeout(release, release.spec.install) == 120
    assert action_timeout(request().release, None) == 300
    assert not action_options(release, release.spec.upgrade).wait


def test_retry_on_failure_waits_five_minutes_by_default_and_never_runs_out() -> None:
    retry = request(install={"strategy": {"name": "RetryOnFailure"}})
    assert remediation.retry_interval(retry.release, "install") == 300.0
    assert remediation.retry_interval(retry.release, "upgrade") is None  # install only
    assert not remediation.exhausted(retry.release, "install", {"installFailures": 99})
    timed = request(upgrade={"strategy": {"name": "RetryOnFailure", "retryInterval": "30s"}})
    assert remediation.retry_interval(timed.release, "upgrade") == 30.0
    remediate = request(upgrade={"strategy": {"name": "RemediateOnFailure"}})
    assert remediation.retry_interval(remediate.release, "upgrade") is None
    assert remediation.exhausted(remediate.release, "upgrade", {"upgradeFailures": 1})


def test_a_retry_interval_is_refused_with_remediate_on_failure() -> None:
    with pytest.raises(ValueError, match="retryInterval cannot be set"):
        request(install={"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}})


def test_failed_tests_are_run_again_only_under_retry_on_failure() -> None:
    failed = {"conditions": [{"type": "TestSuccess", "status": "False", "reason": "TestFailed"}]}
    retry = {"install": {"strategy": {"name": "RetryOnFailure"}}}
    assert testhooks.retry_wanted(request(test={"enable": True}, **retry), failed, "install")
    assert not testhooks.retry_wanted(request(test={"enable": True}, **retry), {}, "install")
    ignored = request(test={"enable": True, "ignoreFailures": True}, **retry)
    assert not testhooks.retry_wanted(ignored, failed, "install")
    assert not testhooks.retry_wanted(request(test={"enable": True}), failed, "install")
