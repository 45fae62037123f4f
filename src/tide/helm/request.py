"""What one reconcile asks of Helm, and how long each action may take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tide.api.helm import HelmRelease
from tide.api.meta import parse_duration
from tide.helm.sdk import Options

__all__ = ["ReleaseRequest", "action_options", "action_timeout"]

_DEFAULT_TIMEOUT = 300.0
"""Seconds per Kubernetes operation of an action when neither it nor the release says (5m)."""


@dataclass(frozen=True)
class ReleaseRequest:
    """What the spec asks of Helm for one reconcile.

    Attributes:
        release: the HelmRelease.
        name: the Helm release name.
        namespace: the release (and storage) namespace.
        user: the identity Helm acts as (a ServiceAccount user), None for the controller's own.
        values: the composed values (may hold secrets: never logged).
        config_digest: their digest.
        chart_version: the chart version the source offers, when known without fetching it.
        revision: the source artifact's revision (``lastAttemptedRevision``).
    """

    release: HelmRelease
    name: str
    namespace: str
    user: str | None
    values: dict[str, Any]
    config_digest: str
    chart_version: str | None
    revision: str

    @property
    def generation(self) -> int | None:
        """The HelmRelease generation this request is for."""
        return self.release.metadata.generation


def action_timeout(release: HelmRelease, action: Any) -> float:
    """``<action>.timeout``, else ``spec.timeout``, else 5m, in seconds."""
    text = (getattr(action, "timeout", None) if action else None) or release.spec.timeout
    return parse_duration(text) if text else _DEFAULT_TIMEOUT


def action_options(release: HelmRelease, action: Any) -> Options:
    """How ``action`` (``spec.install``, ``spec.upgrade`` …) runs: its timeout and wait."""
    disabled = bool(getattr(action, "disable_wait", None)) if action else False
    return Options(timeout=action_timeout(release, action), wait=not disabled)
