"""Condition types and reasons, declared once, with Flux's names so existing tooling reads them.

Each reconcile step fails with exactly one of these reasons; the pipeline turns a step's
exception into ``Ready=False`` with that reason in one place.
"""

from __future__ import annotations

__all__ = [
    "ACCESS_DENIED",
    "ARTIFACT_FAILED",
    "ARTIFACT_IN_STORAGE",
    "ARTIFACT_OUTDATED",
    "AUTHENTICATION_FAILED",
    "BUILD_FAILED",
    "CHART_PACKAGE_ERROR",
    "CHART_PACKAGE_SUCCEEDED",
    "CHART_PULL_ERROR",
    "CHART_PULL_SUCCEEDED",
    "DECRYPTION_FAILED",
    "DEPENDENCY_BUILD_ERROR",
    "DEPENDENCY_NOT_READY",
    "DRIFT_CORRECTED",
    "DRIFT_DETECTED",
    "FAILED",
    "FAILURE",
    "FEATURE_GATE_DISABLED",
    "FETCH_FAILED",
    "GIT_OPERATION_FAILED",
    "HEALTHY",
    "HEALTH_CHECK_CANCELED",
    "HEALTH_CHECK_FAILED",
    "IMAGE_URL_INVALID",
    "INCLUDE_UNAVAILABLE",
    "INDEXATION_FAILED",
    "INIT_FAILED",
    "INSTALL_FAILED",
    "INSTALL_SUCCEEDED",
    "INVALID_CEL_EXPRESSION",
    "INVALID_CHART_REFERENCE",
    "INVALID_CONFIG",
    "INVALID_POLICY",
    "INVALID_POLICY_SELECTOR",
    "INVALID_SOURCE_CONFIGURATION",
    "INVALID_TEMPLATE",
    "MARKERS_SKIPPED",
    "METADATA_PATCH_ERROR",
    "NEW_ARTIFACT",
    "NOTIFICATION_FAILED",
    "NO_SOURCE_ARTIFACT",
    "OCI_LAYER_OPERATION_FAILED",
    "OCI_PULL_FAILED",
    "PROGRESSING",
    "PROGRESSING_WITH_RETRY",
    "PROVIDER_NOT_FOUND",
    "PRUNE_FAILED",
    "READY",
    "READ_OPERATION_FAILED",
    "RECONCILE_REQUESTED",
    "RECONCILE_REQUEST_FAILED",
    "RECONCILIATION_FAILED",
    "RECONCILIATION_SUCCEEDED",
    "RECONCILING",
    "RELEASED",
    "RELEASE_RECOVERED",
    "REMEDIATED",
    "RESUME_REQUESTED",
    "RETRIES_EXCEEDED",
    "ROLLBACK_FAILED",
    "ROLLBACK_SUCCEEDED",
    "SECRET_NOT_FOUND",
    "SOURCE_FETCH_FAILED",
    "SOURCE_UNAVAILABLE",
    "STALLED",
    "STORAGE_OPERATION_FAILED",
    "SUCCEEDED",
    "SUSPENDED",
    "SUSPEND_REQUESTED",
    "TEST_FAILED",
    "TEST_SUCCEEDED",
    "TEST_SUCCESS",
    "TOKEN_NOT_FOUND",
    "UNINSTALL_FAILED",
    "UNINSTALL_SUCCEEDED",
    "UPDATE_FAILED",
    "UPGRADE_FAILED",
    "UPGRADE_SUCCEEDED",
    "URL_INVALID",
    "VALIDATION_FAILED",
    "VALUES_ERROR",
    "VALUES_FILES_ERROR",
    "WEBHOOK_REJECTED",
]

# Condition types.
READY = "Ready"
"""Type: the object's last reconcile reached the desired state (kstatus 'Ready')."""
RECONCILING = "Reconciling"
"""Type: present only while a reconcile is under way (kstatus 'abnormal-true')."""
STALLED = "Stalled"
"""Type: present only when retrying cannot help until the spec changes."""
HEALTHY = "Healthy"
"""Type: the last health check's verdict (Unknown while one runs); only when one is asked for."""

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
"""Type: the artifact in ``status.artifact`` exists in storage (sources)."""
INCLUDE_UNAVAILABLE = "IncludeUnavailable"
"""Type and reason: a GitRepository in ``spec.include`` has no artifact to include."""
STORAGE_OPERATION_FAILED = "StorageOperationFailed"
"""Type and reason: writing the artifact to storage failed."""

