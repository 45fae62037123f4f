"""Models of the ``notification.toolkit.fluxcd.io`` kinds: outgoing alerts, incoming webhooks."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints, model_validator

from tide.api.meta import (
    APIVersions,
    CelRule,
    Duration,
    FluxModel,
    FluxObject,
    LocalObjectReference,
    ReconcileStatus,
    TimeoutDuration,
    cel_rules,
)

__all__ = [
    "Alert",
    "AlertSpec",
    "AlertStatus",
    "CrossNamespaceObjectReference",
    "Provider",
    "ProviderSpec",
    "ProviderStatus",
    "Receiver",
    "ReceiverSpec",
    "ReceiverStatus",
]

GROUP = "notification.toolkit.fluxcd.io"
_V1BETA3 = APIVersions(GROUP, "v1beta3", ("v1beta2",))
_V1 = APIVersions(GROUP, "v1", ("v1beta2",))

_Name = Annotated[str, StringConstraints(min_length=1, max_length=253)]
_Text = Annotated[str, StringConstraints(max_length=2048)]
_HTTPAddress = Annotated[str, StringConstraints(max_length=2048, pattern=r"^(http|https)://.*$")]

EventSourceKind = Literal[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
]

ProviderType = Literal[
    "slack",
    "discord",
    "msteams",
    "rocket",
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "gitea",
    "bitbucketserver",
    "bitbucket",
    "azuredevops",
    "googlechat",
    "googlepubsub",
    "webex",
    "sentry",
    "azureeventhub",
    "telegram",
    "lark",
    "matrix",
    "opsgenie",
    "alertmanager",
    "grafana",
    "githubdispatch",
    "pagerduty",
    "datadog",
    "nats",
]

_COMMIT_STATUS_TYPES = ("github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops")

ReceiverType = Literal[
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
]


class CrossNamespaceObjectReference(FluxModel):
    """A Flux object (or, with ``*``, a set of them) events come from or webhooks target."""

    api_version: str | None = None
    """API version of the referent."""
    kind: EventSourceKind
    """Kind of the referent."""
    name: _Name
    """Name of the referent, or ``*`` for all objects of the kind."""
    namespace: _Name | None = None
    """Namespace of the referent, or ``*`` (with name ``*``) for all namespaces."""
    match_labels: dict[str, str] | None = None
    """Labels the referents must carry; requires name ``*``."""


class AlertSpec(FluxModel):
    """Which events to forward to which Provider."""

    provider_ref: LocalObjectReference
    """Provider the events are sent to."""
    event_severity: Literal["info", "error"] = "info"
    """Minimum severity; ``info`` forwards everything."""
    event_sources: list[CrossNamespaceObjectReference]
    """Objects whose events are forwarded."""
    inclusion_list: list[str] | None = None
    """Regular expressions; only matching messages are forwarded."""
    event_metadata: dict[str, str] | None = None
    """Metadata added to every forwarded event (never overriding the emitter's)."""
    exclusion_list: list[str] | None = None
    """Regular expressions; matching messages are dropped."""
    summary: Annotated[str, StringConstraints(max_length=255)] | None = None
    """Short description of the impact and affected cluster."""
    suspend: bool | None = None
    """Stop forwarding events while true."""


class AlertStatus(ReconcileStatus):
    """Status of an Alert; v1beta3 Alerts have none on the API server, kept for v1beta2 reads."""


class Alert(FluxObject[AlertSpec, AlertStatus]):
    """Forwards events of selected Flux objects to a notification Provider."""

    API: ClassVar[APIVersions] = _V1BETA3


_COMMIT_STATUS_FOR_GIT_PROVIDERS = CelRule(
    " || ".join(f"self.type == '{t}'" for t in _COMMIT_STATUS_TYPES)
    + " || !has(self.commitStatusExpr)",
    "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', "
    "'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
)


class ProviderSpec(FluxModel):
    """Where notifications go and how to authenticate."""

    model_config = cel_rules(_COMMIT_STATUS_FOR_GIT_PROVIDERS)

    type: ProviderType
    """Provider implementation."""
    interval: Duration | None = None
    """Deprecated and unused in v1beta3."""
    channel: _Text | None = None
    """Destination channel."""
    username: _Text | None = None
    """Name events are posted under."""
    address: _Text | None = None
    """Endpoint (URL, project ID, ...) depending on the type."""
    timeout: TimeoutDuration | None = None
    """Timeout for sending a notification; 15s by default."""
    proxy: (
        Annotated[str, StringConstraints(max_length=2048, pattern=r"^(http|https)://.*$")] | None
    ) = None
    """Deprecated: HTTP/S proxy address; use ``proxySecretRef``."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy ``address`` and optional credentials."""
    secret_ref: LocalObjectReference | None = None
    """Secret with the address and/or token."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (azureeventhub, azuredevops, googlepubsub)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``ca.crt`` and/or ``tls.crt``/``tls.key``."""
    suspend: bool | None = None
    """Stop sending notifications while true."""
    commit_status_expr: str | None = None
    """CEL expression producing a custom commit status (Git providers only)."""

    @model_validator(mode="after")
    def _commit_status_for_git_providers(self) -> ProviderSpec:
        if self.commit_status_expr is not None and self.type not in _COMMIT_STATUS_TYPES:
            raise ValueError(_COMMIT_STATUS_FOR_GIT_PROVIDERS.message)
        return self


class ProviderStatus(ReconcileStatus):
    """Status of a Provider; v1beta3 Providers have none on the API server."""


class Provider(FluxObject[ProviderSpec, ProviderStatus]):
    """A notification destination: chat, Git commit status, webhook, event hub, ..."""

    API: ClassVar[APIVersions] = _V1BETA3


class ReceiverSpec(FluxModel):
    """Which webhook payloads to accept and which objects to reconcile on them."""

    type: ReceiverType
    """Webhook sender; selects payload validation and parsing."""
    interval: Duration = "10m"
    """How often the Secret reference is re-checked."""
    events: list[str] | None = None
    """Event types to act on, e.g. ``push`` for GitHub."""
    resources: list[CrossNamespaceObjectReference]
    """Objects to reconcile when a valid payload arrives."""
    resource_filter: str | None = None
    """CEL expression deciding, per resource, whether to request a reconcile."""
    secret_ref: LocalObjectReference
    """Secret whose ``token`` authenticates payloads and salts the webhook path."""
    suspend: bool | None = None
    """Stop handling payloads while true."""


class ReceiverStatus(ReconcileStatus):
    """Where the webhook listens."""

    webhook_path: str | None = None
    """Generated path ``/hook/sha256(token+name+namespace)``."""


class Receiver(FluxObject[ReceiverSpec, ReceiverStatus]):
    """An incoming webhook that triggers reconciles of selected Flux objects."""

    API: ClassVar[APIVersions] = _V1
