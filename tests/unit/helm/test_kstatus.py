"""Helm's wait judges Jobs, Services and Pods by kstatus's rules, not by Tide's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tide.helm.kstatus import helm_rules
from tide.kube.ssa import wait

pytestmark = pytest.mark.unit


def _job(**status: object) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "status": status}


def _pod(phase: str, *, age: float = 0.0, **status: object) -> dict:
    created = (datetime.now(UTC) - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "creationTimestamp": created},
        "status": {"phase": phase, **status},
    }


def test_without_wait_for_jobs_a_started_job_is_ready_as_kstatus_says() -> None:
    judge = helm_rules(wait_for_jobs=False)
    assert judge(_job()).health is wait.Health.IN_PROGRESS
    assert judge(_job(startTime="2026-12-02T10:00:00Z")).ready
    assert judge(_job(conditions=[{"type": "Suspended", "status": "True"}])).ready
    failed = _job(startTime="x", conditions=[{"type": "Failed", "status": "True"}])
    assert judge(failed).health is wait.Health.FAILED
    assert judge({"apiVersion": "apps/v1", "kind": "Deployment"}) is None


def test_with_wait_for_jobs_the_job_must_complete() -> None:
    started = _job(startTime="2026-12-02T10:00:00Z")
    assert helm_rules(wait_for_jobs=True)(started) is None  # Tide's rule: Helm's Job reader
    assert not wait.readiness(started).ready


def test_a_load_balancer_is_ready_with_a_cluster_ip_and_no_external_address() -> None:
    judge = helm_rules(wait_for_jobs=True)
    service = {"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}}
    assert judge(service).health is wait.Health.IN_PROGRESS
    assert judge({**service, "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}}).ready
    assert not wait.readiness({**service, "spec": {"clusterIP": "1", "type": "LoadBalancer"}}).ready


def test_pods_are_judged_as_kstatus_judges_them() -> None:
    judge = helm_rules(wait_for_jobs=True)
    assert judge(_pod("Failed")).ready  # ran to an end, not successfully
    assert judge(_pod("Running", conditions=[{"type": "Ready", "status": "True"}])).ready
    looping = {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    assert judge(_pod("Running", containerStatuses=[looping])).health is wait.Health.FAILED
    unschedulable = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    assert judge(_pod("Pending", conditions=unschedulable)).health is wait.Health.IN_PROGRESS
    late = _pod("Pending", age=60, conditions=unschedulable)
    assert judge(late).health is wait.Health.FAILED
