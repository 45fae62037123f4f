"""Model of the ``kustomize.toolkit.fluxcd.io`` Kustomization: what Tide applies, and how."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from tide.api._kustomize_types import CustomHealthCheck, Image, Patch, Selector
from tide.api._shared import KubeConfigReference
from tide.api.meta import (
    APIVersions,
    CrossNamespaceSourceReference,
    Duration,
    FluxModel,
    FluxObject,
    LocalObjectReference,
    NamespacedObjectKindReference,
    ReconcileStatus,
    SuspendableSpec,
    Time,
)

__all__ = [
    "CommonMetadata",
    "Decryption",
    "DependencyReference",
    "DriftIgnoreRule",
    "HistorySnapshot",
    "Kustomization",
    "KustomizationSpec",
    "KustomizationStatus",
    "PostBuild",
    "ResourceInventory",
    "ResourceRef",
    "SubstituteReference",
]


class CommonMetadata(FluxModel):
    """Labels and annotations stamped on every applied object."""

    annotations: dict[str, str] | None = None
    """Annotations to add, overriding existing keys."""
    labels: dict[str, str] | None = None
    """Labels to add, overriding existing keys."""


class DependencyReference(FluxModel):
    """Another Kustomization (or, in Tide, a HelmRelease) that must be ready before this one."""

    kind: Literal["Kustomization", "HelmRelease"] | None = None
    """Kind of the dependency; Kustomization by default. HelmRelease is a Tide extension."""
    name: str
    """Name of the dependency."""
    namespace: str | None = None
    """Namespace of the dependency; the Kustomization's namespace by default."""
    ready_expr: str | None = None
    """CEL expression that replaces the built-in readiness check."""


class Decryption(FluxModel):
    """How encrypted Secrets in the build output are decrypted."""

    provider: Literal["sops"]
    """Decryption engine."""
    service_account_name: str | None = None
    """ServiceAccount used to reach cloud KMS through workload identity."""
    secret_ref: LocalObjectReference | None = None
    """Secret with private keys (PGP, age) or static KMS credentials."""


class SubstituteReference(FluxModel):
    """A ConfigMap or Secret whose data keys are substitution variables."""

    kind: Literal["Secret", "ConfigMap"]
    """Kind of the object holding the variables."""
    name: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    """Name of the object, in the Kustomization's namespace."""
    optional: bool = False
    """Treat a missing object as empty instead of failing."""


class PostBuild(FluxModel):
    """Variable substitution applied to the output of ``kustomize build``."""

    substitute: dict[str, str] | None = None
    """Variables and their values, used for ``${var}`` substitution."""
    substitute_from: list[SubstituteReference] | None = None
    """ConfigMaps and Secrets providing more variables, later ones winning."""


class DriftIgnoreRule(FluxModel):
    """JSON pointers excluded from drift detection and apply, optionally for some objects."""

    paths: list[str]
    """JSON pointers (RFC 6901) to ignore."""
    target: Selector | None = None
    """Objects the rule applies to; all of them when omitted."""


class KustomizationSpec(SuspendableSpec):
    """Which source path to build, how to transform it and how to apply it."""

    common_metadata: CommonMetadata | None = None
    """Labels and annotations added to every applied object."""
    depends_on: list[DependencyReference] | None = None
    """Kustomizations that must be ready first."""
    decryption: Decryption | None = None
    """Decryption of SOPS-encrypted Secrets."""
    interval: Duration
    """How often the Kustomization is reconciled."""
    retry_interval: Duration | None = None
    """How soon a failed reconcile is retried; ``interval`` by default."""
    kube_config: KubeConfigReference | None = None
    """Remote cluster to apply to instead of the local one."""
    path: str | None = None
    """Directory in the source holding kustomization.yaml or plain manifests."""
    post_build: PostBuild | None = None
    """Variable substitution after the build."""
    prune: bool
    """Delete objects that are no longer part of the build."""
    deletion_policy: Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"] | None = None
    """What happens to applied objects when the Kustomization is deleted."""
    health_checks: list[NamespacedObjectKindReference] | None = None
    """Objects whose health gates readiness."""
    name_prefix: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    """Prefix added to the names of all objects."""
    name_suffix: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    """Suffix added to the names of all objects."""
    patches: list[Patch] | None = None
    """Inline strategic-merge or JSON 6902 patches."""
    images: list[Image] | None = None
    """Image name, tag or digest overrides."""
    service_account_name: str | None = None
    """ServiceAccount to impersonate when applying."""
    source_ref: CrossNamespaceSourceReference
    """Source holding the manifests."""
    target_namespace: Annotated[str, StringConstraints(min_length=1, max_length=63)] | None = None
    """Namespace set on all namespaced objects."""
    timeout: Duration | None = None
    """Timeout for build, apply and health checks; ``interval`` by default."""
    force: bool = False
    """Recreate objects whose immutable fields changed."""
    wait: bool | None = None
    """Wait for every applied object to become ready (overrides ``healthChecks``)."""
    components: list[str] | None = None
    """Relative paths of kustomize Components to include."""
    ignore_missing_components: bool | None = None
    """Drop component paths missing from the source instead of failing."""
    health_check_exprs: list[CustomHealthCheck] | None = None
    """CEL health checks for custom resource kinds."""
    drift_ignore_rules: list[DriftIgnoreRule] | None = None
    """Changes to leave alone during drift detection and apply."""


class ResourceRef(FluxModel):
    """One applied object, in the inventory's compact form."""

    id: str
    """``<namespace>_<name>_<group>_<kind>`` of the object."""
    v: str
    """API version of the object."""


class ResourceInventory(FluxModel):
    """Every object applied by the last successful reconcile; used for pruning."""

    entries: list[ResourceRef]
    """Applied objects."""


class HistorySnapshot(FluxModel):
    """One entry of the reconcile history: a set of applied objects and how it went."""

    digest: str
    """Checksum (``<algo>:<hex>``) of the applied objects."""
    first_reconciled: Time
    """When this set was first applied."""
    last_reconciled: Time
    """When this set was last applied; the history is sorted by it."""
    last_reconciled_duration: Duration
    """How long the last reconcile of this set took."""
    last_reconciled_status: str
    """Outcome of the last reconcile of this set."""
    total_reconciliations: int | None = None
    """How many times this set was reconciled."""
    metadata: dict[str, str] | None = None
    """Extra information such as the source revision."""


class KustomizationStatus(ReconcileStatus):
    """What the controller last applied."""

    last_applied_revision: str | None = None
    """Source revision of the last successful apply."""
    last_applied_origin_revision: str | None = None
    """Origin revision (e.g. OCI ``org.opencontainers.image.revision``) last applied."""
    last_attempted_revision: str | None = None
    """Source revision of the last attempt."""
    inventory: ResourceInventory | None = None
    """Objects applied by the last successful reconcile."""
    history: list[HistorySnapshot] | None = None
    """Recent reconcile snapshots, newest first."""


class Kustomization(FluxObject[KustomizationSpec, KustomizationStatus]):
    """A kustomize overlay (or plain manifests) from a source, applied and kept in sync."""

    API: ClassVar[APIVersions] = APIVersions("kustomize.toolkit.fluxcd.io", "v1", ("v1beta2",))
