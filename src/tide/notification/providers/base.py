"""The contract between the notification dispatcher and the provider types.

The dispatcher (``tide.notification.dispatch``) decides *which* events go to *which* Provider; a
provider type (one module per service under ``tide.notification.providers``) decides *how* one
event becomes one request to that service. They meet here, so either side can change without the
other: the dispatcher resolves a Provider object and its Secrets into :class:`ProviderSettings`,
asks :func:`tide.notification.providers.notifier_for` for a :class:`Notifier`, and awaits
:meth:`Notifier.post` for each matching :class:`Event`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Event",
    "InvalidProvider",
    "InvolvedObject",
    "Notifier",
    "ProviderSettings",
    "SendFailed",
]


@dataclass(frozen=True)
class InvolvedObject:
    """The Flux object an event is about."""

    kind: str
    name: str
    namespace: str
    api_version: str = ""
    uid: str = ""


@dataclass(frozen=True)
class Event:
    """One event in Flux's notification JSON shape, as controllers post it.

    ``metadata`` holds the emitter's keys (``revision``, ``token`` never — the dispatcher drops
    secrets) merged with the Alert's ``eventMetadata`` and ``summary``; keys the emitter set win.
    """

    involved_object: InvolvedObject
    severity: str
    """``info`` or ``error``."""
    timestamp: str
    """RFC 3339, UTC."""
    message: str
    reason: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    reporting_controller: str = ""
    reporting_instance: str = ""

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> Event:
        """Parse Flux's event JSON (``involvedObject``, ``severity``, ...)."""
        involved = payload.get("involvedObject") or {}
        return cls(
            involved_object=InvolvedObject(
                kind=str(involved.get("kind") or ""),
                name=str(involved.get("name") or ""),
                namespace=str(involved.get("namespace") or ""),
                api_version=str(involved.get("apiVersion") or ""),
                uid=str(involved.get("uid") or ""),
            ),
            severity=str(payload.get("severity") or "info"),
            timestamp=str(payload.get("timestamp") or ""),
            message=str(payload.get("message") or ""),
            reason=str(payload.get("reason") or ""),
            metadata={str(k): str(v) for k, v in (payload.get("metadata") or {}).items()},
            reporting_controller=str(payload.get("reportingController") or ""),
            reporting_instance=str(payload.get("reportingInstance") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        """Return Flux's event JSON, the body the ``generic`` provider posts."""
        obj = self.involved_object
        involved = {"kind": obj.kind, "namespace": obj.namespace, "name": obj.name}
        if obj.uid:
            involved["uid"] = obj.uid
        if obj.api_version:
            involved["apiVersion"] = obj.api_version
        body: dict[str, Any] = {
            "involvedObject": involved,
            "severity": self.severity,
            "timestamp": self.timestamp,
            "message": self.message,
            "reason": self.reason,
            "reportingController": self.reporting_controller,
            "reportingInstance": self.reporting_instance,
        }
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        return body


@dataclass(frozen=True)
class ProviderSettings:
    """A Provider resolved with its Secrets: everything a provider type needs to send.

    Fields from the Secret (``address``, ``token``, ``username``, ``headers``, ``proxy``) already
    override the spec's, as Flux applies them. Never log an instance: it holds credentials.
    """

    type: str
    name: str
    """``<namespace>/<name>`` of the Provider, for error messages."""
    uid: str = ""
    """The Provider object's ``metadata.uid``: Git commit statuses end in its first segment, so
    each cluster (each Provider) posts its own status on a shared commit."""
    address: str = ""
    channel: str = ""
    username: str = ""
    token: str = ""
    password: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str = ""
    tls: ssl.SSLContext | None = None
    """Built from ``certSecretRef`` (``ca.crt``, ``tls.crt``/``tls.key``); None: system roots."""
    timeout: float = 15.0
    """Seconds for one request (``spec.timeout``, 15s by default)."""
    commit_status_expr: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Other Secret keys some types read (e.g. ``githubAppID``), never logged."""

    def __repr__(self) -> str:  # secrets stay out of logs even when someone prints this
        return f"ProviderSettings(type={self.type!r}, name={self.name!r})"


class InvalidProvider(Exception):
    """The Provider cannot work as configured (bad address, missing token); not retried."""


class SendFailed(Exception):
    """One delivery failed.

    Args:
        message: what failed, naming the Provider and the HTTP status; never a secret.
        retryable: whether trying again later may succeed (5xx, 429, timeouts, refused
            connections); 4xx other than 429 is not.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Notifier(Protocol):
    """Sends events to one configured Provider."""

    async def post(self, event: Event) -> None:
        """Deliver ``event`` once; raise :class:`SendFailed` when it did not arrive."""
        ...

    async def aclose(self) -> None:
        """Release connections; the dispatcher calls it when the Provider changes or goes."""
        ...
