"""Model of the ``helm.toolkit.fluxcd.io`` HelmRelease: a Helm chart installed and kept in sync."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from tide.api._helm_actions import (
    DriftDetection,
    Filter,
    IgnoreRule,
    Install,
    InstallRemediation,
    Rollback,
    Strategy,
    Test,
    Uninstall,
    Upgrade,
    UpgradeRemediation,
)
from tide.api._kustomize_types import Image, JSON6902Patch, Patch
from tide.api._shared import KubeConfigReference
from tide.api.kustomize import CommonMetadata, ResourceInventory
from tide.api.meta import (
    APIVersions,
    CelRule,
    Duration,
    FluxModel,
    FluxObject,
    JSONObject,
    JSONValue,
    LocalObjectReference,
    ReconcileStatus,
    SuspendableSpec,
    Time,
    cel_rules,
)

__all__ = [
    "ChartSourceReference",
    "ChartTemplateSourceReference",
    "DriftDetection",
    "Filter",
    "HelmChartTemplate",
    "HelmChartTemplateObjectMeta",
    "HelmChartTemplateSpec",
    "HelmChartTemplateVerification",
    "HelmRelease",
    "HelmReleaseDependency",
    "HelmReleaseSpec",
    "HelmReleaseStatus",
    "IgnoreRule",
    "Install",
    "InstallRemediation",
    "KustomizePostRenderer",
    "PostRenderer",
    "Rollback",
    "Snapshot",
    "Strategy",
    "Test",
    "TestHookStatus",
    "Uninstall",
    "Upgrade",
    "UpgradeRemediation",
    "ValuesReference",
]

_Name = Annotated[str, StringConstraints(min_length=1, max_length=253)]
_Namespace = Annotated[str, StringConstraints(min_length=1, max_length=63)]


class ChartTemplateSourceReference(FluxModel):
    """The source a generated HelmChart reads from, possibly in another namespace."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["HelmRepository", "GitRepository", "Bucket"]
    """Kind of the referent."""
    name: _Name
    """Name of the referent."""
    namespace: _Namespace | None = None
    """Namespace of the referent; the HelmRelease's namespace by default."""


class ChartSourceReference(FluxModel):
    """An existing chart artifact (OCIRepository or HelmChart) the release installs."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["OCIRepository", "HelmChart"]
    """Kind of the referent."""
    name: _Name
    """Name of the referent."""
    namespace: _Namespace | None = None
    """Namespace of the referent; the HelmRelease's namespace by default."""


class HelmChartTemplateVerification(FluxModel):
    """Signature verification of an OCI chart."""

    provider: Literal["cosign", "notation"] = "cosign"
    """Signing technology."""
    secret_ref: LocalObjectReference | None = None
    """Secret holding trusted public keys."""


class HelmChartTemplateObjectMeta(FluxModel):
    """Labels and annotations for the generated HelmChart."""

    labels: dict[str, str] | None = None
    """Labels of the HelmChart."""
    annotations: dict[str, str] | None = None
    """Annotations of the HelmChart."""


class HelmChartTemplateSpec(FluxModel):
    """Spec of the HelmChart the controller generates for the release."""

    chart: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    """Name or path of the chart in the source."""
    version: str = "*"
    """SemVer range of the chart (Helm repositories only)."""
    source_ref: ChartTemplateSourceReference
    """Source the chart is read from."""
    interval: Duration | None = None
    """How often the source is checked; the release ``interval`` by default."""
    reconcile_strategy: Literal["ChartVersion", "Revision"] = "ChartVersion"
    """What produces a new chart artifact."""
    values_files: list[str] | None = None
    """Values files of the chart merged in order."""
    values_file: str | None = None
    """Deprecated single values file, merged before ``valuesFiles``."""
    ignore_missing_values_files: bool | None = None
    """Skip missing values files instead of failing."""
    verify: HelmChartTemplateVerification | None = None
    """Signature verification (OCI sources only)."""


