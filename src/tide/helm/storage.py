"""Helm for a release whose records (``spec.storageNamespace``) live apart from its objects.

The SDK binds one namespace to each ``helm.Config``: its storage *and* the namespace its
Kubernetes client puts un-namespaced objects in (an install told another namespace stores
there too, and an upgrade refuses to change it). So Helm cannot write a release's records to
one namespace while it installs into another. :class:`SplitStorage` keeps Helm's own actions
and moves the records instead:

- reads (``helm get``, ``helm history``) go to the storage namespace, where the records are at
  rest: an idle release costs no write;
- a write action (install, upgrade, rollback, uninstall, test) runs in the target namespace
  with the release's records copied there first; afterwards the records are written back to
  the storage namespace as Helm left them (new revisions added, pruned ones dropped) and the
  copies are deleted.

A controller that dies mid-action leaves the copies in the target namespace; the next read
finds them and finishes the move, so the newest records always win. Every copy is made as the
release's identity (its ServiceAccount), which therefore needs Secrets rights in both
namespaces.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tide.helm.sdk import Helm, Options, Release
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeConflict

__all__ = ["SplitStorage", "helm_for"]


def helm_for(helm: Helm, client: KubeClient, *, storage: str, target: str) -> Helm | SplitStorage:
    """Return ``helm`` itself when the records live with the objects, else a split one."""
    if storage == target:
        return helm
    return SplitStorage(helm, client, storage=storage)


def _records_selector(name: str) -> dict[str, str]:
    return {"owner": "helm", "name": name}


class SplitStorage:
    """The :class:`~tide.helm.sdk.Helm` actions, with release records kept in ``storage``.

    Args:
        helm: Helm on the release's cluster.
        client: a client to that cluster (impersonated per call as the release's user).
        storage: the namespace the records are kept in.
    """

    def __init__(self, helm: Helm, client: KubeClient, *, storage: str) -> None:
        self._helm = helm
        self._client = client
        self.storage = storage

    # -- reads ------------------------------------------------------------------------------------
    async def history(self, name: str, *, namespace: str, user: str | None) -> list[dict]:
        """``helm history`` of the records in the storage namespace."""
        await self._settle(name, namespace, user)
        return await self._helm.history(name, namespace=self.storage, user=user)

    async def get(
        self, name: str, *, namespace: str, user: str | None, version: int | None = None
    ) -> Release | None:
        """``helm get`` from the storage namespace (the release's own namespace is unchanged)."""
        await self._settle(name, namespace, user)
        return await self._helm.get(name, namespace=self.storage, user=user, version=version)

    # -- writes -----------------------------------------------------------------------------------
    # Each write is Helm's own action run in the target namespace, between copying the records
    # there and moving them back (:meth:`_staged`); the arguments pass through unchanged.
    async def release(self, name: str, *, namespace: str, user: str | None, **kw: Any) -> None:
        """``helm install`` or ``helm upgrade`` into ``namespace``, recorded in the storage one."""
        await self._staged_call(self._helm.release, name, namespace=namespace, user=user, **kw)

    async def rollback(
        self, name: str, version: int, *, namespace: str, user: str | None, options: Options
    ) -> None:
        """``helm rollback``, recorded in the storage namespace."""
        await self._staged_call(
            self._helm.rollback, name, version, namespace=namespace, user=user, options=options
        )

    async def uninstall(self, name: str, *, namespace: str, user: str | None, **kw: Any) -> None:
        """``helm uninstall``; the storage namespace keeps what Helm keeps (``keepHistory``)."""
        await self._staged_call(self._helm.uninstall, name, namespace=namespace, user=user, **kw)

    async def test(self, name: str, *, namespace: str, user: str | None, **kw: Any) -> None:
        """``helm test``; the test hooks' outcome is recorded in the storage namespace."""
        await self._staged_call(self._helm.test, name, namespace=namespace, user=user, **kw)

    async def _staged_call(
        self,
        action: Callable[..., Awaitable[None]],
        name: str,
        /,
        *args: Any,
        namespace: str,
        user: str | None,
        **kw: Any,
    ) -> None:
        async with self._staged(name, namespace, user):
            await action(name, *args, namespace=namespace, user=user, **kw)

    # -- moving records ---------------------------------------------------------------------------
    def _as(self, user: str | None) -> KubeClient:
        return self._client.impersonating(user) if user else self._client

    async def _records(self, client: KubeClient, namespace: str, name: str) -> dict[str, dict]:
        found, _ = await client.list(
            resources.SECRET, namespace=namespace, labels=_records_selector(name)
        )
        return {s["metadata"]["name"]: s for s in found}

    @contextlib.asynccontextmanager
    async def _staged(self, name: str, target: str, user: str | None) -> AsyncIterator[None]:
        """Copy the records to ``target`` for one action; write them back afterwards.

        The records go back even when the action fails: a failed revision is history too.
        """
        client = self._as(user)
        await self._settle(name, target, user)
        for record in (await self._records(client, self.storage, name)).values():
            await client.create(resources.SECRET, _copy(record, target))
        try:
            yield
        finally:
            await self._settle(name, target, user, acted=True)

    async def _settle(
        self, name: str, target: str, user: str | None, *, acted: bool = False
    ) -> None:
        """Move records found in ``target`` to the storage namespace, which they replace.

        After an action (``acted``) no record left means Helm removed them all (uninstall).
        """
        client = self._as(user)
        staged = await self._records(client, target, name)
        if not staged and not acted:
            return
        kept = await self._records(client, self.storage, name)
        for secret_name, record in staged.items():
            copy = _copy(record, self.storage)
            try:
                await client.create(resources.SECRET, copy)
            except KubeConflict:
                patch = {"metadata": {"labels": copy["metadata"]["labels"]}, "data": copy["data"]}
                await client.patch_merge(
                    resources.SECRET, secret_name, patch, namespace=self.storage
                )
        for secret_name in kept.keys() - staged.keys():  # pruned (maxHistory) or uninstalled
            await client.delete(resources.SECRET, secret_name, namespace=self.storage)
        for secret_name in staged:
            await client.delete(resources.SECRET, secret_name, namespace=target)


def _copy(record: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A Helm record Secret as it would be created in ``namespace``."""
    metadata = record["metadata"]
    return {
        "metadata": {
            "name": metadata["name"],
            "namespace": namespace,
            "labels": dict(metadata.get("labels") or {}),
        },
        "type": record.get("type", "helm.sh/release.v1"),
        "data": dict(record.get("data") or {}),
    }
