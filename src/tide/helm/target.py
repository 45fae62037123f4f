"""Which cluster a HelmRelease is installed in: the controller's own, or ``spec.kubeConfig``'s.

``spec.kubeConfig.secretRef`` names a Secret (in the HelmRelease's namespace) holding a
kubeconfig for another cluster (or ``configMapRef`` a ConfigMap of workload identity
parameters, :mod:`tide.helm.identity`); Helm then installs there, keeps its records there,
and drift is judged there. The kubeconfig is held to the same rule as a Kustomization's
(:mod:`tide.kube.kubeconfig`: inline credentials only). Connections are kept per Secret and
replaced when its content changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from tide.api import reasons
from tide.api.helm import HelmRelease
from tide.helm import identity
from tide.helm.sdk import Helm
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.runtime import features
from tide.runtime.remote import connect_config, connect_kubeconfig, read_kubeconfig
from tide.runtime.steps import Stalled, StepFailed

__all__ = ["Target", "TargetGone", "Targets"]

_REASON = reasons.INIT_FAILED
"""The reason a HelmRelease reports a kubeconfig it cannot use with (Flux's)."""
_GATE_OFF = (
    "to use spec.kubeConfig.configMapRef enable the "
    f"{features.OBJECT_LEVEL_WORKLOAD_IDENTITY} feature gate in the helm controller "
    f"(--feature-gates={features.OBJECT_LEVEL_WORKLOAD_IDENTITY}=true)"
)
"""Why a release naming a workload identity ConfigMap stalls while the gate is off."""
_RETIRE_AFTER = 600.0
"""Seconds a replaced connection stays open for the reconciles still using it."""
_REMINT_AFTER = identity.TOKEN_SECONDS / 2 - _RETIRE_AFTER
"""Seconds a minted token is used for new reconciles: the retired connection's last users
still hold it for ``_RETIRE_AFTER`` more, well inside its lifetime."""


class TargetGone(StepFailed):
    """The kubeConfig Secret is gone: at deletion, there is nothing left to uninstall with."""


@dataclass(frozen=True)
class Target:
    """A cluster as the release reaches it: Helm, a client and discovery for that cluster."""

    helm: Helm
    client: KubeClient
    mapper: RESTMapper


class Targets:
    """Hand out each HelmRelease's :class:`Target`, reusing connections.

    Args:
        local: the controller's own cluster.
        workload_identity: honour ``spec.kubeConfig.configMapRef`` (the
            ``ObjectLevelWorkloadIdentity`` feature gate). Off, such releases stall: the
            ConfigMap names both the ServiceAccount whose token is minted and the address it is
            sent to, so a tenant could collect a token for any ServiceAccount in its namespace.
    """

    def __init__(self, local: Target, *, workload_identity: bool = False) -> None:
        self._local = local
        self._workload_identity = workload_identity
        self._remotes: dict[tuple[str, ...], tuple[str, Target]] = {}
        self._minted: dict[tuple[str, ...], float] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    async def for_release(self, release: HelmRelease) -> Target:
        """Return where ``release`` is installed.

        Raises:
            TargetGone: the kubeconfig Secret does not exist.
            StepFailed: it holds no kubeconfig, or not a valid one (``InitFailed``).
            Stalled: the kubeconfig would run programs or read files, or names a provider.
        """
        reference = release.spec.kube_config
        if reference is None:
            return self._local
        namespace = release.metadata.namespace or "default"
        if reference.config_map_ref is not None:
            if not self._workload_identity:
                raise Stalled(_GATE_OFF, reason=reasons.FEATURE_GATE_DISABLED)
            return await self._by_identity(namespace, reference.config_map_ref.name)
        if reference.secret_ref is None:
            raise Stalled(
                f"spec.kubeConfig.provider '{reference.provider}' is not supported: Tide reaches "
                "other clusters through a kubeconfig in spec.kubeConfig.secretRef, or "
                "spec.kubeConfig.configMapRef with the 'generic' provider",
                reason=reasons.INIT_FAILED,
            )
        name, where, raw = await read_kubeconfig(
            self._local.client, reference, namespace=namespace, reason=_REASON, gone=TargetGone
        )
        digest = hashlib.sha256(raw).hexdigest()
        known = self._remotes.get((namespace, name))
        if known is not None and known[0] == digest:
            return known[1]
        target = self._connect(raw, where)
        self._remotes[(namespace, name)] = (digest, target)
        if known is not None:
            self._retire(known[1])
        return target

    async def _by_identity(self, namespace: str, name: str) -> Target:
        """Connect as ``spec.kubeConfig.configMapRef`` says (:mod:`tide.helm.identity`).

        The connection is kept while the ConfigMap is unchanged and its token young; a
        new token is minted (and the old connection retired) past half its lifetime.
        """
        where = f"ConfigMap '{namespace}/{name}' (spec.kubeConfig.configMapRef)"
        found = await self._local.client.get_or_none(
            resources.CONFIG_MAP, name, namespace=namespace
        )
        if found is None:
            raise TargetGone(f"{where} not found", reason=reasons.INIT_FAILED)
        data = json.dumps(found.get("data") or {}, sort_keys=True).encode()
        digest = hashlib.sha256(data).hexdigest()
        key = ("ConfigMap", namespace, name)
        known = self._remotes.get(key)
        fresh = known is not None and time.monotonic() - self._minted.get(key, 0.0) < _REMINT_AFTER
        if known is not None and known[0] == digest and fresh:
            return known[1]
        config = await identity.kubeconfig_for(
            found, client=self._local.client, namespace=namespace, where=where
        )
        target = self._connect_config(config, where)
        self._remotes[key] = (digest, target)
        self._minted[key] = time.monotonic()
        if known is not None:
            self._retire(known[1])
        return target

    def _connect(self, raw: bytes, where: str) -> Target:
        client = connect_kubeconfig(
            raw, where, field_manager=self._local.client.field_manager, reason=_REASON
        )
        return Target(self._local.helm.like(client.kubeconfig()), client, RESTMapper(client))

    def _connect_config(self, config: dict[str, Any], where: str) -> Target:
        client = connect_config(
            config, where, field_manager=self._local.client.field_manager, reason=_REASON
        )
        return Target(self._local.helm.like(client.kubeconfig()), client, RESTMapper(client))

    def _retire(self, target: Target) -> None:
        async def later() -> None:
            await asyncio.sleep(_RETIRE_AFTER)
            await self._close(target)

        task = asyncio.create_task(later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    @staticmethod
    async def _close(target: Target) -> None:
        target.helm.close()
        await target.client.close()

    async def close(self) -> None:
        """Close the connections to other clusters."""
        for task in list(self._retiring):
            task.cancel()
        for _, target in self._remotes.values():
            await self._close(target)
        self._remotes.clear()
