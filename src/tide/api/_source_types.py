"""Supporting types of the ``source.toolkit.fluxcd.io`` kinds (refs, verification, STS)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from tide.api.meta import Artifact, FluxModel, LocalObjectReference, ReconcileStatus

__all__ = [
    "ArtifactStatus",
    "BucketSTSSpec",
    "GitRepositoryInclude",
    "GitRepositoryRef",
    "GitRepositoryVerification",
    "LocalHelmChartSourceReference",
    "OCILayerSelector",
    "OCIRepositoryRef",
    "OCIRepositoryVerification",
    "OIDCIdentityMatch",
]


class GitRepositoryRef(FluxModel):
    """The Git reference to check out; the most specific field set wins."""

    branch: str | None = None
    """Branch to check out; ``master`` when nothing else is set."""
    tag: str | None = None
    """Tag to check out; takes precedence over ``branch``."""
    semver: str | None = Field(default=None, alias="semver")
    """SemVer range of tags; takes precedence over ``tag``."""
    name: str | None = None
    """Full reference name (e.g. ``refs/pull/1/head``); precedence over branch, tag, semver."""
    commit: str | None = None
    """Commit SHA; takes precedence over everything, may be combined with ``branch``."""


class GitRepositoryInclude(FluxModel):
    """Copies (part of) another GitRepository's artifact into this one."""

    repository: LocalObjectReference
    """GitRepository whose artifact is included."""
    from_path: str | None = None
    """Path to copy from; the artifact root by default."""
    to_path: str | None = None
    """Path to copy to; the included repository's name by default."""


class GitRepositoryVerification(FluxModel):
    """How commit or tag signatures are verified."""

    mode: Literal["head", "HEAD", "Tag", "TagAndHEAD"] = "HEAD"
    """Which Git object(s) to verify (``head`` is a legacy spelling of ``HEAD``)."""
    secret_ref: LocalObjectReference
    """Secret holding trusted PGP (``.asc``) or SSH (``.sshpub``) public keys."""


class OIDCIdentityMatch(FluxModel):
    """Regular expressions a keyless Cosign signature's certificate identity must match."""

    issuer: str
    """Pattern for the OIDC issuer."""
    subject: str
    """Pattern for the identity subject."""


class OCIRepositoryVerification(FluxModel):
    """How the signature of an OCI artifact is verified."""

    provider: Literal["cosign", "notation"] = "cosign"
    """Signing technology."""
    secret_ref: LocalObjectReference | None = None
    """Secret holding trusted public keys."""
    match_oidc_identity: list[OIDCIdentityMatch] | None = Field(
        default=None, alias="matchOIDCIdentity"
    )
    """Accepted identities for keyless signatures; any one must match."""
    trusted_root_secret_ref: LocalObjectReference | None = None
    """Secret with a Sigstore ``trusted_root.json`` for self-hosted infrastructure."""


class OCIRepositoryRef(FluxModel):
    """The OCI reference to pull; digest beats semver beats tag."""

    digest: str | None = None
    """Image digest (``sha256:<hash>``)."""
    semver: str | None = Field(default=None, alias="semver")
    """SemVer range of tags; the highest match is pulled."""
    semver_filter: str | None = None
    """Regular expression tags must match before the SemVer range is applied."""
    tag: str | None = None
    """Tag to pull; ``latest`` by default."""


class OCILayerSelector(FluxModel):
    """Which layer of the artifact is used and how."""

    media_type: str | None = None
    """Media type of the layer; the first layer when omitted."""
    operation: Literal["extract", "copy"] | None = None
    """Extract the layer (default) or store it as is."""


class BucketSTSSpec(FluxModel):
    """A Security Token Service used to obtain temporary bucket credentials."""

    provider: Literal["aws", "ldap"]
    """STS implementation."""
    endpoint: Annotated[str, StringConstraints(pattern=r"^(http|https)://.*$")]
    """HTTP/S address of the STS."""
    secret_ref: LocalObjectReference | None = None
    """Secret with ``username`` and ``password`` (ldap only)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with TLS material for the STS (ldap only)."""


class LocalHelmChartSourceReference(FluxModel):
    """The source a HelmChart is read from, in the same namespace."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["HelmRepository", "GitRepository", "Bucket"]
    """Kind of the referent."""
    name: str
    """Name of the referent."""


class ArtifactStatus(ReconcileStatus):
    """Status fields of the sources whose artifact is served at a download address."""

    url: str | None = None
    """Download address of the latest artifact."""
    artifact: Artifact | None = None
    """Artifact of the last successful reconcile."""
