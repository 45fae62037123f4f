"""status.history snapshots: rebuilt the same when nothing happened, newest first, five kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tide.helm import history
from tide.helm.sdk import Release
from tide.helm.values import config_digest

pytestmark = pytest.mark.unit

RELEASE = Release(
    name="podinfo",
    namespace="apps",
    version=1,
    status="deployed",
    chart_name="podinfo",
    chart_version="6.5.0",
    app_version="6.5.0",
    first_deployed="2026-12-01T21:33:02.05296236Z",
    last_deployed="2026-12-01T21:33:02.05296236Z",
    description="Install complete",
    config={"replicas": 2},
)


def test_a_snapshot_carries_flux_fields_with_times_in_whole_seconds() -> None:
    entry = history.snapshot(RELEASE)
    assert entry["firstDeployed"] == "2026-12-01T21:33:02Z"
    assert entry["configDigest"] == config_digest({"replicas": 2})
    assert (entry["chartName"], entry["chartVersion"], entry["version"]) == ("podinfo", "6.5.0", 1)
    assert entry["digest"].startswith("sha256:")
    assert "appVersion" not in entry


def test_the_same_revision_gives_the_same_snapshot_and_a_new_status_a_new_digest() -> None:
    assert history.snapshot(RELEASE) == history.snapshot(replace(RELEASE))
    superseded = history.snapshot(replace(RELEASE, status="superseded"))
    assert superseded["digest"] != history.snapshot(RELEASE)["digest"]


def test_record_puts_the_newest_first_replaces_its_revision_and_keeps_five() -> None:
    status: dict = {}
    for version in range(1, 8):
        history.record(status, history.snapshot(replace(RELEASE, version=version)))
    assert [h["version"] for h in status["history"]] == [7, 6, 5, 4, 3]
    history.record(status, history.snapshot(replace(RELEASE, version=7, status="failed")))
    assert [h["status"] for h in status["history"]][:2] == ["failed", "deployed"]
    assert len(status["history"]) == 5
