"""Models of the ``source.toolkit.fluxcd.io`` kinds: where Tide fetches artifacts from."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints, model_validator

from tide.api._shared import AccessFrom
from tide.api._source_types import (
    ArtifactStatus,
    BucketSTSSpec,
    GitRepositoryInclude,
    GitRepositoryRef,
    GitRepositoryVerification,
    LocalHelmChartSourceReference,
    OCILayerSelector,
    OCIRepositoryRef,
    OCIRepositoryVerification,
)
from tide.api.meta import (
    APIVersions,
    Artifact,
    CelRule,
    Duration,
    FluxObject,
    LocalObjectReference,
    ReconcileStatus,
    SuspendableSpec,
    TimeoutDuration,
    cel_rules,
)

__all__ = [
    "Bucket",
    "BucketSTSSpec",
    "BucketSpec",
    "BucketStatus",
    "GitRepository",
    "GitRepositoryInclude",
    "GitRepositoryRef",
    "GitRepositorySpec",
    "GitRepositoryStatus",
    "GitRepositoryVerification",
    "HelmChart",
    "HelmChartSpec",
    "HelmChartStatus",
    "HelmRepository",
    "HelmRepositorySpec",
    "HelmRepositoryStatus",
    "LocalHelmChartSourceReference",
    "OCILayerSelector",
    "OCIRepository",
    "OCIRepositoryRef",
    "OCIRepositorySpec",
    "OCIRepositoryStatus",
    "OCIRepositoryVerification",
]

GROUP = "source.toolkit.fluxcd.io"
_V1 = APIVersions(GROUP, "v1", ("v1beta2",))


_SERVICE_ACCOUNT_NEEDS_PROVIDER = CelRule(
    "!has(self.serviceAccountName) || (has(self.provider) && "
    "(self.provider == 'azure' || self.provider == 'aws'))",
    "serviceAccountName can only be set when provider is 'azure' or 'aws'",
)


class GitRepositorySpec(SuspendableSpec):
    """Where a Git repository is, how to authenticate, and which revision to package."""

    model_config = cel_rules(_SERVICE_ACCOUNT_NEEDS_PROVIDER)

    url: Annotated[str, StringConstraints(pattern=r"^(http|https|ssh)://.*$")]
    """HTTP/S or SSH address of the repository."""
    secret_ref: LocalObjectReference | None = None
    """Secret with basic-auth, bearer-token or SSH credentials."""
    provider: Literal["generic", "aws", "azure", "github"] | None = None
    """Authentication provider; ``generic`` when omitted."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (azure and aws providers only)."""
    interval: Duration
    """How often the repository is checked for new revisions."""
    timeout: TimeoutDuration = "60s"
    """Timeout for Git operations such as clone."""
    ref: GitRepositoryRef | None = None
    """Reference to check out; branch ``master`` by default."""
    verify: GitRepositoryVerification | None = None
    """Commit or tag signature verification."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy to use for the Git server."""
    ignore: str | None = None
    """``.sourceignore``-style patterns that override the default exclusions."""
    recurse_submodules: bool | None = None
    """Clone submodules too."""
    include: list[GitRepositoryInclude] | None = None
    """Other GitRepositories whose artifacts are merged into this one."""
    sparse_checkout: list[str] | None = None
    """Directories to check out; everything when omitted."""

    @model_validator(mode="after")
    def _service_account_needs_provider(self) -> GitRepositorySpec:
        if self.service_account_name is not None and self.provider not in ("azure", "aws"):
            raise ValueError(_SERVICE_ACCOUNT_NEEDS_PROVIDER.message)
        return self


class GitRepositoryStatus(ReconcileStatus):
    """What the controller last fetched from the repository."""

    artifact: Artifact | None = None
    """Artifact of the last successful reconcile."""
    included_artifacts: list[Artifact] | None = None
    """Artifacts of the included repositories."""
    observed_ignore: str | None = None
    """Ignore patterns used for the current artifact."""
    observed_recurse_submodules: bool | None = None
    """Submodule setting used for the current artifact."""
    observed_include: list[GitRepositoryInclude] | None = None
    """Includes used for the current artifact."""
    observed_sparse_checkout: list[str] | None = None
    """Sparse-checkout directories used for the current artifact."""
    source_verification_mode: str | None = None
    """Verification mode used for the current artifact."""


