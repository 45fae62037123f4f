"""Annotation, label and finalizer keys: Flux's own, and the few Tide adds (``tide.dev/``)."""

from __future__ import annotations

__all__ = [
    "FINALIZER",
    "FORCE_AT",
    "HELM_RELEASE_NAME",
    "HELM_RELEASE_NAMESPACE",
    "PARTIAL_APPLY",
    "REQUESTED_AT",
    "RESET_AT",
    "WATCH",
    "WATCH_ENABLED",
]

FINALIZER = "finalizers.fluxcd.io"
"""Flux's finalizer name, so objects Flux created are finalized by Tide as well."""
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
"""Annotation whose new value asks for an immediate reconcile (``flux reconcile`` sets it)."""
PARTIAL_APPLY = "tide.dev/partial-apply"
"""Kustomization annotation; ``disabled`` restores Flux's all-or-nothing apply: when the API
server refuses one object of a stage, nothing of that stage or later ones is written. By default
Tide applies every object it can and names the refused ones."""
HELM_RELEASE_NAME = "helm.toolkit.fluxcd.io/name"
"""Label on a HelmChart made for a HelmRelease: the HelmRelease's name (as Flux labels it)."""
HELM_RELEASE_NAMESPACE = "helm.toolkit.fluxcd.io/namespace"
"""Label on a HelmChart made for a HelmRelease: the HelmRelease's namespace."""
FORCE_AT = "reconcile.fluxcd.io/forceAt"
"""HelmRelease annotation: a new value (equal to ``requestedAt``) forces one Helm upgrade even
when the release is in sync (``flux reconcile hr --force``)."""
RESET_AT = "reconcile.fluxcd.io/resetAt"
"""HelmRelease annotation: a new value (equal to ``requestedAt``) resets the failure counts, so a
release stalled by spent retries tries again (``flux reconcile hr --reset``)."""
WATCH = "reconcile.fluxcd.io/watch"
"""Label on a ConfigMap or Secret: with value :data:`WATCH_ENABLED`, a change reconciles the
objects that read it (a HelmRelease's ``valuesFrom``) at once instead of at their interval."""
WATCH_ENABLED = "Enabled"
"""The :data:`WATCH` label's value that turns watching on."""
