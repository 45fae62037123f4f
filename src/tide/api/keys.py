"""Annotation, label and finalizer keys that Flux's objects and tools already use."""

from __future__ import annotations

__all__ = ["FINALIZER", "REQUESTED_AT"]

FINALIZER = "finalizers.fluxcd.io"
"""Flux's finalizer name, so objects Flux created are finalized by Tide as well."""
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
"""Annotation whose new value asks for an immediate reconcile (``flux reconcile`` sets it)."""
