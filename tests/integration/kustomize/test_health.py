"""Health checks: ``healthCheckExprs`` (CEL) judge kinds kstatus cannot; a CRD and its CR apply."""

from __future__ import annotations

import time

import pytest

from tests.integration.helpers import condition, events_for, eventually
from tests.integration.kustomize.common import (
    DEPLOYMENT,
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration

WIDGET = ResourceType("example.tide.dev", "v1", "Widget", "widgets")
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.tide.dev
spec:
  group: example.tide.dev
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""
WIDGET_MANIFEST = """\
apiVersion: example.tide.dev/v1
kind: Widget
metadata:
  name: gear
spec:
  size: 3
"""
EXPRS = [{
    "apiVersion": "example.tide.dev/v1",
    "kind": "Widget",
    "current": "status.?phase.orValue('') == 'Ready'",
    "failed": "status.?phase.orValue('') == 'Failed'",
}]  # fmt: skip


async def set_phase(kube: KubeClient, namespace: str, phase: str) -> None:
    await kube.patch_merge(WIDGET, "gear", {"status": {"phase": phase}}, namespace=namespace)


async def test_health_check_exprs_judge_a_custom_resource_applied_with_its_crd(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"widgets-{namespace[-8:]}"
    # The CRD and its custom resource in one Kustomization: the CRD is applied (and
    # Established) in an earlier stage than the Widget.
    git_server.create_repo(repo, {"widgets/crd.yaml": CRD, "widgets/gear.yaml": WIDGET_MANIFEST})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "widgets", {
        "path": "./widgets", "wait": True, "timeout": "20s", "healthCheckExprs": EXPRS,
    })  # fmt: skip

    async def widget_applied() -> bool:
        return await kube.get_or_none(WIDGET, "gear", namespace=namespace) is not None

    await eventually(widget_applied, what="the Widget to be applied after its CRD")
    await set_phase(kube, namespace, "Failed")
    obj = await wait_for(kube, namespace, "widgets", status="False", reason="HealthCheckFailed")
    message = ready_condition(obj)["message"]
    assert f"Widget/{namespace}/gear" in message
    assert "healthCheckExprs: failed expression" in message, message

    await set_phase(kube, namespace, "Ready")
    await request_reconcile(kube, KUSTOMIZATION, namespace, "widgets", "healthy")
    await wait_for(kube, namespace, "widgets", status="True")


async def test_an_expression_that_does_not_compile_stalls_before_anything_is_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"badcel-{namespace[-8:]}"
    git_server.create_repo(repo, {"widgets/crd.yaml": CRD})
    await given_source(kube, namespace, git_server, repo)
    broken = [{**EXPRS[0], "current": "status.phase =="}]
    await create_kustomization(kube, namespace, "widgets", {
        "path": "./widgets", "wait": True, "healthCheckExprs": broken,
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "widgets", status="False", reason="InvalidCELExpression")
    message = ready_condition(obj)["message"]
    assert "healthCheckExprs[0]" in message and "current" in message, message
    stalled = [c for c in obj["status"]["conditions"] if c["type"] == "Stalled"]
    assert stalled and stalled[0]["status"] == "True"
    assert obj["status"].get("inventory") is None


STUCK = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      nodeSelector: {%s}
      containers: [{name: app, image: ghcr.io/stefanprodan/podinfo:6.7.0}]
"""


async def test_a_newer_source_revision_cancels_a_running_health_check(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"cancel-{namespace[-8:]}"
    # No node has this label: the Deployment never becomes available.
    git_server.create_repo(repo, {"app/deploy.yaml": STUCK % "disk: nowhere"})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./app", "wait": True, "timeout": "5m",
    })  # fmt: skip

    async def health_check_under_way() -> bool:
        obj = await kube.get(KUSTOMIZATION, "app", namespace=namespace)
        reconciling = condition(obj, "Reconciling") or {}
        return reconciling.get("message", "").startswith("Running health checks")

    await eventually(health_check_under_way, what="the health check to be under way")
    assert await kube.get_or_none(DEPLOYMENT, "stuck", namespace=namespace) is not None

    git_server.commit(repo, {"app/deploy.yaml": STUCK % ""})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "fixed")
    # Well within the 5 minute timeout: the stuck wait was dropped for the new revision.
    await wait_for(kube, namespace, "app", status="True", timeout=45)
    reasons_seen = [e["reason"] for e in await events_for(kube, namespace, "app")]
    assert "HealthCheckCanceled" in reasons_seen, reasons_seen


async def _health_check_under_way(kube: KubeClient, namespace: str, name: str) -> float:
    """Wait until ``name``'s health check is under way; return when that was seen."""

    async def checking() -> bool:
        obj = await kube.get(KUSTOMIZATION, name, namespace=namespace)
        reconciling = condition(obj, "Reconciling") or {}
        return reconciling.get("message", "").startswith("Running health checks")

    await eventually(checking, timeout=60, what=f"{name}'s health check under way")
    return time.monotonic()


async def _past(moment: float, *, what: str) -> None:
    """Wait until ``time.monotonic()`` passes ``moment``: the scenario needs a timeout to lapse."""

    async def passed() -> bool:
        return time.monotonic() > moment

    await eventually(passed, timeout=30, what=what)


async def test_a_health_check_parked_across_a_dependency_wait_starts_afresh(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"parked-{namespace[-8:]}"
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  n: '1'\n"
    # No node has this label: the Deployment never becomes available.
    git_server.create_repo(repo, {"stuck/deploy.yaml": STUCK % "disk: nowhere",
                                  "base/config.yaml": plain})  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "base", {"path": "./base"})
    await wait_for(kube, namespace, "base", status="True")
    await create_kustomization(kube, namespace, "app", {
        "path": "./stuck", "wait": True, "timeout": "10s", "dependsOn": [{"name": "base"}],
    })  # fmt: skip

    started = await _health_check_under_way(kube, namespace, "app")
    await kube.patch_merge(KUSTOMIZATION, "base", {"spec": {"path": "./gone"}}, namespace=namespace)
    await wait_for(kube, namespace, "app", status="False", reason="DependencyNotReady")

    await _past(started + 11, what="app's first 10 s timeout")
    await kube.patch_merge(KUSTOMIZATION, "base", {"spec": {"path": "./base"}}, namespace=namespace)
    await wait_for(kube, namespace, "base", status="True")
    recovered = time.monotonic()

    obj = await wait_for(kube, namespace, "app", status="False", reason="HealthCheckFailed")
    # A fresh check with its own 10 s timeout, not the parked one failing at once.
    assert time.monotonic() - recovered > 6
    assert "Deployment/" in ready_condition(obj)["message"]


async def test_a_health_check_parked_then_suspended_past_its_timeout_starts_afresh(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"suspended-{namespace[-8:]}"
    git_server.create_repo(repo, {"stuck/deploy.yaml": STUCK % "disk: nowhere"})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {
        "path": "./stuck", "wait": True, "timeout": "10s",
    })  # fmt: skip

    started = await _health_check_under_way(kube, namespace, "app")
    await kube.patch_merge(KUSTOMIZATION, "app", {"spec": {"suspend": True}}, namespace=namespace)

    await _past(started + 11, what="app's first 10 s timeout")
    await kube.patch_merge(KUSTOMIZATION, "app", {"spec": {"suspend": False}}, namespace=namespace)
    resumed = time.monotonic()

    obj = await wait_for(kube, namespace, "app", status="False", reason="HealthCheckFailed")
    assert time.monotonic() - resumed > 6  # its own 10 s, not the parked check's old deadline
    warnings = [e for e in await events_for(kube, namespace, "app") if e["type"] == "Warning"]
    assert not [e for e in warnings if e["reason"] == "HealthCheckCanceled"]
    assert "Deployment/" in ready_condition(obj)["message"]
