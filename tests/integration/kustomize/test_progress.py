"""What a Kustomization shows while it works, and what it keeps track of afterwards.

Clients (``kubectl get``, ``flux get``/``tree``/``events``, Argo CD) read the object mid-way
through a long health check: they must see the work under way, the objects already applied and
the change set, not the previous verdict.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import assert_kstatus, condition, events_for, eventually
from tests.integration.kustomize.common import (
    create_kustomization,
    given_source,
    request_reconcile,
    wait_for,
)
from tests.integration.kustomize.test_tenancy import ROLE, given_tenant
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration

# No node carries this label, so the Deployment never becomes available.
STUCK = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {disk: nowhere}
      containers: [{name: app, image: ghcr.io/stefanprodan/podinfo:6.7.0}]
"""
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"


def config_map(name: str, annotations: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{annotations}data:\n  a: b\n"
    )


async def health_check_running(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    """Wait until the Kustomization says it runs its health check; return the object."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(KUSTOMIZATION, name, namespace=namespace)
        reconciling = condition(obj, "Reconciling") or {}
        running = reconciling.get("message", "").startswith("Running health checks")
        return obj if running else None

    return await eventually(probe, timeout=45, what=f"{name}'s health check to be under way")


async def test_a_running_health_check_shows_progress_inventory_and_change_set(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"progress-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/deploy.yaml": STUCK, "app/config.yaml": CONFIG})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "wait": True, "timeout": "15s",
    })  # fmt: skip

    obj = await health_check_running(kube, namespace, "app")
    status = obj["status"]
    revision = status["lastAttemptedRevision"]
    reconciling = condition(obj, "Reconciling")
    assert reconciling["reason"] == "Progressing"
    assert reconciling["message"] == (
        f"Running health checks for revision {revision} with a timeout of 15s"
    )
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "Progressing",
        "Reconciliation in progress",
    )
    healthy = condition(obj, "Healthy")
    assert (healthy["status"], healthy["reason"]) == ("Unknown", "Progressing")
    ids = sorted(entry["id"] for entry in status["inventory"]["entries"])
    assert ids == [f"{namespace}_settings__ConfigMap", f"{namespace}_stuck_apps_Deployment"]
    assert_kstatus(obj)
    messages = [e["message"] for e in await events_for(kube, namespace, "app")]
    change_set = [m for m in messages if f"Deployment/{namespace}/stuck created" in m]
    assert change_set, messages
    assert f"ConfigMap/{namespace}/settings created" in change_set[0]

    failed = await wait_for(kube, namespace, "app", status="False", reason="HealthCheckFailed")
    healthy = condition(failed, "Healthy")
    assert (healthy["status"], healthy["reason"]) == ("False", "HealthCheckFailed")
    assert f"Deployment/{namespace}/stuck" in healthy["message"]
    assert condition(failed, "Ready")["message"].startswith("health check failed after 15s")
    assert_kstatus(failed)


async def test_a_kustomization_created_before_its_source_shows_progress_once_it_can_work(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    # As one `kubectl apply` of a GitRepository and its Kustomization does: the Kustomization's
    # first look finds no artifact; its next attempt is the real one and must say so.
    repo = f"together-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/deploy.yaml": STUCK})
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "wait": True, "timeout": "2m",
    })  # fmt: skip
    waiting = await wait_for(kube, namespace, "app", status="False", reason="ArtifactFailed")
    assert "not found" in condition(waiting, "Ready")["message"]

    await given_source(kube, namespace, git_server, repo)
    obj = await health_check_running(kube, namespace, "app")
    ready = condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "Progressing")
    assert "with a timeout of 2m0s" in condition(obj, "Reconciling")["message"]
    assert_kstatus(obj)


async def test_health_checks_are_absent_without_wait_and_passed_with_it(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"healthy-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/config.yaml": CONFIG})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "plain", {"path": "./app"})
    await create_kustomization(kube, namespace, "waited", {
        "path": "./app", "wait": True, "namePrefix": "w-",
    })  # fmt: skip
    plain = await wait_for(kube, namespace, "plain", status="True")
    assert condition(plain, "Healthy") is None
    waited = await wait_for(kube, namespace, "waited", status="True")
    healthy = condition(waited, "Healthy")
    assert (healthy["status"], healthy["reason"], healthy["message"]) == (
        "True",
        "Succeeded",
        "Health check passed",
    )


async def test_an_object_left_in_place_by_prune_leaves_the_inventory_with_git(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"keep-{namespace[-8:]}"
    keep = "  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"
    git_server.create_repo(repo, {
        "app/kept.yaml": config_map("kept", keep), "app/other.yaml": config_map("other"),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})
    obj = await wait_for(kube, namespace, "app", status="True")
    ids = sorted(entry["id"] for entry in obj["status"]["inventory"]["entries"])
    assert ids == [f"{namespace}_kept__ConfigMap", f"{namespace}_other__ConfigMap"]

    git_server.commit(repo, {"app/kept.yaml": None})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "removed")

    async def inventory_without_kept() -> dict[str, Any] | None:
        obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
        ids = [entry["id"] for entry in obj["status"]["inventory"]["entries"]]
        return obj if ids == [f"{namespace}_other__ConfigMap"] else None

    await eventually(inventory_without_kept, what="the kept ConfigMap to leave the inventory")
    # Left in the cluster, as its annotation asks, but no longer tracked.
    assert await kube.get_or_none(resources.CONFIG_MAP, "kept", namespace=namespace) is not None


async def test_a_deletion_waiting_for_its_dependents_says_so_in_ready_and_an_event(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"waits-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "base/cm.yaml": config_map("base"), "app/cm.yaml": config_map("app"),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "base", {"path": "./base"})
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "dependsOn": [{"name": "base"}],
    })  # fmt: skip
    await wait_for(kube, namespace, "app", status="True")
    # Someone else's finalizer keeps the dependent in its deletion.
    hold = {"metadata": {"finalizers": ["finalizers.fluxcd.io", "example.com/hold"]}}
    await kube.patch_merge(KUSTOMIZATION, "app", hold, namespace=namespace)
    await kube.delete(KUSTOMIZATION, "app", namespace=namespace)
    await kube.delete(KUSTOMIZATION, "base", namespace=namespace)

    async def base_says_why() -> dict[str, Any] | None:
        obj = await kube.get_or_none(KUSTOMIZATION, "base", namespace=namespace)
        ready = condition(obj or {}, "Ready") or {}
        waits = ready.get("message", "").startswith("waiting for dependents to be deleted")
        return obj if waits and ready.get("reason") == "DependencyNotReady" else None

    obj = await eventually(base_says_why, what="base's Ready to name the dependents it waits on")
    assert f"'{namespace}/app'" in condition(obj, "Ready")["message"]

    async def event_recorded() -> bool:  # recorded just after the status write
        events = await events_for(kube, namespace, "base")
        return any(e["message"].startswith("waiting for dependents") for e in events)

    await eventually(event_recorded, what="an event naming the wait for dependents")

    await kube.patch_merge(
        KUSTOMIZATION, "app", {"metadata": {"finalizers": []}}, namespace=namespace
    )

    async def base_gone() -> bool:
        return await kube.get_or_none(KUSTOMIZATION, "base", namespace=namespace) is None

    await eventually(base_gone, timeout=45, what="base to be deleted once app is gone")
    assert await kube.get_or_none(resources.CONFIG_MAP, "base", namespace=namespace) is None


async def test_a_deletion_that_cannot_prune_says_why_in_ready_and_keeps_the_finalizer(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"noprune-{namespace[-8:]}"
    git_server.create_repo(repo, {"app/cm.yaml": config_map("owned")})
    await given_source(kube, namespace, git_server, repo)
    # The tenant may apply ConfigMaps but not delete them.
    no_delete = ["get", "list", "watch", "create", "update", "patch"]
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": no_delete}]
    await given_tenant(kube, namespace, rules)
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "serviceAccountName": "tenant",
    })  # fmt: skip
    await wait_for(kube, namespace, "app", status="True")
    await kube.delete(KUSTOMIZATION, "app", namespace=namespace)

    async def prune_failure_shown() -> dict[str, Any] | None:
        obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
        ready = condition(obj, "Ready") or {}
        return obj if ready.get("reason") == "PruneFailed" else None

    obj = await eventually(prune_failure_shown, what="the failed prune to reach Ready")
    message = condition(obj, "Ready")["message"]
    assert message.startswith("pruning failed")
    assert f"ConfigMap/{namespace}/owned" in message and "forbidden" in message
    assert "finalizers.fluxcd.io" in obj["metadata"]["finalizers"]

    async def warning_recorded() -> bool:
        events = await events_for(kube, namespace, "app")
        return any(e["reason"] == "PruneFailed" and e["type"] == "Warning" for e in events)

    await eventually(warning_recorded, what="a PruneFailed Warning event")

    rules[0]["verbs"] = [*no_delete, "delete"]
    await kube.patch_merge(ROLE, "tenant", {"rules": rules}, namespace=namespace)

    async def deleted() -> bool:
        return await kube.get_or_none(KUSTOMIZATION, "app", namespace=namespace) is None

    await eventually(deleted, timeout=60, what="the deletion to finish once pruning may delete")
    assert await kube.get_or_none(resources.CONFIG_MAP, "owned", namespace=namespace) is None
