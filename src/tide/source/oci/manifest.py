"""OCI and Docker manifests as the pull needs them: layers, child manifests, annotations.

Only what Flux reads is kept: each layer's media type, digest and size, an index's children
with their platform, and the manifest's annotations (published as ``status.artifact.metadata``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACCEPTED_MANIFESTS",
    "DEFAULT_PLATFORM",
    "Descriptor",
    "MalformedManifest",
    "Manifest",
    "parse_manifest",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPTED_MANIFESTS = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
"""Manifest media types asked for, in go-containerregistry's order of preference."""
DEFAULT_PLATFORM = {"os": "linux", "architecture": "amd64"}
"""The platform an index is resolved to, as go-containerregistry's ``remote.Image`` does."""
_INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})


class MalformedManifest(ValueError):
    """The bytes are not a manifest of a known shape."""


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or a child manifest."""

    media_type: str
    digest: str
    size: int
    platform: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Descriptor:
        """Read a descriptor; raise ``MalformedManifest`` when a required field is missing."""
        try:
            return cls(
                media_type=str(data.get("mediaType") or ""),
                digest=str(data["digest"]),
                size=int(data["size"]),
                platform=data.get("platform"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedManifest(f"malformed descriptor in manifest: {error!r}") from error


@dataclass(frozen=True)
class Manifest:
    """An image manifest (``layers``) or an index (``manifests``), with its digest."""

    digest: str
    media_type: str
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        """Tell whether this lists other manifests rather than layers."""
        return self.media_type in _INDEXES or (bool(self.manifests) and not self.layers)

    def for_platform(self, platform: Mapping[str, str] = DEFAULT_PLATFORM) -> Descriptor | None:
        """Return the index's child for ``platform`` (all its keys must match), if any."""
        return next(
            (
                child
                for child in self.manifests
                if all((child.platform or {}).get(k) == v for k, v in platform.items())
            ),
            None,
        )


def parse_manifest(body: bytes, *, digest: str, content_type: str = "") -> Manifest:
    """Read a manifest or index; ``content_type`` stands in for a missing ``mediaType``.

    Raises:
        MalformedManifest: not JSON, not an object, or a descriptor without digest or size.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedManifest("not a JSON manifest") from error
    if not isinstance(data, Mapping):
        raise MalformedManifest("not a JSON manifest")
    annotations = data.get("annotations") or {}
    if not isinstance(annotations, Mapping):
        raise MalformedManifest("annotations must be an object")
    return Manifest(
        digest=digest,
        media_type=str(data.get("mediaType") or content_type),
        layers=tuple(Descriptor.from_json(d) for d in data.get("layers") or []),
        manifests=tuple(Descriptor.from_json(d) for d in data.get("manifests") or []),
        annotations={str(k): str(v) for k, v in annotations.items()},
    )
