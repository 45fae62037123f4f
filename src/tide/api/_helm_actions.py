"""Per-action settings of a HelmRelease: install, upgrade, test, rollback, uninstall, drift."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from tide.api._kustomize_types import Selector
from tide.api.meta import CelRule, Duration, FluxModel, cel_rules

__all__ = [
    "DriftDetection",
    "Filter",
    "IgnoreRule",
    "Install",
    "InstallRemediation",
    "Rollback",
    "Strategy",
    "Test",
    "Uninstall",
    "Upgrade",
    "UpgradeRemediation",
]

CRDsPolicy = Literal["Skip", "Create", "CreateReplace"]


class IgnoreRule(FluxModel):
    """JSON pointers excluded from drift detection, optionally for some objects."""

    paths: list[str]
    """JSON pointers (RFC 6901) to ignore."""
    target: Selector | None = None
    """Objects the rule applies to; all of the release's objects when omitted."""


class DriftDetection(FluxModel):
    """Whether and how differences between the release and the cluster are corrected."""

    mode: Literal["enabled", "warn", "disabled"] | None = None
    """``enabled`` corrects drift, ``warn`` only reports it; ``disabled`` by default."""
    ignore: list[IgnoreRule] | None = None
    """Changes to leave alone."""


_RETRY_INTERVAL_ONLY_FOR_RETRY = CelRule(
    "!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
    ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
)


class Strategy(FluxModel):
    """What a failed install or upgrade leads to (Flux's ``install|upgrade.strategy``)."""

    model_config = cel_rules(_RETRY_INTERVAL_ONLY_FOR_RETRY)

    name: Literal["RemediateOnFailure", "RetryOnFailure"]
    """``RemediateOnFailure`` (the default without a strategy) follows ``remediation``;
    ``RetryOnFailure`` never remediates and tries again after ``retryInterval``."""
    retry_interval: Duration | None = None
    """Wait before the next attempt under ``RetryOnFailure``; 5m by default."""

    @model_validator(mode="after")
    def _interval_only_for_retry(self) -> Strategy:
        if self.retry_interval is not None and self.name == "RemediateOnFailure":
            raise ValueError(_RETRY_INTERVAL_ONLY_FOR_RETRY.message)
        return self


class _Waiting(FluxModel):
    """What install, upgrade and rollback share: a timeout, and whether to wait and run hooks."""

    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release ``timeout`` by default."""
    disable_wait: bool | None = None
    """Do not wait for resources to become ready."""
    disable_wait_for_jobs: bool | None = None
    """Do not wait for Jobs to complete."""
    disable_hooks: bool | None = None
    """Skip chart hooks."""


class _Release(_Waiting):
    """The settings install and upgrade share: they render the chart."""

    strategy: Strategy | None = None
    """What a failure leads to; ``RemediateOnFailure`` by default."""
    disable_open_api_validation: bool | None = Field(default=None, alias="disableOpenAPIValidation")
    """Skip validating rendered manifests against the OpenAPI schema."""


class InstallRemediation(FluxModel):
    """What to do when an install fails."""

    retries: int | None = None
    """Attempts after a failure (uninstalling in between); negative means unlimited."""
    ignore_test_failures: bool | None = None
    """Do not remediate when only the tests failed; ``test.ignoreFailures`` by default."""
    remediate_last_failure: bool | None = None
    """Remediate the last failure too, once retries are exhausted."""


class Install(_Release):
    """Settings of the Helm install action."""

    remediation: InstallRemediation | None = None
    """Failure remediation (ignored under ``RetryOnFailure``)."""
    replace: bool | None = None
    """Reuse the release name if a deleted release with that name is in history."""
    skip_crds: bool | None = Field(default=None, alias="skipCRDs")
    """Deprecated: use ``crds: Skip``."""
    crds: CRDsPolicy | None = None
    """CRD policy; ``Create`` by default on install."""
    create_namespace: bool | None = None
    """Create the target namespace if missing."""


class UpgradeRemediation(FluxModel):
    """What to do when an upgrade fails."""

    retries: int | None = None
    """Attempts after a failure; negative means unlimited."""
    ignore_test_failures: bool | None = None
    """Do not remediate when only the tests failed; ``test.ignoreFailures`` by default."""
    remediate_last_failure: bool | None = None
    """Remediate the last failure too; defaults to true when retries > 0."""
    strategy: Literal["rollback", "uninstall"] | None = None
    """How to remediate; ``rollback`` by default."""


class Upgrade(_Release):
    """Settings of the Helm upgrade action."""

    remediation: UpgradeRemediation | None = None
    """Failure remediation (ignored under ``RetryOnFailure``)."""
    force: bool | None = None
    """Force resource updates through replacement."""
    preserve_values: bool | None = None
    """Reuse the last release's values (makes the release non-declarative)."""
    cleanup_on_fail: bool | None = None
    """Delete resources created by a failed upgrade."""
    crds: CRDsPolicy | None = None
    """CRD policy; ``Skip`` by default on upgrade."""


class Filter(FluxModel):
    """Selects a Helm test to run or skip."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    """Name of the test."""
    exclude: bool | None = None
    """Skip the named test instead of selecting it."""


class Test(FluxModel):
    """Settings of the Helm test action."""

    enable: bool | None = None
    """Run the chart's tests after install and upgrade."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release ``timeout`` by default."""
    ignore_failures: bool | None = None
    """Do not remediate when tests fail."""
    filters: list[Filter] | None = None
    """Tests to run or exclude."""


class Rollback(_Waiting):
    """Settings of the Helm rollback action."""

    recreate: bool | None = None
    """Restart pods of the rolled-back resources."""
    force: bool | None = None
    """Force resource updates through replacement."""
    cleanup_on_fail: bool | None = None
    """Delete resources created by a failed rollback."""


class Uninstall(FluxModel):
    """Settings of the Helm uninstall action."""

    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release ``timeout`` by default."""
    disable_hooks: bool | None = None
    """Skip chart hooks."""
    keep_history: bool | None = None
    """Keep the release history after removing the resources."""
    disable_wait: bool | None = None
    """Do not wait for resources to be deleted."""
    deletion_propagation: Literal["background", "foreground", "orphan"] = "background"
    """Deletion propagation policy for the release's resources."""