# Reasons.
SUCCEEDED = "Succeeded"
"""The reconcile finished and the object reached its desired state."""
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
"""Kustomization and HelmRelease flavour of success, as Flux reports it."""
PROGRESSING = "Progressing"
"""A reconcile is under way for a new generation or revision."""
PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
"""A reconcile is under way after an earlier failure."""
RECONCILIATION_FAILED = "ReconciliationFailed"
"""Applying or reconciling failed for a reason not covered by a narrower one."""
DEPENDENCY_NOT_READY = "DependencyNotReady"
"""A ``dependsOn`` entry is not ready yet, looked at again after ``--requeue-dependency`` (or at
once when it turns ready); while deleting, a dependent is still being deleted."""
ARTIFACT_FAILED = "ArtifactFailed"
"""The source or its artifact is missing (retried at ``retryInterval``), or the artifact could not
be fetched, unpacked or verified against its digest."""
DECRYPTION_FAILED = "DecryptionFailed"
"""SOPS-encrypted manifests could not be decrypted with the keys given, or the
``spec.decryption.secretRef`` Secret is missing."""
BUILD_FAILED = "BuildFailed"
"""Manifests could not be built (kustomize, path checks, remote bases, ``postBuild``
substitution); decryption fails with ``DecryptionFailed``."""
PRUNE_FAILED = "PruneFailed"
"""Objects that left the source could not be deleted."""
HEALTH_CHECK_FAILED = "HealthCheckFailed"
"""Applied objects did not become healthy within the timeout."""
HEALTH_CHECK_CANCELED = "HealthCheckCanceled"
"""A health check was ended early because the source has a newer revision to apply."""
INVALID_CEL_EXPRESSION = "InvalidCELExpression"
"""A CEL expression in the spec (``healthCheckExprs``) does not compile; stalls until fixed."""
FETCH_FAILED = "FetchFailed"
"""Type (sources, present while True) and reason: fetching from the remote failed."""
NEW_ARTIFACT = "NewArtifact"
"""Event reason: a source stored an artifact for a new revision."""
OCI_PULL_FAILED = "OCIArtifactPullFailed"
"""An OCI manifest or layer could not be resolved or downloaded."""
OCI_LAYER_OPERATION_FAILED = "OCIArtifactLayerOperationFailed"
"""The selected OCI layer is missing or could not be extracted."""
READ_OPERATION_FAILED = "ReadOperationFailed"
"""Listing tags (or another read of the remote) failed, or no tag matched."""
GIT_OPERATION_FAILED = "GitOperationFailed"
"""A clone, fetch or push against a Git remote failed."""
AUTHENTICATION_FAILED = "AuthenticationFailed"
"""The credentials referenced by ``secretRef`` were missing or refused."""
URL_INVALID = "URLInvalid"
"""The URL in the spec cannot be used."""
SECRET_NOT_FOUND = "SecretNotFound"
"""A Secret named in the spec does not exist."""
TOKEN_NOT_FOUND = "TokenNotFound"
"""A Receiver's Secret lacks the ``token`` key."""
INVALID_CONFIG = "InvalidConfig"
"""The spec is invalid in a way only the controller can tell; not retried until it changes."""
SUSPENDED = "Suspended"
"""Reconciles are paused by ``spec.suspend``."""
ACCESS_DENIED = "AccessDenied"
"""A reference into another namespace is refused: ``--no-cross-namespace-refs`` (stalls) or an
ImageRepository's ``accessFrom`` that does not admit it (retried)."""

# ImageRepository and ImagePolicy.
IMAGE_URL_INVALID = "ImageURLInvalid"
"""An ImageRepository's ``spec.image`` names no image repository; stalls."""
INVALID_POLICY = "InvalidPolicy"
"""An ImagePolicy's range, filter pattern or extract template cannot be used; stalls."""
FAILURE = "Failure"
"""Flux's image catch-all (``metav1.StatusFailure``): no tag could be chosen, or a digest read."""

# HelmRepository and HelmChart.
ARTIFACT_OUTDATED = "ArtifactOutdated"
"""Type (present while True): a newer revision than the stored artifact was found."""
FAILED = "Failed"
"""Flux's catch-all reason (``meta.FailedReason``): fetching the index failed."""
INDEXATION_FAILED = "IndexationFailed"
"""The fetched ``index.yaml`` is not a valid Helm repository index."""
SOURCE_UNAVAILABLE = "SourceUnavailable"
"""The HelmChart's ``sourceRef`` names an object that does not exist."""
NO_SOURCE_ARTIFACT = "NoSourceArtifact"
"""The HelmChart's source has no artifact yet; looked at again shortly."""
INVALID_CHART_REFERENCE = "InvalidChartReference"
"""No chart (version) in the source matches ``spec.chart`` and ``spec.version``."""
CHART_PULL_ERROR = "ChartPullError"
"""Downloading the chart, or checking what was downloaded, failed."""
METADATA_PATCH_ERROR = "MetadataPatchError"
"""The chart version cannot take the build metadata ``reconcileStrategy`` asks for."""
VALUES_FILES_ERROR = "ValuesFilesError"
"""A file in ``spec.valuesFiles`` is missing or not a YAML mapping."""
DEPENDENCY_BUILD_ERROR = "DependencyBuildError"
"""The chart's dependencies could not be resolved."""
CHART_PACKAGE_ERROR = "ChartPackageError"
"""Helm could not load or package the chart."""
CHART_PULL_SUCCEEDED = "ChartPullSucceeded"
"""Ready reason and event: the chart was stored as downloaded."""
CHART_PACKAGE_SUCCEEDED = "ChartPackageSucceeded"
"""Ready reason and event: the chart was (re)packaged before being stored."""

