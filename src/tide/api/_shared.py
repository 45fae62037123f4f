"""Reference and selector types from ``fluxcd/pkg/apis`` and ``metav1`` used by several groups."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from tide.api.meta import (
    CelRule,
    FluxModel,
    LocalObjectReference,
    SecretKeyReference,
    cel_rules,
)

__all__ = [
    "AccessFrom",
    "KubeConfigReference",
    "LabelSelector",
    "LabelSelectorRequirement",
    "NamespaceSelector",
]


_SECRET_OR_CONFIG_MAP = CelRule(
    "has(self.secretRef) || has(self.configMapRef) || "
    "(has(self.provider) && self.provider != 'generic')",
    ".secretRef or .configMapRef is required for the 'generic' .provider",
)
_NOT_BOTH = CelRule(
    "!has(self.secretRef) || !has(self.configMapRef)",
    "exactly one of .secretRef or .configMapRef may be set",
)
_SECRET_ONLY_FOR_GENERIC = CelRule(
    "!has(self.secretRef) || !has(self.provider) || self.provider == 'generic'",
    ".secretRef is not supported for the specified .provider",
)
_CLOUD_ONLY = {
    field: CelRule(
        f"!has(self.{alias}) || (has(self.provider) && self.provider != 'generic')",
        f".{alias} is not supported when .provider is empty or 'generic'",
    )
    for field, alias in (
        ("service_account_name", "serviceAccountName"),
        ("cluster", "cluster"),
        ("address", "address"),
    )
}
"""Fields only a cloud provider takes, by Python name."""


class KubeConfigReference(FluxModel):
    """Tells a controller how to reach a remote cluster instead of its own."""

    model_config = cel_rules(
        _SECRET_OR_CONFIG_MAP, _NOT_BOTH, _SECRET_ONLY_FOR_GENERIC, *_CLOUD_ONLY.values()
    )

    provider: Literal["aws", "azure", "gcp", "generic"] = "generic"
    """Cloud provider used to authenticate to the remote API server."""
    cluster: str | None = None
    """Fully qualified cluster resource name in the cloud provider."""
    address: Annotated[str, StringConstraints(pattern=r"^https://.*")] | None = None
    """HTTPS address of the remote API server, to pick among the cluster's endpoints."""
    service_account_name: str | None = None
    """ServiceAccount used for workload identity; not for the generic provider."""
    secret_ref: SecretKeyReference | None = None
    """Secret holding a kubeconfig (key ``value`` by default); generic provider only."""
    config_map_ref: LocalObjectReference | None = None
    """ConfigMap with workload identity parameters (Flux 2.7: ``provider``, ``address``,
    ``ca.crt``, ``audiences``, ``serviceAccountName``, ``cluster``); exclusive with
    ``secretRef``."""

    @model_validator(mode="after")
    def _provider_rules(self) -> KubeConfigReference:
        generic = self.provider == "generic"
        if self.secret_ref is not None and self.config_map_ref is not None:
            raise ValueError(_NOT_BOTH.message)
        if generic and self.secret_ref is None and self.config_map_ref is None:
            raise ValueError(_SECRET_OR_CONFIG_MAP.message)
        if not generic and self.secret_ref is not None:
            raise ValueError(_SECRET_ONLY_FOR_GENERIC.message)
        for field, rule in _CLOUD_ONLY.items():
            if generic and getattr(self, field) is not None:
                raise ValueError(rule.message)
        return self


class NamespaceSelector(FluxModel):
    """Selects namespaces by label for cross-namespace access control."""

    match_labels: dict[str, str] | None = None
    """Labels a namespace must carry to match."""


class AccessFrom(FluxModel):
    """Access control list for cross-namespace references (provisional in Flux)."""

    namespace_selectors: list[NamespaceSelector]
    """Namespace selectors, OR-ed together."""


class LabelSelectorRequirement(FluxModel):
    """One set-based requirement of a ``metav1.LabelSelector``."""

    key: str
    """Label key the requirement applies to."""
    operator: str
    """One of In, NotIn, Exists, DoesNotExist."""
    values: list[str] | None = None
    """Values for In/NotIn; empty for Exists/DoesNotExist."""


class LabelSelector(FluxModel):
    """A ``metav1.LabelSelector``: equality labels and set-based expressions, AND-ed."""

    match_labels: dict[str, str] | None = None
    """Exact label matches."""
    match_expressions: list[LabelSelectorRequirement] | None = None
    """Set-based requirements."""
