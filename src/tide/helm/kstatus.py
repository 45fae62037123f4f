"""Where Helm's ``watcher`` wait judges an object otherwise than :mod:`tide.kube.ssa.wait`.

Tide's readiness rules follow kstatus closely, and Helm's wait is kstatus (fluxcd/cli-utils'
status readers) with one Job reader of Helm's own; for a few kinds the two give a different
outcome, and a release must be judged as Helm judges it:

- **Job**: kstatus calls a Job ready once it started (or is suspended); only with
  ``wait_for_jobs`` must it complete (Helm's own reader — the rule Tide's wait already has).
- **Service**: a ``LoadBalancer`` is ready once it has a cluster IP, not an external address
  (a cluster without load balancers would otherwise never be ready).
- **Pod**: a Pod that ran to an end is ready, failed or not; one in ``CrashLoopBackOff``, or
  unschedulable for longer than 15 s, has failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tide.kube.ssa import wait

__all__ = ["SCHEDULE_WINDOW", "helm_rules"]

SCHEDULE_WINDOW = 15.0
"""Seconds a Pod may stay unschedulable before kstatus calls it failed."""

_CURRENT = wait.Readiness(wait.Health.CURRENT)


def helm_rules(wait_for_jobs: bool) -> wait.Judge:
    """The verdicts Helm's wait gives where they differ from Tide's (None: Tide's rules)."""

    def judge(live: Mapping[str, Any]) -> wait.Readiness | None:
        kind = (live.get("apiVersion"), live.get("kind"))
        if kind == ("batch/v1", "Job") and not wait_for_jobs:
            return _job(live)
        if kind == ("v1", "Service"):
            return _service(live)
        if kind == ("v1", "Pod"):
            return _pod(live)
        return None

    return judge


def _conditions(live: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((live.get("status") or {}).get("conditions") or [])


def _job(live: Mapping[str, Any]) -> wait.Readiness:
    for condition in _conditions(live):
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Failed":
            return wait.Readiness(wait.Health.FAILED, condition.get("message") or "job failed")
        if condition.get("type") in ("Complete", "Suspended"):
            return _CURRENT
    if not (live.get("status") or {}).get("startTime"):
        return wait.Readiness(wait.Health.IN_PROGRESS, "job not started")
    return _CURRENT


def _service(live: Mapping[str, Any]) -> wait.Readiness:
    spec = live.get("spec") or {}
    if spec.get("type") == "LoadBalancer" and not spec.get("clusterIP"):
        return wait.Readiness(wait.Health.IN_PROGRESS, "cluster IP not set")
    return _CURRENT


def _pod(live: Mapping[str, Any]) -> wait.Readiness:
    status = live.get("status") or {}
    phase = status.get("phase") or ""
    if phase in ("Succeeded", "Failed"):
        return _CURRENT
    if phase == "Running":
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in _conditions(live)):
            return _CURRENT
        looping = [
            container.get("name", "")
            for container in status.get("containerStatuses") or []
            if ((container.get("state") or {}).get("waiting") or {}).get("reason")
            == "CrashLoopBackOff"
        ]
        if looping:
            return wait.Readiness(
                wait.Health.FAILED, f"containers in CrashLoop state: {', '.join(looping)}"
            )
        return wait.Readiness(wait.Health.IN_PROGRESS, "pod is running but is not ready")
    if phase == "Pending":
        unschedulable = any(
            c.get("type") == "PodScheduled"
            and c.get("status") == "False"
            and c.get("reason") == "Unschedulable"
            for c in _conditions(live)
        )
        if unschedulable and _age(live) > SCHEDULE_WINDOW:
            return wait.Readiness(wait.Health.FAILED, "pod could not be scheduled")
        return wait.Readiness(wait.Health.IN_PROGRESS, "pod is in the Pending phase")
    return wait.Readiness(wait.Health.IN_PROGRESS, "pod phase not available")


def _age(live: Mapping[str, Any]) -> float:
    """Seconds since the object was created (0 when unknown)."""
    stamp = (live.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return 0.0
    created = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return (datetime.now(UTC) - created).total_seconds()
