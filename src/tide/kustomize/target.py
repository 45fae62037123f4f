"""Which cluster a Kustomization applies to, and as whom.

By default Tide applies to its own cluster with its own rights. ``spec.serviceAccountName`` (or
the controller's ``--default-service-account``) makes every request impersonate that
ServiceAccount, so the API server holds a tenant to what its ServiceAccount may do.
``spec.kubeConfig.secretRef`` points at a kubeconfig for another cluster; the ServiceAccount, when
set, is then impersonated there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from tide import yamlio
from tide.api import reasons
from tide.api.kustomize import Kustomization
from tide.kube import kubeconfig, resources
from tide.kube.client import KubeClient, service_account_user
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.runtime.steps import Stalled, StepFailed

__all__ = ["Target", "TargetGone", "Targets", "service_account_user"]

_KUBECONFIG_KEYS = ("value", "value.yaml")
"""Keys searched for a kubeconfig when ``secretRef.key`` is not set, in Flux's order."""


class TargetGone(StepFailed):
    """What the Kustomization applies through no longer exists (its kubeconfig Secret or its
    ServiceAccount): at deletion, there is nothing left to prune with."""


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
        self._retiring: set[asyncio.Task[None]] = set()

    async def for_kustomization(
        self, kustomization: Kustomization, *, deleting: bool = False
    ) -> Target:
        """Return where and as whom ``kustomization`` applies.

        Args:
            kustomization: the Kustomization.
            deleting: the target is for pruning at deletion; a missing ServiceAccount is then
                reported as :class:`TargetGone` (it usually went with the namespace).

        Raises:
            TargetGone: the kubeconfig Secret, or (``deleting``) the ServiceAccount, is gone.
            StepFailed: the kubeconfig is malformed or its cluster unreachable (naming the
                Secret).
            Stalled: the kubeconfig would run programs or read files, or names a provider.
        """
        namespace = kustomization.metadata.namespace or "default"
        account = kustomization.spec.service_account_name or self._default_service_account
        if deleting and account:
            found = await self._client.get_or_none(
                resources.SERVICE_ACCOUNT, account, namespace=namespace
            )
            if found is None:
                raise TargetGone(f"ServiceAccount '{namespace}/{account}' not found")
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
        if reference is not None and reference.config_map_ref is not None:
            raise Stalled(
                "spec.kubeConfig.configMapRef (workload identity) is not supported for "
                "Kustomizations yet: use spec.kubeConfig.secretRef",
                reason=reasons.RECONCILIATION_FAILED,
            )
        if reference is None or reference.secret_ref is None:
            provider = reference.provider if reference else "?"
            raise Stalled(
                f"spec.kubeConfig.provider '{provider}' is not supported: Tide reaches other "
                "clusters through a kubeconfig in spec.kubeConfig.secretRef only",
                reason=reasons.RECONCILIATION_FAILED,
            )
        name = reference.secret_ref.name
        where = f"Secret '{namespace}/{name}' (spec.kubeConfig.secretRef)"
        secret = await self._client.get_or_none(resources.SECRET, name, namespace=namespace)
        if secret is None:
            raise TargetGone(f"{where} not found", reason=reasons.RECONCILIATION_FAILED)
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
            replaced = remote
            remote = _Remote(digest, *self._connect(raw, where))
            self._remotes[(namespace, name)] = remote
            if replaced is not None:
                # Other reconciles may still be using it: close it once they are surely done.
                self._retiring.add(asyncio.create_task(_close_later(replaced.client)))
                for task in [t for t in self._retiring if t.done()]:
                    self._retiring.discard(task)
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
            config: Any = yamlio.load(raw)
        except yamlio.YAMLError as error:
            # Described by position only: PyYAML's own message quotes the line (a token?).
            raise StepFailed(
                f"{where} does not hold a valid kubeconfig: not YAML ({yamlio.describe(error)})",
                reason=reasons.RECONCILIATION_FAILED,
            ) from error
        try:
            if not isinstance(config, dict):
                raise KubeError("not a YAML mapping")
            kubeconfig.check(config)
            client = KubeClient.from_config(config, field_manager=self._client.field_manager)
        except kubeconfig.UnsafeKubeconfig as error:
            raise Stalled(f"{where}: {error}", reason=reasons.RECONCILIATION_FAILED) from error
        except KubeError as error:
            raise StepFailed(
                f"{where} does not hold a valid kubeconfig: {error}",
                reason=reasons.RECONCILIATION_FAILED,
            ) from error
        return client, RESTMapper(client)


_RETIRE_AFTER = 120.0
"""Seconds a replaced remote connection stays open for the reconciles still using it."""


async def _close_later(client: KubeClient) -> None:
    await asyncio.sleep(_RETIRE_AFTER)
    await client.close()
