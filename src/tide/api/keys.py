"""Annotation, label and finalizer keys: Flux's own, and the few Tide adds (``tide.dev/``)."""

from __future__ import annotations

__all__ = [
    "FINALIZER",
    "GENERATOR_LABEL",
    "MANAGED_BY_LABEL",
    "ORIGIN_REVISION",
    "PARTIAL_APPLY",
    "REQUESTED_AT",
]

FINALIZER = "finalizers.fluxcd.io"
"""Flux's finalizer name, so objects Flux created are finalized by Tide as well."""
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
"""Annotation whose new value asks for an immediate reconcile (``flux reconcile`` sets it)."""
PARTIAL_APPLY = "tide.dev/partial-apply"
"""Kustomization annotation; ``disabled`` restores Flux's all-or-nothing apply: when the API
server refuses one object of a stage, nothing of that stage or later ones is written. By default
Tide applies every object it can and names the refused ones."""
GENERATOR_LABEL = "source.extensions.fluxcd.io/generator"
"""Label on an ExternalArtifact: the UID of the ArtifactGenerator that writes it."""
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
"""Label naming the controller that manages an object (on generated ExternalArtifacts)."""
ORIGIN_REVISION = "org.opencontainers.image.revision"
"""Artifact metadata key for the revision an artifact came from (``originRevision``)."""