class HelmChartTemplate(FluxModel):
    """Template of the HelmChart created for the release."""

    metadata: HelmChartTemplateObjectMeta | None = None
    """Labels and annotations of the HelmChart."""
    spec: HelmChartTemplateSpec
    """Spec of the HelmChart."""


class ValuesReference(FluxModel):
    """A ConfigMap or Secret key holding values, optionally merged at a path."""

    kind: Literal["Secret", "ConfigMap"]
    """Kind of the object holding the values."""
    name: _Name
    """Name of the object, in the HelmRelease's namespace."""
    values_key: (
        Annotated[str, StringConstraints(max_length=253, pattern=r"^[\-._a-zA-Z0-9]+$")] | None
    ) = None
    """Data key holding the values; ``values.yaml`` by default."""
    target_path: (
        Annotated[
            str,
            StringConstraints(max_length=250, pattern=r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"),
        ]
        | None
    ) = None
    """Dot-notation path the single value is merged at; the root by default."""
    optional: bool | None = None
    """Ignore the reference when the object or key is missing."""


class KustomizePostRenderer(FluxModel):
    """Kustomize patches applied to the rendered chart."""

    patches: list[Patch] | None = None
    """Inline strategic-merge or JSON 6902 patches."""
    patches_strategic_merge: list[JSONValue] | None = None
    """Deprecated: strategic-merge patches as inline objects; use ``patches``."""
    patches_json6902: list[JSON6902Patch] | None = Field(default=None, alias="patchesJson6902")
    """Deprecated: JSON 6902 patches; use ``patches``."""
    images: list[Image] | None = None
    """Image name, tag or digest overrides."""


class PostRenderer(FluxModel):
    """One post-renderer; they run in order."""

    kustomize: KustomizePostRenderer | None = None
    """Kustomize post-renderer."""


class HelmReleaseDependency(FluxModel):
    """An object that must be ready before the release is installed or upgraded."""

    kind: Literal["HelmRelease", "Kustomization"] | None = None
    """Kind of the dependency; HelmRelease by default. Kustomization is a Tide extension."""
    name: str
    """Name of the dependency."""
    namespace: str | None = None
    """Namespace of the dependency; the HelmRelease's namespace by default."""


_CHART_OR_CHART_REF = CelRule(
    "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
    "either chart or chartRef must be set",
)


class HelmReleaseSpec(SuspendableSpec):
    """Which chart to install, with which values, and how each Helm action behaves."""

    model_config = cel_rules(_CHART_OR_CHART_REF)

    chart: HelmChartTemplate | None = None
    """Template of the HelmChart to create; exclusive with ``chartRef``."""
    chart_ref: ChartSourceReference | None = None
    """Existing chart artifact to install; exclusive with ``chart``."""
    interval: Duration
    """How often the release is reconciled."""
    kube_config: KubeConfigReference | None = None
    """Remote cluster to install to instead of the local one."""
    release_name: Annotated[str, StringConstraints(min_length=1, max_length=53)] | None = None
    """Helm release name; ``[targetNamespace-]name`` by default."""
    target_namespace: _Namespace | None = None
    """Namespace the release is installed into."""
    storage_namespace: _Namespace | None = None
    """Namespace of the Helm release storage."""
    depends_on: list[HelmReleaseDependency] | None = None
    """HelmReleases (or, in Tide, Kustomizations) that must be ready first."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation of a Helm action; 5m by default."""
    max_history: int | None = None
    """Release revisions kept by Helm; 0 is unlimited, 5 by default."""
    service_account_name: _Name | None = None
    """ServiceAccount to impersonate."""
    persistent_client: bool | None = None
    """Reuse one Kubernetes client for the whole reconcile; true by default."""
    drift_detection: DriftDetection | None = None
    """Drift detection and correction."""
    install: Install | None = None
    """Install action settings."""
    upgrade: Upgrade | None = None
    """Upgrade action settings."""
    test: Test | None = None
    """Test action settings."""
    rollback: Rollback | None = None
    """Rollback action settings."""
    uninstall: Uninstall | None = None
    """Uninstall action settings."""
    values_from: list[ValuesReference] | None = None
    """ConfigMaps and Secrets with values, merged in order before ``values``."""
    values: JSONObject | None = None
    """Inline values, merged last."""
    post_renderers: list[PostRenderer] | None = None
    """Post-renderers applied in order to the rendered manifests."""
    common_metadata: CommonMetadata | None = None
    """Labels and annotations added to every object of the release, after the post-renderers."""

    @model_validator(mode="after")
    def _chart_or_chart_ref(self) -> HelmReleaseSpec:
        if (self.chart is None) == (self.chart_ref is None):
            raise ValueError(_CHART_OR_CHART_REF.message)
        return self


class TestHookStatus(FluxModel):
    """What the controller saw of one test hook."""

    last_started: Time | None = None
    """When the hook last started."""
    last_completed: Time | None = None
    """When the hook last completed."""
    phase: str | None = None
    """Phase the hook was last seen in."""


class Snapshot(FluxModel):
    """A point-in-time record of one Helm release revision."""

    api_version: str | None = None
    """Version of the snapshot format."""
    digest: str
    """Checksum of the release object in storage."""
    name: str
    """Release name."""
    namespace: str
    """Release namespace."""
    version: int
    """Release revision."""
    status: str
    """Release status (deployed, superseded, failed, ...)."""
    chart_name: str
    """Chart name."""
    chart_version: str
    """Chart version."""
    config_digest: str
    """Checksum of the release values."""
    first_deployed: Time
    """When the release was first deployed."""
    last_deployed: Time
    """When the release was last deployed."""
    deleted: Time | None = None
    """When the release was deleted."""
    test_hooks: dict[str, TestHookStatus] | None = None
    """Test hooks run for this revision, by name."""
    oci_digest: str | None = None
    """Digest of the OCI artifact the chart came from."""


class HelmReleaseStatus(ReconcileStatus):
    """What the controller last did with the release."""

    last_attempted_generation: int | None = None
    """Last generation an attempt was made for."""
    helm_chart: str | None = None
    """``namespace/name`` of the generated HelmChart."""
    storage_namespace: _Namespace | None = None
    """Namespace of the Helm storage of the current release."""
    history: list[Snapshot] | None = None
    """Releases up to the last successful one, newest first."""
    last_attempted_release_action: Literal["install", "upgrade"] | None = None
    """Last release action attempted; selects the active remediation."""
    failures: int | None = None
    """Reconcile failures since the last success."""
    install_failures: int | None = None
    """Install failures since the last success."""
    upgrade_failures: int | None = None
    """Upgrade failures since the last success."""
    last_applied_revision: str | None = None
    """Deprecated: chart revision of the last success (see ``history``)."""
    last_attempted_revision: str | None = None
    """Chart revision of the last attempt."""
    last_attempted_revision_digest: str | None = None
    """Digest of the last attempted OCI chart."""
    last_attempted_values_checksum: str | None = None
    """Deprecated: SHA1 of the last attempted values."""
    last_release_revision: int | None = None
    """Deprecated: revision of the last successful release."""
    last_attempted_config_digest: str | None = None
    """Digest of the last attempted values."""
    observed_post_renderers_digest: str | None = None
    """Digest of the post-renderers of the last successful release action."""
    observed_common_metadata_digest: str | None = None
    """Digest of the common metadata of the last successful release action."""
    last_handled_force_at: str | None = None
    """Last force-request annotation value handled."""
    last_handled_reset_at: str | None = None
    """Last reset-request annotation value handled."""
    inventory: ResourceInventory | None = None
    """Objects of the current release."""


class HelmRelease(FluxObject[HelmReleaseSpec, HelmReleaseStatus]):
    """A Helm release installed from a chart and kept in sync with its values."""

    API: ClassVar[APIVersions] = APIVersions("helm.toolkit.fluxcd.io", "v2", ("v2beta2",))
