"""What one reconcile asks of Helm, and how long each action may take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tide.api.helm import HelmRelease
from tide.api.meta import parse_duration
from tide.helm import postrender
from tide.helm.sdk import Options

__all__ = ["ReleaseRequest", "action_options", "action_timeout"]

_DEFAULT_TIMEOUT = 300.0
"""Seconds per Kubernetes operation of an action when neither it nor the release says (5m)."""
_DEFAULT_MAX_HISTORY = 5
"""Release revisions Helm keeps when ``spec.maxHistory`` is not set (Flux's default)."""


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

    @property
    def render(self) -> dict[str, Any] | None:
        """What Helm's post-render step does (``postRenderers``, ``commonMetadata``), if any."""
        return postrender.render_spec(self.release)

    @property
    def render_digests(self) -> dict[str, str]:
        """The status fields that record which post-rendering a release was made with."""
        return {
            "observedPostRenderersDigest": postrender.post_renderers_digest(self.release),
            "observedCommonMetadataDigest": postrender.common_metadata_digest(self.release),
        }


def action_timeout(release: HelmRelease, action: Any) -> float:
    """``<action>.timeout``, else ``spec.timeout``, else 5m, in seconds."""
    text = (getattr(action, "timeout", None) if action else None) or release.spec.timeout
    return parse_duration(text) if text else _DEFAULT_TIMEOUT


def action_options(release: HelmRelease, action: Any) -> Options:
    """How ``action`` (``spec.install``, ``spec.upgrade`` …) runs, from its own settings.

    Settings an action has no field for are off (the ``crds`` policy is
    :mod:`tide.helm.crds`'s); ``spec.maxHistory`` (default 5) bounds what an upgrade keeps.
    """

    def flag(name: str) -> bool:
        return bool(getattr(action, name, None))

    max_history = release.spec.max_history

    return Options(
        timeout=action_timeout(release, action),
        wait=not flag("disable_wait"),
        wait_for_jobs=not flag("disable_wait_for_jobs"),
        disable_hooks=flag("disable_hooks"),
        disable_openapi_validation=flag("disable_open_api_validation"),
        force=flag("force"),
        replace=flag("replace"),
        cleanup_on_fail=flag("cleanup_on_fail"),
        deletion_propagation=getattr(action, "deletion_propagation", None),
        create_namespace=flag("create_namespace"),
        max_history=_DEFAULT_MAX_HISTORY if max_history is None else max_history,
        reuse_values=flag("preserve_values"),
    )