# ArtifactGenerator (Flux's source-watcher).
SOURCE_FETCH_FAILED = "SourceFetchFailed"
"""A generator's source is missing, has no artifact yet, or its artifact could not be fetched."""
VALIDATION_FAILED = "ValidationFailed"
"""A generator's spec is inconsistent (repeated aliases, an unknown ``@alias``); not retried."""
# HelmRelease.
RELEASED = "Released"
"""Type (HelmRelease): the last Helm install or upgrade of the current spec succeeded."""
TEST_SUCCESS = "TestSuccess"
"""Type (HelmRelease): the verdict of the release's Helm tests, when ``test.enable``."""
REMEDIATED = "Remediated"
"""Type (HelmRelease): a failed release was rolled back or uninstalled."""
INSTALL_SUCCEEDED = "InstallSucceeded"
"""Helm installed the release."""
INSTALL_FAILED = "InstallFailed"
"""Helm could not install the release (Helm's reason in the message)."""
UPGRADE_SUCCEEDED = "UpgradeSucceeded"
"""Helm upgraded the release."""
UPGRADE_FAILED = "UpgradeFailed"
"""Helm could not upgrade the release (Helm's reason in the message)."""
TEST_SUCCEEDED = "TestSucceeded"
"""The release's Helm test hooks passed."""
TEST_FAILED = "TestFailed"
"""A Helm test hook of the release failed."""
ROLLBACK_SUCCEEDED = "RollbackSucceeded"
"""A failed upgrade was remediated by rolling back to the last good revision."""
ROLLBACK_FAILED = "RollbackFailed"
"""Rolling a failed upgrade back failed too."""
UNINSTALL_SUCCEEDED = "UninstallSucceeded"
"""Helm uninstalled the release (a failed install remediated, or deletion)."""
UNINSTALL_FAILED = "UninstallFailed"
"""Helm could not uninstall the release."""
RETRIES_EXCEEDED = "RetriesExceeded"
"""Install or upgrade failed more often than ``remediation.retries`` allows; stalls."""
FEATURE_GATE_DISABLED = "FeatureGateDisabled"
"""The object uses a feature the controller runs with its ``--feature-gates`` gate off; stalls."""
INIT_FAILED = "InitFailed"
"""The Helm action could not be prepared (chart unreadable, connection, spec Tide cannot honour)."""
VALUES_ERROR = "ValuesError"
"""The release values could not be composed (a ``valuesFrom`` object or key missing)."""
RELEASE_RECOVERED = "ReleaseRecovered"
"""Tide: a release left ``pending-*`` by an interrupted action was unlocked."""
DRIFT_DETECTED = "DriftDetected"
"""Event: a release's objects differ from Helm's manifest (``driftDetection``), left as they are."""
DRIFT_CORRECTED = "DriftCorrected"
"""Event: drifted objects of a release were applied again (``driftDetection.mode: enabled``)."""

# ImageUpdateAutomation (Flux's image-automation-controller names).
INVALID_SOURCE_CONFIGURATION = "InvalidSourceConfiguration"
"""The GitRepository is missing, or the spec names no branch to check out or push to."""
UPDATE_FAILED = "UpdateFailed"
"""The files under ``spec.update.path`` could not be read or rewritten."""
INVALID_POLICY_SELECTOR = "InvalidPolicySelector"
"""``spec.policySelector`` is not a valid label selector; stalls."""
INVALID_TEMPLATE = "InvalidTemplate"
"""The commit message or push branch template does not parse or execute (Go's error); stalls."""
MARKERS_SKIPPED = "MarkersSkipped"
"""Warning event: setter markers name a policy that is missing or has chosen no image yet."""

# Receiver webhook deliveries (events on the Receiver; not condition reasons).
RECONCILE_REQUESTED = "ReconcileRequested"
"""A webhook delivery asked the Receiver's resources to reconcile, or a dashboard user asked
for a reconcile (Normal event)."""
RECONCILE_REQUEST_FAILED = "ReconcileRequestFailed"
"""A valid delivery could not ask some resources (missing, blocked, filter error)."""
WEBHOOK_REJECTED = "WebhookRejected"
"""A delivery failed the Receiver type's check (signature, token, payload); nothing asked."""

NOTIFICATION_FAILED = "NotificationFailed"
"""Warning on an Alert: an event could not be delivered to its Provider (after retries)."""
PROVIDER_NOT_FOUND = "ProviderNotFound"
"""Warning on an Alert: ``spec.providerRef`` names no Provider in the Alert's namespace."""

# The dashboard's requests, recorded on the object with who asked.
SUSPEND_REQUESTED = "SuspendRequested"
"""Event: a dashboard user set ``spec.suspend: true``."""
RESUME_REQUESTED = "ResumeRequested"
"""Event: a dashboard user set ``spec.suspend: false`` and asked for a reconcile."""
