"""``tide why`` walks dependencies and sources to the root cause; ``tree`` reads inventories."""

from __future__ import annotations

from typing import Any

import pytest

from tide.cli.why import describe
from tide.inspect import inventory as _inventory
from tide.inspect.why import explain

pytestmark = pytest.mark.unit


def obj(kind: str, name: str, spec: dict, ready: str | None, reason: str = "", message: str = ""):
    status: dict[str, Any] = {}
    if ready is not None:
        status["conditions"] = [
            {"type": "Ready", "status": ready, "reason": reason, "message": message}
        ]
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": "ns"},
        "spec": spec,
        "status": status,
    }


def world(*objects: dict) -> Any:
    found = {(o["kind"], o["metadata"]["name"], "ns"): o for o in objects}

    async def fetch(kind: str, name: str, namespace: str) -> dict | None:
        return found.get((kind, name, namespace))

    return fetch


SOURCE = {"sourceRef": {"kind": "GitRepository", "name": "fleet"}}


async def test_the_chain_runs_through_a_dependency_to_a_failing_source() -> None:
    fetch = world(
        obj("Kustomization", "apps", {**SOURCE, "dependsOn": [{"name": "infra"}]}, "False",
            "DependencyNotReady", "dependency 'ns/infra' is not ready"),
        obj("Kustomization", "infra", {"sourceRef": {"kind": "GitRepository", "name": "infra"}},
            "False", "ArtifactFailed", "Source 'GitRepository/ns/infra' is not ready"),
        obj("GitRepository", "fleet", {}, "True", "Succeeded", "stored"),
        obj("GitRepository", "infra", {}, "False", "GitOperationFailed", "auth failed"),
    )  # fmt: skip

    chain = await explain(fetch, "Kustomization", "apps", "ns")

    assert describe(chain) == [
        "✗ Kustomization/ns/apps is not Ready (DependencyNotReady): "
        "dependency 'ns/infra' is not ready",
        "  → depends on Kustomization/ns/infra: not Ready (ArtifactFailed): Source "
        "'GitRepository/ns/infra' is not ready",
        "  → gets its source from GitRepository/ns/infra: "
        "not Ready (GitOperationFailed): auth failed",
        "root cause: GitRepository/ns/infra — GitOperationFailed: auth failed",
    ]


async def test_an_object_failing_on_its_own_is_its_own_root_cause() -> None:
    fetch = world(
        obj("Kustomization", "apps", SOURCE, "False", "BuildFailed", "path not found"),
        obj("GitRepository", "fleet", {}, "True", "Succeeded", "stored"),
    )
    chain = await explain(fetch, "Kustomization", "apps", "ns")
    assert describe(chain)[-1] == "root cause: Kustomization/ns/apps — BuildFailed: path not found"


async def test_a_missing_or_suspended_link_is_named_as_the_cause() -> None:
    missing = world(obj("Kustomization", "apps", SOURCE, "False", "ArtifactFailed", "no source"))
    suspended = world(
        obj("Kustomization", "apps", SOURCE, "False", "ArtifactFailed", "not ready"),
        obj("GitRepository", "fleet", {"suspend": True}, "False", "Failed", "old failure"),
    )
    gone = await explain(missing, "Kustomization", "apps", "ns")
    held = await explain(suspended, "Kustomization", "apps", "ns")
    assert describe(gone)[-1] == "root cause: GitRepository/ns/fleet does not exist"
    assert describe(held)[-1] == (
        "root cause: GitRepository/ns/fleet is suspended (tide resume resumes it)"
    )


async def test_a_helm_release_leads_to_its_chart_and_a_ready_object_says_so() -> None:
    chart_spec = {"chart": "web", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}
    release = obj("HelmRelease", "web", {"chart": {"spec": chart_spec}}, "False", "X", "chart")
    chart = obj("HelmChart", "ns-web", {}, "False", "InvalidChartReference", "no 9.x")
    chain = await explain(world(release, chart), "HelmRelease", "web", "ns")
    assert chain[-1].ref == "HelmChart/ns/ns-web"
    ready = world(obj("GitRepository", "fleet", {}, "True", "Succeeded", "stored"))
    assert describe(await explain(ready, "GitRepository", "fleet", "ns")) == [
        "✔ GitRepository/ns/fleet is Ready: stored"
    ]


async def test_a_dependency_cycle_ends_the_walk() -> None:
    fetch = world(
        obj(
            "Kustomization", "a", {"dependsOn": [{"name": "b"}]}, "False", "DependencyNotReady", "b"
        ),
        obj(
            "Kustomization", "b", {"dependsOn": [{"name": "a"}]}, "False", "DependencyNotReady", "a"
        ),
    )
    chain = await explain(fetch, "Kustomization", "a", "ns")
    assert [link.ref for link in chain][:2] == ["Kustomization/ns/a", "Kustomization/ns/b"]
    assert chain[-1].message == "dependency cycle"


def test_inventory_ids_split_into_namespace_name_group_kind() -> None:
    status = {"inventory": {"entries": [
        {"id": "apps_web_apps_Deployment", "v": "v1"},
        {"id": "_apps__Namespace", "v": "v1"},
    ]}}  # fmt: skip
    refs = _inventory.entries_of({"status": status})
    assert [ref.subject for ref in refs] == ["Deployment/apps/web", "Namespace/apps"]
    with pytest.raises(ValueError, match="not an inventory id"):
        _inventory.entries_of({"status": {"inventory": {"entries": [{"id": "bad"}]}}})
