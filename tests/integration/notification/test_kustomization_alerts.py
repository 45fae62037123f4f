"""Alerts on Tide's own Kustomizations: their events reach Providers in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tests.integration.kustomize.common import FILES, create_kustomization, given_source, wait_for
from tests.integration.notification.common import create_alert, create_provider, providers_ready
from tests.integration.notification.conftest import FAST_RETRY
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.notification import DispatchOptions
from tide.testing import GitServer

pytestmark = pytest.mark.integration


async def warning_count(kube: KubeClient, namespace: str, name: str) -> int:
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    return sum(
        e.get("count") or 1 for e in events
        if e["involvedObject"].get("kind") == "Kustomization"
        and e["involvedObject"].get("name") == name and e["type"] == "Warning"
    )  # fmt: skip


async def test_a_failing_kustomization_sends_exactly_one_alert(
    kube: KubeClient,
    namespace: str,
    controllers: Callable[..., Any],
    sinks: Callable[..., Any],
    git_server: GitServer,
) -> None:
    git_server.create_repo(f"{namespace}-fleet", FILES)
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY), kustomize=True)
    sink = await sinks()
    await create_provider(kube, namespace, "hook", address=sink.url)
    await create_alert(kube, namespace, "errors", provider="hook", eventSeverity="error")
    await providers_ready(dispatcher, kube, namespace)
    await given_source(kube, namespace, git_server, f"{namespace}-fleet")

    await create_kustomization(
        kube, namespace, "apps", {"path": "./missing", "retryInterval": "1s"}
    )

    async def retried() -> bool:  # three failed attempts, each with its Warning event
        return await warning_count(kube, namespace, "apps") >= 3

    await eventually(retried, timeout=60, what="the Kustomization to fail three times")
    await dispatcher.settle()
    [alert] = sink.received
    assert alert["involvedObject"]["kind"] == "Kustomization"
    assert alert["involvedObject"]["name"] == "apps"
    assert alert["severity"] == "error"
    assert "missing" in alert["message"]
    assert alert["reportingController"] == "kustomize-controller"


async def test_a_kustomization_applied_reaches_an_info_alert(
    kube: KubeClient,
    namespace: str,
    controllers: Callable[..., Any],
    sinks: Callable[..., Any],
    git_server: GitServer,
) -> None:
    git_server.create_repo(f"{namespace}-fleet", FILES)
    dispatcher = await controllers(DispatchOptions(retry=FAST_RETRY), kustomize=True)
    sink, errors_sink = await sinks(), await sinks()
    await create_provider(kube, namespace, "everything", address=sink.url)
    await create_provider(kube, namespace, "errors-only", address=errors_sink.url)
    await create_alert(kube, namespace, "info", provider="everything")
    await create_alert(kube, namespace, "errors", provider="errors-only", eventSeverity="error")
    await providers_ready(dispatcher, kube, namespace)
    await given_source(kube, namespace, git_server, f"{namespace}-fleet")

    await create_kustomization(kube, namespace, "apps", {"path": "./apps/production"})

    ready = await wait_for(kube, namespace, "apps", status="True")
    revision = ready["status"]["lastAppliedRevision"]

    async def succeeded() -> list[dict[str, Any]]:  # the event is recorded after the status
        await dispatcher.settle()
        found = [
            e for e in sink.received
            if e["involvedObject"]["name"] == "apps" and e["reason"] == "ReconciliationSucceeded"
        ]  # fmt: skip
        return found if len(found) == 2 else []

    events = await eventually(succeeded, what="the change set and the applied revision")
    assert [e["severity"] for e in events] == ["info", "info"]
    change_set, applied = (e["message"] for e in events)
    assert f"Deployment/{namespace}/podinfo created" in change_set.splitlines()
    assert applied == f"Applied revision: {revision}"
    assert errors_sink.received == []
