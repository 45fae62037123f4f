"""Models of ArtifactGenerator (Flux's source-watcher) and the ExternalArtifacts it writes.

An ArtifactGenerator (``source.extensions.fluxcd.io/v1beta1``) reads the artifacts of other
sources and copies parts of them into new artifacts, each published as an ExternalArtifact
(``source.toolkit.fluxcd.io/v1``): a source kind with no remote of its own whose
``status.artifact`` another controller writes. Field names, patterns and limits follow Flux's
CRDs so a manifest written for Flux is accepted (and refused) the same way.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from tide.api.meta import (
    APIVersions,
    Artifact,
    Condition,
    FluxModel,
    FluxObject,
    NamespacedObjectKindReference,
    ReconcileStatus,
)

__all__ = [
    "ALIAS_PATTERN",
    "ArtifactGenerator",
    "ArtifactGeneratorSpec",
    "ArtifactGeneratorStatus",
    "CopyOperation",
    "ExternalArtifact",
    "ExternalArtifactReference",
    "ExternalArtifactSpec",
    "ExternalArtifactStatus",
    "OutputArtifact",
    "SourceReference",
]

ALIAS_PATTERN = r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?"
"""What an alias looks like: lower-case alphanumerics, ``_`` and ``-`` inside."""
_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"

SourceKind = Literal["Bucket", "GitRepository", "OCIRepository", "HelmChart", "ExternalArtifact"]
"""Kinds whose artifact a generator may read."""


class SourceReference(FluxModel):
    """One input of a generator, named by an alias the copy operations refer to."""

    alias: Annotated[str, StringConstraints(pattern=f"^{ALIAS_PATTERN}$", max_length=63)]
    """Name of the source inside this generator, used as ``@alias`` in copy operations."""
    kind: SourceKind
    """Kind of the source."""
    name: Annotated[str, StringConstraints(pattern=_NAME, max_length=253)]
    """Name of the source."""
    namespace: (
        Annotated[
            str,
            StringConstraints(
                pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", min_length=1, max_length=63
            ),
        ]
        | None
    ) = None
    """Namespace of the source; the generator's own when omitted."""


class CopyOperation(FluxModel):
    """Copy files matched in one source to a path in the generated artifact."""

    from_: Annotated[
        str,
        StringConstraints(pattern=f"^@({ALIAS_PATTERN})/(.*)$", max_length=1024),
        Field(alias="from"),
    ]
    """``@<alias>/<path or glob>``: what to copy; ``*`` stays in one folder, ``**`` recurses."""
    to: Annotated[str, StringConstraints(pattern=r"^@(artifact)/(.*)$", max_length=1024)]
    """``@artifact/<path>``: where it goes; a trailing ``/`` names a folder."""
    exclude: Annotated[list[str], Field(max_length=100)] | None = None
    """Glob patterns of matched files to leave out."""
    strategy: Literal["Overwrite", "Merge", "Extract"] | None = None
    """``Overwrite`` (default) replaces, ``Merge`` deep-merges YAML, ``Extract`` unpacks."""


class OutputArtifact(FluxModel):
    """One ExternalArtifact to generate and the copy operations that fill it."""

    name: Annotated[str, StringConstraints(pattern=_NAME, max_length=253)]
    """Name of the ExternalArtifact, in the generator's namespace."""
    revision: (
        Annotated[str, StringConstraints(pattern=f"^@({ALIAS_PATTERN})$", max_length=64)] | None
    ) = None
    """``@<alias>``: use that source's revision; ``latest@<digest>`` of the content by default."""
    origin_revision: (
        Annotated[str, StringConstraints(pattern=f"^@({ALIAS_PATTERN})$", max_length=64)] | None
    ) = None
    """``@<alias>``: record that source's revision as ``org.opencontainers.image.revision``."""
    copy_: Annotated[list[CopyOperation], Field(alias="copy", min_length=1)]
    """Copy operations, applied in order; later ones overwrite earlier ones."""


class ArtifactGeneratorSpec(FluxModel):
    """The sources to read and the artifacts to generate from them."""

    sources: Annotated[list[SourceReference], Field(min_length=1, max_length=1000)]
    """Sources the copy operations read, each under a unique alias (checked by the controller)."""
    artifacts: Annotated[list[OutputArtifact], Field(min_length=1, max_length=1000)]
    """ExternalArtifacts to generate, each under a unique name."""


class ExternalArtifactReference(FluxModel):
    """One generated ExternalArtifact as the generator's inventory lists it."""

    name: str
    """Name of the ExternalArtifact."""
    namespace: str
    """Namespace of the ExternalArtifact."""
    digest: str
    """Digest of its current artifact file."""
    filename: str
    """File name of its current artifact in storage."""


class ArtifactGeneratorStatus(ReconcileStatus):
    """What the generator last produced."""

    inventory: list[ExternalArtifactReference] | None = None
    """The ExternalArtifacts this generator owns."""
    observed_sources_digest: str | None = None
    """Digest of the source artifacts the inventory was built from."""


class ArtifactGenerator(FluxObject[ArtifactGeneratorSpec, ArtifactGeneratorStatus]):
    """Composes or splits source artifacts into ExternalArtifacts (Flux's source-watcher)."""

    API: ClassVar[APIVersions] = APIVersions("source.extensions.fluxcd.io", "v1beta1")


class ExternalArtifactSpec(FluxModel):
    """Which object produces this artifact."""

    source_ref: NamespacedObjectKindReference | None = None
    """The object (e.g. an ArtifactGenerator) the artifact is generated for."""


class ExternalArtifactStatus(FluxModel):
    """The artifact as its producer last published it (no generation of its own to observe)."""

    artifact: Artifact | None = None
    """The artifact consumers download."""
    conditions: list[Condition] | None = None
    """Ready, as the producer reports it."""


class ExternalArtifact(FluxObject[ExternalArtifactSpec, ExternalArtifactStatus]):
    """An artifact published by another controller, consumed like any source."""

    API: ClassVar[APIVersions] = APIVersions("source.toolkit.fluxcd.io", "v1")