class GitRepository(FluxObject[GitRepositorySpec, GitRepositoryStatus]):
    """A Git repository packaged as an artifact at a chosen revision."""

    API: ClassVar[APIVersions] = _V1


class HelmRepositorySpec(SuspendableSpec):
    """Where a Helm repository (HTTP index or OCI registry) is and how to reach it."""

    url: Annotated[str, StringConstraints(pattern=r"^(http|https|oci)://.*$")]
    """Address of the repository (``oci://`` when ``type`` is ``oci``)."""
    secret_ref: LocalObjectReference | None = None
    """Secret with basic-auth credentials."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``tls.crt``/``tls.key`` and/or ``ca.crt``."""
    pass_credentials: bool | None = None
    """Send credentials to chart hosts that differ from the repository host."""
    interval: Duration | None = None
    """How often the index is fetched (HTTP repositories)."""
    insecure: bool | None = None
    """Allow plain-HTTP OCI registries."""
    timeout: TimeoutDuration | None = None
    """Timeout for index fetches and OCI operations; 60s when omitted."""
    access_from: AccessFrom | None = None
    """Namespaces allowed to refer to this object (not implemented by Flux)."""
    type: Literal["default", "oci"] | None = None
    """``default`` for an HTTP index, ``oci`` for an OCI registry."""
    provider: Literal["generic", "aws", "azure", "gcp"] = "generic"
    """Authentication provider for OCI registries."""


class HelmRepositoryStatus(ArtifactStatus):
    """The index the controller last fetched."""


class HelmRepository(FluxObject[HelmRepositorySpec, HelmRepositoryStatus]):
    """A Helm chart repository whose index is packaged as an artifact."""

    API: ClassVar[APIVersions] = _V1


class HelmChartSpec(SuspendableSpec):
    """Which chart, at which version, from which source."""

    chart: str
    """Name or path of the chart in the source."""
    version: str = "*"
    """SemVer range of the chart (Helm repositories only)."""
    source_ref: LocalHelmChartSourceReference
    """Source the chart is read from."""
    interval: Duration
    """How often the source is checked for a new chart."""
    reconcile_strategy: Literal["ChartVersion", "Revision"] = "ChartVersion"
    """What produces a new artifact: a new chart version or a new source revision."""
    values_files: list[str] | None = None
    """Values files merged in order into the chart's values."""
    values_file: str | None = None
    """Deprecated single values file, merged before ``valuesFiles``."""
    ignore_missing_values_files: bool | None = None
    """Skip values files that do not exist instead of failing."""
    access_from: AccessFrom | None = None
    """Namespaces allowed to refer to this object (not implemented by Flux)."""
    verify: OCIRepositoryVerification | None = None
    """Signature verification for charts from OCI HelmRepositories."""


class HelmChartStatus(ArtifactStatus):
    """The chart the controller last packaged."""

    observed_source_artifact_revision: str | None = None
    """Revision of the source artifact last used."""
    observed_chart_name: str | None = None
    """Chart name last resolved."""
    observed_values_files: list[str] | None = None
    """Values files used for the current artifact."""


class HelmChart(FluxObject[HelmChartSpec, HelmChartStatus]):
    """A packaged Helm chart built from a HelmRepository, GitRepository or Bucket."""

    API: ClassVar[APIVersions] = _V1


class OCIRepositorySpec(SuspendableSpec):
    """Which OCI artifact to pull, and how to authenticate and verify it."""

    url: Annotated[str, StringConstraints(pattern=r"^oci://.*$")]
    """Address of the OCI repository."""
    ref: OCIRepositoryRef | None = None
    """Reference to pull; ``latest`` tag by default."""
    layer_selector: OCILayerSelector | None = None
    """Layer to use; the first one by default."""
    provider: Literal["generic", "aws", "azure", "gcp"] = "generic"
    """Authentication provider."""
    secret_ref: LocalObjectReference | None = None
    """Docker-config Secret with registry credentials."""
    verify: OCIRepositoryVerification | None = None
    """Signature verification."""
    service_account_name: str | None = None
    """ServiceAccount whose image pull secrets are used."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``tls.crt``/``tls.key`` and/or ``ca.crt``."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy to use for the registry."""
    interval: Duration
    """How often the repository is checked for updates."""
    timeout: TimeoutDuration = "60s"
    """Timeout for registry operations."""
    ignore: str | None = None
    """``.sourceignore``-style patterns that override the default exclusions."""
    insecure: bool | None = None
    """Allow plain-HTTP registries."""


