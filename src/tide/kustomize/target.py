"""Which cluster a Kustomization applies to, and as whom.

By default Tide applies to its own cluster with its own rights. ``spec.serviceAccountName`` (or
the controller's ``--default-service-account``) makes every request impersonate that
ServiceAccount, so the API server holds a tenant to what its ServiceAccount may do.
``spec.kubeConfig.secretRef`` points at a kubeconfig for another cluster; the ServiceAccount, when
set, is then impersonated there.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from tide.api import reasons
from tide.api.kustomize import Kustomization
from tide.kube import resources
from tide.kube.client import KubeClient, service_account_user
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.runtime.remote import connect_kubeconfig, read_kubeconfig
from tide.runtime.steps import Stalled, StepFailed

__all__ = ["Target", "TargetGone", "Targets", "service_account_user"]

_REASON = reasons.RECONCILIATION_FAILED
"""The reason a Kustomization reports a kubeconfig it cannot use with (Flux's)."""


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
        name, where, raw = await read_kubeconfig(
            self._client, reference, namespace=namespace, reason=_REASON, gone=TargetGone
        )
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
        client = connect_kubeconfig(
            raw, where, field_manager=self._client.field_manager, reason=_REASON
        )
        return client, RESTMapper(client)


_RETIRE_AFTER = 120.0
"""Seconds a replaced remote connection stays open for the reconciles still using it."""


async def _close_later(client: KubeClient) -> None:
    await asyncio.sleep(_RETIRE_AFTER)
    await client.close()
