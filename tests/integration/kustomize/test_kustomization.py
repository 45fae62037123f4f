"""Kustomization on the real cluster: apply an overlay from Git, prune, drift, dependencies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import assert_kstatus, events_for, eventually, settled
from tests.integration.kustomize.common import (
    DEPLOYMENT,
    FILES,
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import HELM_RELEASE, KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration


async def test_an_overlay_from_git_is_applied_and_becomes_healthy(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"fleet-{namespace[-8:]}"
    commit = git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {
        "path": "./apps/production", "wait": True, "timeout": "60s",
        "postBuild": {"substitute": {"color": "green"}},
    })  # fmt: skip

    obj = await wait_for(kube, namespace, "apps", status="True")
    revision = f"main@sha1:{commit}"
    assert ready_condition(obj)["message"] == f"Applied revision: {revision}"
    assert obj["status"]["lastAppliedRevision"] == revision
    assert obj["status"]["lastAttemptedRevision"] == revision
    ids = {entry["id"] for entry in obj["status"]["inventory"]["entries"]}
    assert ids == {f"{namespace}_podinfo_apps_Deployment", f"{namespace}_podinfo-config__ConfigMap"}
    [snapshot] = obj["status"]["history"]
    assert snapshot["lastReconciledStatus"] == "ReconciliationSucceeded"
    assert snapshot["metadata"] == {"revision": revision}
    assert snapshot["totalReconciliations"] == 1 and snapshot["digest"].startswith("sha256:")
    assert_kstatus(obj)
    deployment = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "apps"
    assert deployment["status"].get("availableReplicas") == 3
    config = await kube.get(resources.CONFIG_MAP, "podinfo-config", namespace=namespace)
    assert config["data"]["color"] == "green"


async def test_a_file_removed_from_git_is_pruned_and_drift_is_put_back(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"prune-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {"path": "./apps/production"})
    await wait_for(kube, namespace, "apps", status="True")

    # Drift: someone scales the Deployment by hand; the next reconcile puts it back.
    await kube.patch_merge(DEPLOYMENT, "podinfo", {"spec": {"replicas": 1}}, namespace=namespace)
    await request_reconcile(kube, KUSTOMIZATION, namespace, "apps", "drift")

    async def restored() -> bool:
        live = await kube.get(DEPLOYMENT, "podinfo", namespace=namespace)
        return live["spec"]["replicas"] == 3

    await eventually(restored, what="the drifted replicas to be put back")

    head = git_server.commit(repo, {
        "apps/base/podinfo/config.yaml": None,
        "apps/base/podinfo/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    })  # fmt: skip
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "prune")

    async def pruned() -> bool:
        gone = await kube.get_or_none(resources.CONFIG_MAP, "podinfo-config", namespace=namespace)
        return gone is None

    await eventually(pruned, what="the ConfigMap removed from Git to be pruned")

    async def reported() -> dict[str, Any] | None:
        # The prune happens before the status that reports it is written.
        obj = await wait_for(kube, namespace, "apps", status="True")
        applied = obj["status"].get("lastAppliedRevision", "").endswith(head)
        return obj if applied else None

    obj = await eventually(reported, what="the pruning reconcile to be reported")
    assert [e["id"] for e in obj["status"]["inventory"]["entries"]] == [
        f"{namespace}_podinfo_apps_Deployment"
    ]


async def test_nothing_changed_means_nothing_written(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"idle-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {"path": "./apps/production"})
    await wait_for(kube, namespace, "apps", status="True")

    async def change_set_event_recorded() -> bool:  # it follows the status write
        events = await events_for(kube, namespace, "apps")
        return any(e["reason"] == "ReconciliationSucceeded" for e in events)

    await eventually(change_set_event_recorded, what="the change-set event")
    # The event is written inside the reconcile: once settled, every reply to it has come back.
    await settled(kube, controllers, KUSTOMIZATION, namespace, "apps")
    applied_kinds = ("Deployment", "ConfigMap")
    applied = controllers.client.total_writes(namespace=namespace, kinds=applied_kinds)
    writes = controllers.client.total_writes(namespace=namespace)
    own = controllers.client.total_writes(namespace=namespace, kinds=("Kustomization",))
    await request_reconcile(kube, KUSTOMIZATION, namespace, "apps", "again")

    async def handled() -> bool:
        obj = await kube.get(KUSTOMIZATION, "apps", namespace=namespace)
        return obj["status"].get("lastHandledReconcileAt") == "again"

    await eventually(handled, what="the requested reconcile")
    # Nothing was applied again and no event recorded: the only writes are the Kustomization's
    # status (the progress mark a reconcile request gets, and lastHandledReconcileAt).
    after = controllers.client.total_writes(namespace=namespace, kinds=applied_kinds)
    assert after == applied, controllers.client.writes
    new_writes = controllers.client.total_writes(namespace=namespace) - writes
    new_own = controllers.client.total_writes(namespace=namespace, kinds=("Kustomization",)) - own
    assert new_writes == new_own <= 2, controllers.client.writes


async def test_a_path_that_does_not_build_reports_build_failed_and_keeps_what_was_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"broken-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {"path": "./apps/production"})
    good = await wait_for(kube, namespace, "apps", status="True")

    git_server.commit(repo, {"apps/production/kustomization.yaml": "resources: [ not: valid\n"})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "break")
    obj = await wait_for(kube, namespace, "apps", status="False", reason="BuildFailed")
    assert "kustomization.yaml" in ready_condition(obj)["message"]
    assert obj["status"]["inventory"] == good["status"]["inventory"]
    assert obj["status"]["lastAppliedRevision"] == good["status"]["lastAppliedRevision"]
    assert obj["status"]["lastAttemptedRevision"] != good["status"]["lastAppliedRevision"]
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None


async def test_depends_on_waits_for_the_dependency(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"deps-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {
        "path": "./apps/production", "dependsOn": [{"name": "infra"}], "retryInterval": "2s",
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "apps", status="False", reason="DependencyNotReady")
    assert ready_condition(obj)["message"] == f"dependency '{namespace}/infra' not found"

    await create_kustomization(
        kube, namespace, "infra", {"path": "./apps/base/podinfo", "targetNamespace": namespace}
    )
    await wait_for(kube, namespace, "infra", status="True")
    await wait_for(kube, namespace, "apps", status="True")


async def test_depends_on_may_name_a_helm_release(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"hrdep-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await kube.create(HELM_RELEASE, {
        "metadata": {"name": "database", "namespace": namespace},
        "spec": {"interval": "10m", "chart": {"spec": {
            "chart": "postgres", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}},
    })  # fmt: skip
    await create_kustomization(kube, namespace, "apps", {
        "path": "./apps/base/podinfo", "dependsOn": [{"kind": "HelmRelease", "name": "database"}],
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "apps", status="False", reason="DependencyNotReady")
    assert ready_condition(obj)["message"] == (
        f"HelmRelease dependency '{namespace}/database' is not ready"
    )

    # The release becomes ready (as a Helm controller would report it): the Kustomization
    # proceeds at once, without waiting for its retry interval.
    release = await kube.get(HELM_RELEASE, "database", namespace=namespace)
    generation = release["metadata"]["generation"]
    release["status"] = {"observedGeneration": generation, "conditions": [{
        "type": "Ready", "status": "True", "reason": "InstallSucceeded", "message": "installed",
        "observedGeneration": generation, "lastTransitionTime": "2026-11-22T12:00:00Z",
    }]}  # fmt: skip
    await kube.apply_status(HELM_RELEASE, release, field_manager="helm-controller")
    await wait_for(kube, namespace, "apps", status="True", timeout=20)
