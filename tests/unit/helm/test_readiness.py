"""Tide's wait on a release's objects: its persisted marker, Helm's Job rule, its messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tide.helm import history, readiness
from tide.helm.sdk import Release
from tide.kube.ssa import wait

pytestmark = pytest.mark.unit

RELEASE = Release(
    name="app",
    namespace="apps",
    version=3,
    status="deployed",
    chart_name="podinfo",
    chart_version="6.5.0",
    app_version="6.5.0",
    first_deployed="2026-12-01T10:00:00.123456789Z",
    last_deployed="2026-12-02T10:00:00.987654321Z",
    description="Upgrade complete",
    config={},
)


def _status(recorded: str, version: int = 3) -> dict:
    return {"history": [history.snapshot(replace(RELEASE, version=version, status=recorded))]}


def test_a_pending_snapshot_of_helms_latest_revision_is_a_wait_under_way() -> None:
    assert readiness.under_way(RELEASE, _status("pending-upgrade")) == "upgrade"
    assert readiness.under_way(RELEASE, _status("pending-install")) == "install"


def test_a_release_adopted_from_the_cli_or_waited_by_helm_has_no_wait_under_way() -> None:
    assert readiness.under_way(RELEASE, {}) is None  # no Tide history for it
    assert readiness.under_way(RELEASE, _status("pending-upgrade", version=2)) is None
    assert readiness.under_way(RELEASE, _status("deployed")) is None
    assert readiness.under_way(None, _status("pending-install")) is None


def test_a_failed_wait_makes_helms_deployed_revision_read_failed() -> None:
    assert readiness.as_recorded(RELEASE, _status("failed")).status == "failed"
    assert readiness.as_recorded(RELEASE, _status("deployed")).status == "deployed"
    assert readiness.as_recorded(RELEASE, _status("failed", version=2)).status == "deployed"
    assert readiness.as_recorded(None, {}) is None


def test_the_deadline_counts_from_helms_record_of_the_actions_start() -> None:
    started = datetime(2026, 12, 2, 10, 0, 0, 987654, tzinfo=UTC).timestamp()
    assert readiness.deadline(RELEASE, 300) == pytest.approx(started + 300)


def test_the_timeout_message_names_each_object_as_helms_wait_does() -> None:
    look = readiness.Look({
        "Deployment/apps/app": wait.Readiness(wait.Health.IN_PROGRESS, "0 of 1 replicas available"),
    })  # fmt: skip
    assert readiness.not_ready_error(look, timed_out=True) == (
        "resource Deployment/apps/app not ready. status: InProgress, "
        "message: 0 of 1 replicas available\ncontext deadline exceeded"
    )
    assert look.waiting_for() == "Deployment/apps/app"
    assert not look.failed and not look.ready


def test_a_progress_message_names_the_first_few_objects() -> None:
    left = {f"ConfigMap/apps/c{n:02}": wait.Readiness(wait.Health.IN_PROGRESS) for n in range(12)}
    named = readiness.Look(left).waiting_for()
    assert named.startswith("ConfigMap/apps/c00, ConfigMap/apps/c01")
    assert named.endswith("ConfigMap/apps/c09 and 2 more")
