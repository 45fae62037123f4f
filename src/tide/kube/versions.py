"""Follow the resourceVersions of every object carrying one label, one watch per kind.

An object's ``resourceVersion`` changes with every write to it — spec, metadata or status — so
a reconciler that remembers the versions it last applied can tell "nothing touched these" from
a cache lookup instead of a GET per object. The watches are metadata-only
(:mod:`tide.kube.metadata`) and keep three strings per object; they start the first time a kind
is asked for, so only kinds that were really applied are watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from tide.api.selectors import Operator, Requirement
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType

__all__ = ["LiveVersions"]

log = logging.getLogger(__name__)


class LiveVersions:
    """resourceVersions of the objects labelled ``label`` (any value), per kind, from watches.

    Nothing is watched until :meth:`start`; until a kind's watch has listed (and while it is
    broken) every question about that kind is answered "not known", so callers fall back to
    reading the objects.

    Args:
        client: lists and watches (needs cluster-wide list/watch of the kinds followed).
        label: the label key an object must carry to be followed, e.g. Flux's
            ``kustomize.toolkit.fluxcd.io/name``.
        namespace: follow namespaced kinds in this namespace only (a controller confined to
            one, ``--watch-namespace``); objects elsewhere are then never known unchanged.
            Default: every namespace.
    """

    def __init__(self, client: KubeClient, *, label: str, namespace: str | None = None) -> None:
        self._client = client
        self._namespace = namespace
        self._selector = (Requirement(label, Operator.EXISTS),)
        self._caches: dict[ResourceType, WatchCache] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    async def start(self) -> None:
        """Allow watches to start (a manager service hook)."""
        self._running = True

    async def stop(self) -> None:
        """Stop every watch and forget what they held."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._caches.clear()

    def follow(self, kinds: Iterable[ResourceType]) -> None:
        """Start watching each of ``kinds`` not watched yet (nothing before :meth:`start`)."""
        if not self._running:
            return
        for rt in kinds:
            if rt in self._caches:
                continue
            cache = WatchCache(
                self._client,
                rt,
                namespace=self._namespace if rt.namespaced else None,
                selector=self._selector,
                metadata_only=True,
                transform=_versions,
            )
            self._caches[rt] = cache
            self._tasks.append(asyncio.create_task(cache.run(), name=f"versions-{rt.kind}"))
            log.debug("following resourceVersions of %s", rt)

    def following(self, rt: ResourceType) -> bool:
        """Tell whether ``rt``'s watch has listed and is following the API server now."""
        cache = self._caches.get(rt)
        return cache is not None and cache.current

    def unchanged(self, rt: ResourceType, versions: Mapping[tuple[str, str], str]) -> bool:
        """Tell whether every object of ``versions`` (``(namespace, name) -> resourceVersion``)
        is known to be there at exactly that version.

        False when one differs or is gone, and when the kind's watch is not following the API
        server (not started, not listed yet, broken): unknown is not unchanged.
        """
        cache = self._caches.get(rt)
        if cache is None or not self.following(rt):
            return False
        for (namespace, name), version in versions.items():
            live = cache.peek(namespace, name)
            if live is None or live["metadata"].get("resourceVersion") != version:
                return False
        return True


def _versions(obj: dict[str, Any]) -> dict[str, Any]:
    """Keep what :meth:`LiveVersions.unchanged` reads: identity and version, nothing else."""
    metadata = obj.get("metadata") or {}
    kept = {
        key: metadata[key] for key in ("name", "namespace", "resourceVersion") if key in metadata
    }
    return {"metadata": kept}
