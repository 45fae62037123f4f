"""Kustomize-related types from ``fluxcd/pkg/apis/kustomize``, shared by Kustomization and
HelmRelease post-renderers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tide.api.meta import FluxModel, JSONValue

__all__ = [
    "JSON6902",
    "CustomHealthCheck",
    "Image",
    "JSON6902Patch",
    "Patch",
    "Selector",
]


class Image(FluxModel):
    """Replaces an image's name, tag or digest in every rendered workload."""

    name: str
    """Tag-less image name to match."""
    new_name: str | None = None
    """Replacement image name."""
    new_tag: str | None = None
    """Replacement tag."""
    digest: str | None = None
    """Replacement digest; takes precedence over ``newTag``."""


class Selector(FluxModel):
    """Selects rendered resources; every set criterion must match."""

    group: str | None = None
    """API group of the resources."""
    version: str | None = None
    """API version of the resources."""
    kind: str | None = None
    """Kind of the resources."""
    namespace: str | None = None
    """Namespace of the resources."""
    name: str | None = None
    """Name (regular expression) of the resources."""
    annotation_selector: str | None = None
    """Label-selector expression matched against annotations."""
    label_selector: str | None = None
    """Label-selector expression matched against labels."""


class Patch(FluxModel):
    """A strategic-merge or JSON 6902 patch given inline, with its targets."""

    patch: str
    """The patch document (YAML or JSON)."""
    target: Selector | None = None
    """Resources to patch; when omitted the patch names its own target."""


class JSON6902(FluxModel):
    """One RFC 6902 operation."""

    op: Literal["test", "remove", "add", "replace", "move", "copy"]
    """Operation to perform."""
    path: str
    """JSON pointer the operation applies to."""
    from_: str | None = Field(default=None, alias="from")
    """Source JSON pointer for move and copy."""
    value: JSONValue | None = None
    """Value for add, replace and test."""


class JSON6902Patch(FluxModel):
    """A list of RFC 6902 operations and the resources they apply to (deprecated form)."""

    patch: list[JSON6902]
    """Operations to apply in order."""
    target: Selector
    """Resources to patch."""


class CustomHealthCheck(FluxModel):
    """CEL expressions that compute the health of a custom resource kind."""

    api_version: str
    """API version of the custom resource."""
    kind: str
    """Kind of the custom resource."""
    in_progress: str | None = None
    """CEL expression true while the resource is still progressing."""
    failed: str | None = None
    """CEL expression true when the resource has failed."""
    current: str
    """CEL expression true when the resource is healthy."""
