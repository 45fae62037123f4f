"""What parked waits' watches keep of an object still gets kstatus's verdict on the whole."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.kube.ssa.trim import transform_for
from tide.kube.ssa.wait import readiness

MANAGED = [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {}}}]
TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a"}]}}


def obj(api_version: str, kind: str, spec: dict[str, Any], status: dict[str, Any]) -> dict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": "a",
            "namespace": "ns",
            "generation": 3,
            "resourceVersion": "42",
            "labels": {"app": "a"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "x": "y"},
            "managedFields": MANAGED,
        },
        "spec": spec,
        "status": status,
    }


CASES = [
    obj("apps/v1", "Deployment", {"replicas": 3, "template": TEMPLATE}, {
        "observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2,
    }),
    obj("apps/v1", "Deployment", {"replicas": 0, "template": TEMPLATE}, {"observedGeneration": 3}),
    obj("apps/v1", "StatefulSet", {
        "replicas": 2, "template": TEMPLATE,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
    }, {"observedGeneration": 3, "readyReplicas": 2}),
    obj("apps/v1", "StatefulSet", {"replicas": 2, "updateStrategy": {"type": "OnDelete"}}, {
        "observedGeneration": 3,
    }),
    obj("apps/v1", "DaemonSet", {"template": TEMPLATE}, {
        "observedGeneration": 3, "desiredNumberScheduled": 2, "updatedNumberScheduled": 1,
    }),
    obj("apps/v1", "ReplicaSet", {"replicas": 2, "template": TEMPLATE}, {
        "observedGeneration": 3, "readyReplicas": 2, "availableReplicas": 2,
    }),
    obj("batch/v1", "Job", {"template": TEMPLATE, "backoffLimit": 1}, {
        "conditions": [{"type": "Failed", "status": "True", "message": "too many"}],
    }),
    obj("v1", "Pod", {"containers": [{"name": "a"}]}, {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
    }),
    obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", {
        "group": "x.io", "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {}}}],
    }, {"conditions": [{"type": "Established", "status": "False"}]}),
    obj("v1", "Service", {"type": "LoadBalancer"}, {"loadBalancer": {}}),
]  # fmt: skip


@pytest.mark.parametrize("full", CASES, ids=lambda o: f"{o['kind']}")
def test_a_trimmed_copy_gets_the_verdict_of_the_whole_object(full: dict[str, Any]) -> None:
    group = full["apiVersion"].rpartition("/")[0]
    kept = transform_for(group, full["kind"])(copy.deepcopy(full))
    assert readiness(kept) == readiness(full)
    assert "managedFields" not in kept["metadata"]
    assert "template" not in kept.get("spec", {})
    assert kept["metadata"]["labels"] == {"app": "a"}
    assert kept["status"] == full["status"]


def test_a_config_map_keeps_its_metadata_only() -> None:
    full = obj("v1", "ConfigMap", {}, {})
    del full["spec"], full["status"]
    full["data"] = {"big": "x" * 1000}
    kept = transform_for("", "ConfigMap")(full)
    assert set(kept) == {"apiVersion", "kind", "metadata"}
    assert kept["metadata"]["annotations"] == {"x": "y"}
    assert readiness(kept).ready


def test_a_custom_resource_stays_whole_for_cel_rules_but_its_managed_fields() -> None:
    full = obj("x.io/v1", "Widget", {"size": 3}, {"phase": "Ready"})
    full["extra"] = {"any": "field"}
    kept = transform_for("x.io", "Widget")(copy.deepcopy(full))
    del full["metadata"]["managedFields"]
    assert kept == full
