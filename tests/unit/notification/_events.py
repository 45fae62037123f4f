"""Builders of events and Alerts for the notification unit tests."""

from __future__ import annotations

from typing import Any

from tide.api.notification import Alert
from tide.notification.providers.base import Event, InvolvedObject


def event(
    *,
    kind: str = "Kustomization",
    name: str = "apps",
    namespace: str = "team-a",
    severity: str = "error",
    reason: str = "BuildFailed",
    message: str = "kustomize build failed: missing resource",
    metadata: dict[str, str] | None = None,
) -> Event:
    return Event(
        involved_object=InvolvedObject(kind=kind, name=name, namespace=namespace),
        severity=severity,
        timestamp="2026-01-01T00:00:00Z",
        message=message,
        reason=reason,
        metadata=metadata or {},
    )


def alert(
    namespace: str = "team-a", annotations: dict[str, str] | None = None, **spec: Any
) -> Alert:
    body: dict[str, Any] = {
        "providerRef": {"name": "hook"},
        "eventSources": [{"kind": "Kustomization", "name": "*"}],
        **spec,
    }
    return Alert.model_validate({
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": "Alert",
        "metadata": {"name": "ops", "namespace": namespace, "annotations": annotations or {}},
        "spec": body,
    })  # fmt: skip
