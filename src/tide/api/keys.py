"""Annotation, label and finalizer keys: Flux's own, and the few Tide adds (``tide.dev/``)."""

from __future__ import annotations

__all__ = [
    "COMPONENT_LABEL",
    "FINALIZER",
    "FORCE",
    "FORCE_AT",
    "GENERATOR_LABEL",
    "HELM_RELEASE_NAME",
    "HELM_RELEASE_NAMESPACE",
    "KUSTOMIZE_NAMESPACE_LABEL",
    "KUSTOMIZE_NAME_LABEL",
    "MANAGED_BY_LABEL",
    "ORIGIN_REVISION",
    "PARTIAL_APPLY",
    "PART_OF_LABEL",
    "PRUNE",
    "RECONCILE",
    "REQUESTED_AT",
    "RESET_AT",
    "SSA",
    "SUBSTITUTE",
    "VERSION_LABEL",
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
GENERATOR_LABEL = "source.extensions.fluxcd.io/generator"
"""Label on an ExternalArtifact: the UID of the ArtifactGenerator that writes it."""
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
"""Label naming the controller that manages an object (on generated ExternalArtifacts)."""
ORIGIN_REVISION = "org.opencontainers.image.revision"
"""Artifact metadata key for the revision an artifact came from (``originRevision``)."""
PART_OF_LABEL = "app.kubernetes.io/part-of"
"""Label Flux puts on everything it installs (value ``flux``); ``flux check`` finds CRDs by it."""
COMPONENT_LABEL = "app.kubernetes.io/component"
"""Label naming the Flux controller that serves a CRD, e.g. ``source-controller``."""
VERSION_LABEL = "app.kubernetes.io/version"
"""Label carrying the installed release; ``flux check`` reports the GitRepository CRD's."""
KUSTOMIZE_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
"""Owner label on every object a Kustomization applies: the Kustomization's name."""
KUSTOMIZE_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
"""Owner label on every object a Kustomization applies: the Kustomization's namespace."""
SSA = "kustomize.toolkit.fluxcd.io/ssa"
"""Per-object annotation: ``Ignore`` skips it, ``IfNotPresent`` only creates it,
``Merge``/``Override`` apply it."""
FORCE = "kustomize.toolkit.fluxcd.io/force"
"""Per-object annotation; ``enabled`` recreates the object when an immutable field changes."""
RECONCILE = "kustomize.toolkit.fluxcd.io/reconcile"
"""Per-object annotation; ``disabled`` keeps the object from being applied."""
PRUNE = "kustomize.toolkit.fluxcd.io/prune"
"""Per-object annotation; ``disabled`` keeps the object when it leaves the inventory."""
SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"
"""Label or annotation; ``disabled`` keeps ``postBuild`` substitution off the object."""
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
