"""status.history: one snapshot per distinct set of objects, updated only when something new
happened, newest first, five at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tide.kustomize.history import MAX_SNAPSHOTS, digest, record

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_digest_ignores_key_order_and_changes_with_content() -> None:
    a = [{"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}}]
    b = [{"metadata": {"namespace": "x", "name": "a"}, "kind": "ConfigMap"}]
    assert digest(a) == digest(b)
    assert digest(a) != digest([{"kind": "ConfigMap", "metadata": {"name": "b"}}])
    assert digest(a).startswith("sha256:")


def test_a_repeat_with_the_same_outcome_and_no_change_writes_nothing() -> None:
    status: dict = {}
    record(
        status,
        objects_digest="sha256:1",
        revision="main@sha1:a",
        outcome="ReconciliationSucceeded",
        seconds=1.5,
        changed=True,
        now=T0,
    )
    first = [dict(s) for s in status["history"]]
    record(
        status,
        objects_digest="sha256:1",
        revision="main@sha1:a",
        outcome="ReconciliationSucceeded",
        seconds=0.2,
        changed=False,
        now=T0 + timedelta(minutes=10),
    )
    assert status["history"] == first
    assert first == [{
        "digest": "sha256:1", "firstReconciled": "2026-11-22T12:00:00Z",
        "lastReconciled": "2026-11-22T12:00:00Z", "lastReconciledDuration": "1.500s",
        "lastReconciledStatus": "ReconciliationSucceeded", "totalReconciliations": 1,
        "metadata": {"revision": "main@sha1:a"},
    }]  # fmt: skip


def test_a_new_outcome_updates_the_snapshot_and_a_new_set_goes_first() -> None:
    status: dict = {}
    ok, failed = "ReconciliationSucceeded", "HealthCheckFailed"
    record(
        status,
        objects_digest="sha256:1",
        revision="r1",
        outcome=ok,
        seconds=1,
        changed=True,
        now=T0,
    )
    record(
        status,
        objects_digest="sha256:2",
        revision="r2",
        outcome=failed,
        seconds=1,
        changed=False,
        now=T0 + timedelta(minutes=1),
    )
    record(
        status,
        objects_digest="sha256:1",
        revision="r1",
        outcome=ok,
        seconds=1,
        changed=True,
        now=T0 + timedelta(minutes=2),
    )
    digests = [s["digest"] for s in status["history"]]
    assert digests == ["sha256:1", "sha256:2"]
    newest = status["history"][0]
    assert newest["totalReconciliations"] == 2
    assert newest["firstReconciled"] == "2026-11-22T12:00:00Z"
    assert newest["lastReconciled"] == "2026-11-22T12:02:00Z"
    assert status["history"][1]["lastReconciledStatus"] == failed


def test_only_the_newest_five_sets_are_kept() -> None:
    status: dict = {}
    for n in range(MAX_SNAPSHOTS + 2):
        record(
            status,
            objects_digest=f"sha256:{n}",
            revision=f"r{n}",
            outcome="ReconciliationSucceeded",
            seconds=1,
            changed=True,
            now=T0 + timedelta(minutes=n),
        )
    assert [s["digest"] for s in status["history"]] == [f"sha256:{n}" for n in range(6, 1, -1)]