class OCIRepositoryStatus(ArtifactStatus):
    """The OCI artifact the controller last pulled."""

    observed_ignore: str | None = None
    """Ignore patterns used for the current artifact."""
    observed_layer_selector: OCILayerSelector | None = None
    """Layer selector used for the current artifact."""


class OCIRepository(FluxObject[OCIRepositorySpec, OCIRepositoryStatus]):
    """An OCI artifact (e.g. pushed with ``flux push artifact``) packaged for consumers."""

    API: ClassVar[APIVersions] = _V1


_BUCKET_RULES = (
    CelRule(
        "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
        "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
    ),
    CelRule(
        "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
        "'aws' is the only supported STS provider for the 'aws' Bucket provider",
    ),
    CelRule(
        "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
        "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
    ),
    CelRule(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
        "spec.sts.secretRef is not required for the 'aws' STS provider",
    ),
    CelRule(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
        "spec.sts.certSecretRef is not required for the 'aws' STS provider",
    ),
    CelRule(
        "self.provider != 'generic' || !has(self.serviceAccountName)",
        "ServiceAccountName is not supported for the 'generic' Bucket provider",
    ),
    CelRule(
        "!has(self.secretRef) || !has(self.serviceAccountName)",
        "cannot set both .spec.secretRef and .spec.serviceAccountName",
    ),
)


class BucketSpec(SuspendableSpec):
    """Which object-storage bucket to mirror and how to authenticate."""

    model_config = cel_rules(*_BUCKET_RULES)

    provider: Literal["generic", "aws", "gcp", "azure"] = "generic"
    """Storage provider; ``generic`` means any S3-compatible API."""
    bucket_name: str
    """Name of the bucket."""
    endpoint: str
    """Address of the object storage."""
    sts: BucketSTSSpec | None = None
    """Security Token Service for temporary credentials (aws and generic only)."""
    insecure: bool | None = None
    """Allow plain-HTTP endpoints."""
    region: str | None = None
    """Region of the bucket."""
    prefix: str | None = None
    """Server-side filter on object keys."""
    secret_ref: LocalObjectReference | None = None
    """Secret with access credentials."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (not for generic)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with TLS material (generic only)."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy to use for the endpoint."""
    interval: Duration
    """How often the bucket is checked for changes."""
    timeout: TimeoutDuration = "60s"
    """Timeout for fetch operations."""
    ignore: str | None = None
    """``.sourceignore``-style patterns that override the default exclusions."""

    @model_validator(mode="after")
    def _provider_rules(self) -> BucketSpec:
        sts = self.sts
        if sts is not None:
            if self.provider not in ("aws", "generic"):
                raise ValueError(_BUCKET_RULES[0].message)
            if self.provider == "aws" and sts.provider != "aws":
                raise ValueError(_BUCKET_RULES[1].message)
            if self.provider == "generic" and sts.provider != "ldap":
                raise ValueError(_BUCKET_RULES[2].message)
            if sts.provider == "aws" and sts.secret_ref is not None:
                raise ValueError(_BUCKET_RULES[3].message)
            if sts.provider == "aws" and sts.cert_secret_ref is not None:
                raise ValueError(_BUCKET_RULES[4].message)
        if self.provider == "generic" and self.service_account_name is not None:
            raise ValueError(_BUCKET_RULES[5].message)
        if self.secret_ref is not None and self.service_account_name is not None:
            raise ValueError(_BUCKET_RULES[6].message)
        return self


class BucketStatus(ArtifactStatus):
    """The bucket contents the controller last packaged."""

    observed_ignore: str | None = None
    """Ignore patterns used for the current artifact."""


class Bucket(FluxObject[BucketSpec, BucketStatus]):
    """An object-storage bucket (S3, GCS, Azure Blob) packaged as an artifact."""

    API: ClassVar[APIVersions] = _V1
