"""What the notification tests share: Providers, Alerts, Flux events, Events read back."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from tests.integration.helpers import eventually
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.notification import Dispatcher
from tide.notification.setup import ALERT, PROVIDER


async def create_provider(
    kube: KubeClient, namespace: str, name: str, *, address: str | None = None, **spec: Any
) -> None:
    body: dict[str, Any] = {"type": "generic", **spec}
    if address is not None:
        body["address"] = address
    await kube.create(PROVIDER, {"metadata": {"name": name, "namespace": namespace}, "spec": body})


async def create_secret(kube: KubeClient, namespace: str, name: str, **data: str) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    await kube.create(
        resources.SECRET, {"metadata": {"name": name, "namespace": namespace}, "data": encoded}
    )


async def create_alert(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    provider: str,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> None:
    body = {
        "providerRef": {"name": provider},
        "eventSources": [{"kind": "Kustomization", "name": "*"}],
        **spec,
    }
    metadata = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    await kube.create(ALERT, {"metadata": metadata, "spec": body})


def flux_event(
    namespace: str,
    *,
    name: str = "apps",
    severity: str = "error",
    reason: str = "HealthCheckFailed",
    message: str = "health check failed after 5m0s: timeout waiting for Deployment/web",
    revision: str = "main@sha1:0f3ac1",
) -> dict[str, Any]:
    """An event as Flux's kustomize-controller posts it to the notification-controller."""
    return {
        "involvedObject": {
            "kind": "Kustomization", "namespace": namespace, "name": name,
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        },
        "severity": severity,
        "timestamp": "2026-01-01T00:00:00Z",
        "message": message,
        "reason": reason,
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": revision},
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-7f9c",
    }  # fmt: skip


async def post_event(dispatcher: Dispatcher, payload: dict[str, Any]) -> None:
    """POST ``payload`` to the dispatcher's events endpoint, as a Flux controller does."""
    assert dispatcher.events_server is not None
    url = f"http://127.0.0.1:{dispatcher.events_server.port}/"
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
        assert response.status == 202, await response.text()


async def warnings_on(
    kube: KubeClient, namespace: str, kind: str, name: str, *, reason: str
) -> list[dict[str, Any]]:
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    return [
        e for e in events
        if e["involvedObject"].get("kind") == kind and e["involvedObject"].get("name") == name
        and e["type"] == "Warning" and e["reason"] == reason
    ]  # fmt: skip


async def wait_for_warning(
    kube: KubeClient, namespace: str, kind: str, name: str, *, reason: str
) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        matches = await warnings_on(kube, namespace, kind, name, reason=reason)
        return matches[0] if matches else None

    return await eventually(found, what=f"a {reason} Warning on {kind} {name}")


async def providers_ready(dispatcher: Dispatcher, kube: KubeClient, namespace: str) -> None:
    """Wait until the dispatcher's caches hold the namespace's Alerts and Providers."""
    alerts, _ = await kube.list(ALERT, namespace=namespace)
    providers, _ = await kube.list(PROVIDER, namespace=namespace)

    async def cached() -> bool:
        return dispatcher.knows(
            alerts=[(namespace, a["metadata"]["name"]) for a in alerts],
            providers=[(namespace, p["metadata"]["name"]) for p in providers],
        )

    await eventually(cached, what="Alerts and Providers in the dispatcher's caches")
