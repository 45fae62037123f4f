"""Which cluster a Kustomization applies to, and as whom.

By default Tide applies to its own cluster with its own rights. ``spec.serviceAccountName`` (or
the controller's ``--default-service-account``) makes every request impersonate that
ServiceAccount, so the API server holds a tenant to what its ServiceAccount may do.
``spec.kubeConfig.secretRef`` points at a kubeconfig for another cluster; the ServiceAccount, when
set, is then impersonated there.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import yaml

from tide.api import reasons
from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.runtime.steps import StepFailed

__all__ = ["Target", "Targets", "service_account_user"]

_KUBECONFIG_KEYS = ("value", "value.yaml")
"""Keys searched for a kubeconfig when ``secretRef.key`` is not set, in Flux's order."""


def service_account_user(namespace: str, name: str) -> str:
    """The user name the API server gives ServiceAccount ``namespace/name``."""
    return f"system:serviceaccount:{namespace}:{name}"


@dataclass(frozen=True)
class Target:
    """A cluster connection as one identity, with discovery for that cluster."""

    client: KubeClient
    mapper: RESTMapper


@dataclass
class _Remote:
    digest: str
    client: KubeClient
    mapper: RESTMapper


class Targets:
    """Hand out the :class:`Target` each Kustomization asks for, reusing connections.

    Args:
        client: the controller's own client (local cluster, full rights).
        mapper: discovery for the local cluster.
        default_service_account: impersonated when a Kustomization names none (Flux's
            ``--default-service-account``, the multi-tenancy lockdown). Default: None.
    """

    def __init__(
        self, client: KubeClient, mapper: RESTMapper, *, default_service_account: str | None = None
    ) -> None:
        self._client = client
        self._mapper = mapper
        self._default_service_account = default_service_account
        self._remotes: dict[tuple[str, str], _Remote] = {}

    async def for_kustomization(self, kustomization: Kustomization) -> Target:
        """Return where and as whom ``kustomization`` applies.

        Raises:
            StepFailed: the kubeconfig Secret is missing or malformed, or its cluster is
                unreachable (ReconciliationFailed, naming the Secret).
        """
        namespace = kustomization.metadata.namespace or "default"
        account = kustomization.spec.service_account_name or self._default_service_account
        target = Target(self._client, self._mapper)
        if kustomization.spec.kube_config is not None:
            target = await self._remote(kustomization)
        if account:
            client = target.client.impersonating(service_account_user(namespace, account))
            target = Target(client, target.mapper)
        return target

    async def close(self) -> None:
        """Close the connections to remote clusters."""
        for remote in self._remotes.values():
            await remote.client.close()
        self._remotes.clear()

    async def _remote(self, kustomization: Kustomization) -> Target:
        namespace = kustomization.metadata.namespace or "default"
        reference = kustomization.spec.kube_config
        assert reference is not None and reference.secret_ref is not None  # the API guarantees
        name = reference.secret_ref.name
        where = f"Secret '{namespace}/{name}' (spec.kubeConfig.secretRef)"
        secret = await self._client.get_or_none(resources.SECRET, name, namespace=namespace)
        if secret is None:
            raise StepFailed(f"{where} not found", reason=reasons.RECONCILIATION_FAILED)
        data = secret.get("data") or {}
        keys = (reference.secret_ref.key,) if reference.secret_ref.key else _KUBECONFIG_KEYS
        encoded = next((data[key] for key in keys if key in data), None)
        if encoded is None:
            raise StepFailed(
                f"{where} has no key {' or '.join(repr(k) for k in keys)} holding a kubeconfig",
                reason=reasons.RECONCILIATION_FAILED,
            )
        raw = base64.b64decode(encoded)
        digest = hashlib.sha256(raw).hexdigest()
        remote = self._remotes.get((namespace, name))
        if remote is None or remote.digest != digest:
            if remote is not None:
                await remote.client.close()
            remote = _Remote(digest, *self._connect(raw, where))
            self._remotes[(namespace, name)] = remote
        try:
            # One cheap request, so an unreachable cluster is reported once, not per object.
            await remote.client.get_json("/version")
        except KubeError as error:
            raise StepFailed(
                f"cannot reach the cluster in {where}: {error}",
                reason=reasons.RECONCILIATION_FAILED,
            ) from error
        return Target(remote.client, remote.mapper)

    def _connect(self, raw: bytes, where: str) -> tuple[KubeClient, RESTMapper]:
        try:
            config: Any = yaml.safe_load(raw)
            if not isinstance(config, dict):
                raise KubeError("not a YAML mapping")
            client = KubeClient.from_config(config, field_manager=self._client.field_manager)
        except (yaml.YAMLError, KubeError) as error:
            raise StepFailed(
                f"{where} does not hold a valid kubeconfig: {error}",
                reason=reasons.RECONCILIATION_FAILED,
            ) from error
        return client, RESTMapper(client)
