"""kstatus readiness rules on fixture objects, one per built-in kind and the generic rule."""

from __future__ import annotations

from typing import Any

import pytest

from tide.kube.ssa import Health, readiness

pytestmark = pytest.mark.unit


def make(api_version: str, kind: str, *, generation: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns", "generation": generation},
        **fields,
    }


def cond(kind: str, status: str, **extra: str) -> dict[str, str]:
    return {"type": kind, "status": status, **extra}


def deployment(**status: Any) -> dict[str, Any]:
    return make("apps/v1", "Deployment", spec={"replicas": 3}, status=status)


AVAILABLE = [cond("Available", "True")]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ({"observedGeneration": 0}, "observed generation 0 of 1"),
        ({}, "not yet observed by its controller"),
        ({"observedGeneration": 1, "updatedReplicas": 1}, "1 of 3 replicas updated"),
        (
            {"observedGeneration": 1, "updatedReplicas": 3, "replicas": 4},
            "1 old replicas pending termination",
        ),
        (
            {"observedGeneration": 1, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 1},
            "1 of 3 replicas available",
        ),
    ],
)
def test_a_deployment_rolling_out_says_how_far_it_got(status: dict, message: str) -> None:
    verdict = readiness(deployment(**status))
    assert (verdict.health, verdict.message) == (Health.IN_PROGRESS, message)


def test_a_fully_available_deployment_is_current() -> None:
    status = dict(observedGeneration=1, updatedReplicas=3, replicas=3, availableReplicas=3)
    assert readiness(deployment(**status, conditions=AVAILABLE)).ready


def test_a_deployment_past_its_progress_deadline_failed() -> None:
    stuck = cond("Progressing", "False", reason="ProgressDeadlineExceeded", message="too slow")
    verdict = readiness(deployment(observedGeneration=1, conditions=[stuck]))
    assert (verdict.health, verdict.message) == (Health.FAILED, "too slow")


@pytest.mark.parametrize(
    ("obj", "health"),
    [
        (make("batch/v1", "Job", status={"conditions": [cond("Complete", "True")]}), "Current"),
        (make("batch/v1", "Job", status={"conditions": [cond("Failed", "True")]}), "Failed"),
        (make("batch/v1", "Job", status={}), "InProgress"),
        (
            make("v1", "Pod", status={"phase": "Running", "conditions": [cond("Ready", "True")]}),
            "Current",
        ),
        (make("v1", "Pod", status={"phase": "Running"}), "InProgress"),
        (make("v1", "Pod", status={"phase": "Failed"}), "Failed"),
        (make("v1", "PersistentVolumeClaim", status={"phase": "Bound"}), "Current"),
        (make("v1", "PersistentVolumeClaim", status={"phase": "Pending"}), "InProgress"),
        (make("v1", "Service", spec={"type": "ClusterIP"}), "Current"),
        (make("v1", "Service", spec={"type": "LoadBalancer"}, status={}), "InProgress"),
        (
            make(
                "v1",
                "Service",
                spec={"type": "LoadBalancer"},
                status={"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
            ),
            "Current",
        ),
        (make("v1", "Namespace", status={"phase": "Terminating"}), "InProgress"),
        (make("v1", "ConfigMap", data={}), "Current"),
        (
            make(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                status={"conditions": [cond("Established", "True")]},
            ),
            "Current",
        ),
        (make("apiextensions.k8s.io/v1", "CustomResourceDefinition", status={}), "InProgress"),
        (
            make(
                "apps/v1",
                "StatefulSet",
                spec={"replicas": 2},
                status={"observedGeneration": 1, "readyReplicas": 1},
            ),
            "InProgress",
        ),
        (
            make(
                "apps/v1",
                "DaemonSet",
                status={
                    "observedGeneration": 1,
                    "desiredNumberScheduled": 2,
                    "updatedNumberScheduled": 2,
                    "numberAvailable": 2,
                    "numberReady": 2,
                },
            ),
            "Current",
        ),
        (
            make(
                "apps/v1",
                "ReplicaSet",
                spec={"replicas": 2},
                status={"observedGeneration": 1, "readyReplicas": 2, "availableReplicas": 1},
            ),
            "InProgress",
        ),
    ],
)
def test_built_in_kinds_follow_their_kstatus_rule(obj: dict, health: str) -> None:
    assert readiness(obj).health == health


@pytest.mark.parametrize(
    ("generation", "status", "health"),
    [
        (2, {"observedGeneration": 2, "conditions": [cond("Ready", "True")]}, "Current"),
        (3, {"observedGeneration": 2, "conditions": [cond("Ready", "True")]}, "InProgress"),
        (2, {"observedGeneration": 2, "conditions": [cond("Ready", "False")]}, "InProgress"),
        (2, {"conditions": [cond("Stalled", "True", message="bad spec")]}, "Failed"),
        (2, {"conditions": [cond("Reconciling", "True")]}, "InProgress"),
        (2, {}, "Current"),
    ],
)
def test_any_other_kind_follows_the_generic_rule(
    generation: int, status: dict, health: str
) -> None:
    obj = make("example.com/v1", "Widget", generation=generation, status=status)
    assert readiness(obj).health == health


def test_an_object_no_controller_has_reconciled_says_so() -> None:
    # Flux's CRDs default status.observedGeneration to -1 until a controller writes it.
    obj = make("helm.toolkit.fluxcd.io/v2", "HelmRelease", status={"observedGeneration": -1})

    verdict = readiness(obj)

    assert verdict.health is Health.IN_PROGRESS
    assert verdict.message == "has not been reconciled by any controller yet"


def test_an_object_being_deleted_is_not_ready() -> None:
    obj = make("v1", "ConfigMap")
    obj["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert readiness(obj).message == "being deleted"
