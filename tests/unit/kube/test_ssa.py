"""Pure parts of server-side apply: inventory ids, staging, diff normalisation, change sets."""

from __future__ import annotations

import pytest

from tide.kube.discovery import parse_resource_list
from tide.kube.resources import ResourceType
from tide.kube.ssa import Action, ChangeSet, ChangeSetEntry, ObjectRef, object_id
from tide.kube.ssa.apply import stages
from tide.kube.ssa.delete import deletion_order
from tide.kube.ssa.diff import has_drifted

pytestmark = pytest.mark.unit


def obj(kind: str, name: str, api_version: str = "v1", namespace: str = "") -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def test_inventory_ids_follow_flux_for_namespaced_core_and_cluster_objects() -> None:
    assert (
        object_id(obj("Deployment", "app", "apps/v1", "default")) == "default_app_apps_Deployment"
    )
    assert object_id(obj("ConfigMap", "cm", namespace="ns")) == "ns_cm__ConfigMap"
    role = obj("ClusterRole", "system:reader", "rbac.authorization.k8s.io/v1")
    assert object_id(role) == "_system__reader_rbac.authorization.k8s.io_ClusterRole"


@pytest.mark.parametrize(
    "ref",
    [
        ObjectRef("default", "app", "apps", "Deployment"),
        ObjectRef("", "system:reader", "rbac.authorization.k8s.io", "ClusterRole"),
        ObjectRef("ns", "cm", "", "ConfigMap"),
        ObjectRef("", "ends-with:", "rbac.authorization.k8s.io", "ClusterRole"),
    ],
)
def test_inventory_ids_read_back_to_the_same_object(ref: ObjectRef) -> None:
    assert ObjectRef.parse(ref.id) == ref


def test_a_malformed_inventory_id_is_refused() -> None:
    with pytest.raises(ValueError, match="not an inventory id"):
        ObjectRef.parse("just-a-name")


def test_subjects_omit_the_namespace_of_cluster_objects() -> None:
    assert ObjectRef("ns", "app", "apps", "Deployment").subject == "Deployment/ns/app"
    assert ObjectRef("", "ns", "", "Namespace").subject == "Namespace/ns"


def test_staging_puts_definitions_then_classes_then_the_rest_keeping_order() -> None:
    objects = [
        obj("Widget", "w", "x.test/v1", "ns"),
        obj("IngressClass", "nginx", "networking.k8s.io/v1"),
        obj("Namespace", "ns"),
        obj("CustomResourceDefinition", "widgets.x.test", "apiextensions.k8s.io/v1"),
        obj("ConfigMap", "cm", namespace="ns"),
        obj("ClusterRole", "r", "rbac.authorization.k8s.io/v1"),
    ]
    assert [[o["kind"] for o in stage] for stage in stages(objects)] == [
        ["Namespace", "CustomResourceDefinition", "ClusterRole"],
        ["IngressClass"],
        ["Widget", "ConfigMap"],
    ]


def test_deletion_removes_custom_resources_before_their_definitions() -> None:
    refs = [
        ObjectRef("", "ns", "", "Namespace"),
        ObjectRef("", "fast", "storage.k8s.io", "StorageClass"),
        ObjectRef("ns", "w", "x.test", "Widget"),
    ]
    assert [r.kind for r in deletion_order(refs)] == ["Widget", "StorageClass", "Namespace"]


def test_server_maintained_fields_are_not_drift() -> None:
    live = {
        **obj("ConfigMap", "cm", namespace="ns"),
        "data": {"k": "1"},
        "status": {"x": 1},
    }
    live["metadata"].update(resourceVersion="5", generation=2, managedFields=[{"manager": "a"}])
    dry_run = {**obj("ConfigMap", "cm", namespace="ns"), "data": {"k": "1"}}
    dry_run["metadata"].update(resourceVersion="6", generation=3, managedFields=[], labels={})
    assert not has_drifted(live, dry_run)
    assert has_drifted(live, {**dry_run, "data": {"k": "2"}})
    assert has_drifted(None, dry_run)


def test_a_label_change_is_drift() -> None:
    live = obj("ConfigMap", "cm", namespace="ns")
    dry_run = obj("ConfigMap", "cm", namespace="ns")
    dry_run["metadata"]["labels"] = {"owner": "me"}
    assert has_drifted(live, dry_run)


def test_change_set_summary_and_inventory_leave_out_what_did_not_change_or_exist() -> None:
    change_set = ChangeSet(
        [
            ChangeSetEntry("ns_b_apps_Deployment", "Deployment/ns/b", Action.CONFIGURED, "v1"),
            ChangeSetEntry("ns_a__ConfigMap", "ConfigMap/ns/a", Action.UNCHANGED, "v1"),
            ChangeSetEntry("ns_c__ConfigMap", "ConfigMap/ns/c", Action.FAILED, "v1", "bad name"),
            ChangeSetEntry("ns_d__Secret", "Secret/ns/d", Action.SKIPPED, "v1"),
        ]
    )
    assert change_set.summary() == (
        "Deployment/ns/b configured\nConfigMap/ns/c failed: bad name\nSecret/ns/d skipped"
    )
    assert change_set.to_inventory() == [
        {"id": "ns_a__ConfigMap", "v": "v1"},
        {"id": "ns_b_apps_Deployment", "v": "v1"},
        {"id": "ns_d__Secret", "v": "v1"},
    ]
    assert change_set.changed
    assert [e.subject for e in change_set.failed] == ["ConfigMap/ns/c"]


def test_an_unchanged_change_set_reports_no_change() -> None:
    change_set = ChangeSet([ChangeSetEntry("ns_a__ConfigMap", "ConfigMap/ns/a", Action.UNCHANGED)])
    assert not change_set.changed
    assert change_set.summary() == ""


def test_discovery_documents_map_kinds_and_skip_subresources() -> None:
    document = {
        "resources": [
            {"name": "deployments", "kind": "Deployment", "namespaced": True},
            {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
            {"name": "namespaces", "kind": "Namespace", "namespaced": False},
        ]
    }
    assert parse_resource_list("apps/v1", document) == {
        "Deployment": ResourceType("apps", "v1", "Deployment", "deployments"),
        "Namespace": ResourceType("apps", "v1", "Namespace", "namespaces", namespaced=False),
    }
    core = parse_resource_list("v1", {"resources": [{"name": "pods", "kind": "Pod"}]})
    assert core["Pod"].api_version == "v1"
