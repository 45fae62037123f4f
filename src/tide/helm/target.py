"""Which cluster a HelmRelease is installed in: the controller's own, or ``spec.kubeConfig``'s.

``spec.kubeConfig.secretRef`` names a Secret (in the HelmRelease's namespace) holding a
kubeconfig for another cluster; Helm then installs there, keeps its records there, and drift
is judged there. The kubeconfig is held to the same rule as a Kustomization's
(:mod:`tide.kube.kubeconfig`: inline credentials only). Connections are kept per Secret and
replaced when its content changes.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from tide.api import reasons
from tide.api.helm import HelmRelease
from tide.helm.sdk import Helm
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.runtime.remote import connect_kubeconfig, read_kubeconfig
from tide.runtime.steps import StepFailed

__all__ = ["Target", "TargetGone", "Targets"]

_REASON = reasons.INIT_FAILED
"""The reason a HelmRelease reports a kubeconfig it cannot use with (Flux's)."""
_RETIRE_AFTER = 600.0
"""Seconds a replaced connection stays open for the reconciles still using it."""


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
    """

    def __init__(self, local: Target) -> None:
        self._local = local
        self._remotes: dict[tuple[str, str], tuple[str, Target]] = {}
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

    def _connect(self, raw: bytes, where: str) -> Target:
        client = connect_kubeconfig(
            raw, where, field_manager=self._local.client.field_manager, reason=_REASON
        )
        return Target(Helm(client.kubeconfig()), client, RESTMapper(client))

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
