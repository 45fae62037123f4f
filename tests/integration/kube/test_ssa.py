"""The ResourceManager on a real API server: staged, per-object, write-free when nothing changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.ssa import Action, ResourceManager
from tide.kustomize.reconciler import MANAGER_OPTIONS

pytestmark = pytest.mark.integration

OWNER = {"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": "x"}
DEPLOYMENTS = resources.ResourceType("apps", "v1", "Deployment", "deployments")


def config_map(namespace: str, name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def annotated(obj: dict[str, Any], **annotations: str) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result["metadata"]["annotations"] = {
        f"kustomize.toolkit.fluxcd.io/{key}": value for key, value in annotations.items()
    }
    return result


def deployment(namespace: str, name: str, *, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "example/app:1"}], **pod_spec},
            },
        },
    }


def widget_crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture
def manager(kube: KubeClient) -> ResourceManager:
    return ResourceManager(kube, RESTMapper(kube), "tide-ssa-tests", OWNER, MANAGER_OPTIONS)


def actions(change_set: Any) -> dict[str, Action]:
    return {entry.subject: entry.action for entry in change_set}


async def test_apply_creates_then_configures_then_writes_nothing(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    objects = [config_map(namespace, "a", k="1"), config_map(namespace, "b", k="1")]
    created = await manager.apply_all(objects)
    assert actions(created) == {
        f"ConfigMap/{namespace}/a": Action.CREATED,
        f"ConfigMap/{namespace}/b": Action.CREATED,
    }
    live = await kube.get(resources.CONFIG_MAP, "a", namespace=namespace)
    assert OWNER.items() <= live["metadata"]["labels"].items()
    assert any(f["manager"] == "tide-ssa-tests" for f in live["metadata"]["managedFields"])

    objects[1] = config_map(namespace, "b", k="2")
    configured = await manager.apply_all(objects)
    assert actions(configured)[f"ConfigMap/{namespace}/a"] is Action.UNCHANGED
    assert actions(configured)[f"ConfigMap/{namespace}/b"] is Action.CONFIGURED
    assert configured.summary() == f"ConfigMap/{namespace}/b configured"

    before = kube.total_writes(namespace=namespace)
    unchanged = await manager.apply_all(objects)
    assert {entry.action for entry in unchanged} == {Action.UNCHANGED}
    assert not unchanged.changed
    assert kube.total_writes(namespace=namespace) == before
    assert unchanged.to_inventory() == [
        {"id": f"{namespace}_a__ConfigMap", "v": "v1"},
        {"id": f"{namespace}_b__ConfigMap", "v": "v1"},
    ]


async def test_drift_made_by_someone_else_is_put_back(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    objects = [config_map(namespace, "a", k="1")]
    await manager.apply_all(objects)
    await kube.patch_merge(
        resources.CONFIG_MAP, "a", {"data": {"k": "edited"}}, namespace=namespace
    )
    again = await manager.apply_all(objects)
    assert actions(again) == {f"ConfigMap/{namespace}/a": Action.CONFIGURED}
    live = await kube.get(resources.CONFIG_MAP, "a", namespace=namespace)
    assert live["data"] == {"k": "1"}


async def test_a_crd_and_its_custom_resource_apply_together(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    group = f"{namespace}.tide.test"
    widget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": namespace},
        "spec": {"size": 3},
    }
    crd = widget_crd(group)
    try:
        # The custom resource comes first in the input: staging must still apply the CRD first.
        result = await manager.apply_all([widget, crd])
        assert [entry.subject for entry in result] == [
            f"CustomResourceDefinition/widgets.{group}",
            f"Widget/{namespace}/w",
        ]
        assert {entry.action for entry in result} == {Action.CREATED}, result.summary()
        rt = await manager.mapper.resource_type(f"{group}/v1", "Widget")
        live = await kube.get(rt, "w", namespace=namespace)
        assert live["spec"] == {"size": 3}
    finally:
        await kube.delete(resources.CRD, crd["metadata"]["name"])


async def test_an_invalid_object_fails_alone_with_the_servers_message(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    bad = config_map(namespace, "Not_A_Valid_Name", k="1")
    result = await manager.apply_all([config_map(namespace, "a"), bad, config_map(namespace, "c")])
    by_subject = {entry.subject: entry for entry in result}
    failed = by_subject[f"ConfigMap/{namespace}/Not_A_Valid_Name"]
    assert failed.action is Action.FAILED
    assert "KubeInvalid" in failed.message and "metadata.name" in failed.message, failed.message
    assert by_subject[f"ConfigMap/{namespace}/c"].action is Action.CREATED
    assert await kube.get_or_none(resources.CONFIG_MAP, "c", namespace=namespace) is not None
    assert failed.id not in {entry["id"] for entry in result.to_inventory()}


async def test_all_or_nothing_writes_nothing_of_a_stage_with_a_refused_object(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    bad = config_map(namespace, "Bad_Name")
    objects = [config_map(namespace, "before"), bad, config_map(namespace, "c")]
    result = await manager.apply_all(objects, all_or_nothing=True)
    assert [(entry.subject, entry.action) for entry in result] == [
        (f"ConfigMap/{namespace}/Bad_Name", Action.FAILED)
    ]
    for name in ("before", "c"):
        assert await kube.get_or_none(resources.CONFIG_MAP, name, namespace=namespace) is None


async def test_an_unknown_kind_fails_naming_its_api_version(
    manager: ResourceManager, namespace: str
) -> None:
    gadget = {
        "apiVersion": "nothing.tide.test/v1",
        "kind": "Gadget",
        "metadata": {"name": "g", "namespace": namespace},
    }
    result = await manager.apply_all([gadget, config_map(namespace, "a")])
    failed, created = result.entries
    assert failed.action is Action.FAILED
    assert "Gadget" in failed.message and "nothing.tide.test/v1" in failed.message
    assert created.action is Action.CREATED


async def test_ssa_if_not_present_creates_but_never_updates(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    first = annotated(config_map(namespace, "a", k="1"), ssa="IfNotPresent")
    assert actions(await manager.apply_all([first])) == {f"ConfigMap/{namespace}/a": "created"}
    changed = annotated(config_map(namespace, "a", k="2"), ssa="IfNotPresent")
    before = kube.total_writes(namespace=namespace)
    assert actions(await manager.apply_all([changed])) == {f"ConfigMap/{namespace}/a": "skipped"}
    assert kube.total_writes(namespace=namespace) == before
    live = await kube.get(resources.CONFIG_MAP, "a", namespace=namespace)
    assert live["data"] == {"k": "1"}


async def test_ssa_ignore_and_reconcile_disabled_are_never_applied(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    ignored = annotated(config_map(namespace, "a"), ssa="Ignore")
    disabled = annotated(config_map(namespace, "b"), reconcile="disabled")
    result = await manager.apply_all([ignored, disabled])
    assert {entry.action for entry in result} == {Action.SKIPPED}
    assert await kube.get_or_none(resources.CONFIG_MAP, "a", namespace=namespace) is None
    assert await kube.get_or_none(resources.CONFIG_MAP, "b", namespace=namespace) is None
    assert len(result.to_inventory()) == 2


async def test_delete_by_inventory_keeps_prune_disabled_and_foreign_objects(
    kube: KubeClient, manager: ResourceManager, namespace: str
) -> None:
    kept = annotated(config_map(namespace, "kept"), prune="disabled")
    applied = await manager.apply_all([config_map(namespace, "gone"), kept])
    await kube.create(resources.CONFIG_MAP, config_map(namespace, "foreign"))
    inventory = [*applied.to_inventory(), {"id": f"{namespace}_foreign__ConfigMap", "v": "v1"}]
    inventory.append({"id": f"{namespace}_never-existed__ConfigMap", "v": "v1"})

    result = await manager.delete_all(inventory)

    assert actions(result) == {
        f"ConfigMap/{namespace}/gone": Action.DELETED,
        f"ConfigMap/{namespace}/kept": Action.SKIPPED,
        f"ConfigMap/{namespace}/foreign": Action.SKIPPED,
    }
    assert await kube.get_or_none(resources.CONFIG_MAP, "gone", namespace=namespace) is None
    assert await kube.get_or_none(resources.CONFIG_MAP, "kept", namespace=namespace)
    assert await kube.get_or_none(resources.CONFIG_MAP, "foreign", namespace=namespace)


async def test_wait_sees_a_deployment_roll_out(manager: ResourceManager, namespace: str) -> None:
    app = deployment(namespace, "app", replicas=2)
    await manager.apply_all([app])
    assert await manager.wait([app], timeout=60) == []


async def test_wait_names_a_deployment_that_cannot_become_ready(
    manager: ResourceManager, namespace: str
) -> None:
    stuck = deployment(namespace, "stuck", replicas=2, nodeSelector={"no-such": "node"})
    fine = config_map(namespace, "fine")
    await manager.apply_all([stuck, fine])
    problems = await manager.wait([stuck, fine], timeout=5)
    assert problems == [f"Deployment/{namespace}/stuck: 0 of 2 replicas available"]
