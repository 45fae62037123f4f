"""Keep an in-memory copy of one resource type, list-then-watch, and tell handlers what changed.

Reconcilers read objects from here instead of the API server, so a reconcile costs no GET and a
thousand objects on one interval cost one watch. After a disconnect the cache lists again and
replays the difference (including deletions it missed), so handlers never miss a final state.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any

from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeGone
from tide.kube.resources import ResourceType

__all__ = ["Handler", "WatchCache", "object_key"]

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]
"""Called as ``handler(event, old, new)`` with event "ADDED", "MODIFIED" or "DELETED"."""

_RELIST_DELAY = 1.0
"""Seconds to wait before listing again after the API server dropped us."""


def object_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    """Return (namespace, name) of an object; namespace is "" for cluster-scoped ones."""
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


class WatchCache:
    """A list-then-watch mirror of one resource type.

    Args:
        client: the client to list and watch with.
        rt: the resource type to mirror.
        namespace: mirror only this namespace (default: all).
        labels: mirror only objects with these labels.
    """

    def __init__(
        self,
        client: KubeClient,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.rt = rt
        self._client = client
        self._namespace = namespace
        self._labels = dict(labels) if labels else None
        self._store: dict[tuple[str, str], dict[str, Any]] = {}
        self._handlers: list[Handler] = []
        self.synced = asyncio.Event()
        """Set once the first list has been loaded and replayed to handlers."""

    def add_handler(self, handler: Handler) -> None:
        """Register ``handler``; add handlers before ``run`` so none misses the first list."""
        self._handlers.append(handler)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return a private copy of the cached object, or None."""
        found = self._store.get((namespace or "", name))
        return copy.deepcopy(found) if found is not None else None

    def list(self) -> list[dict[str, Any]]:
        """Return private copies of every cached object."""
        return [copy.deepcopy(obj) for obj in self._store.values()]

    def scan(self) -> list[Mapping[str, Any]]:
        """Return the cached objects themselves, for reading only.

        Event handlers look through every object on each change (which Kustomizations use this
        source?); copying thousands of objects each time would make that quadratic.
        """
        return list(self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    async def run(self) -> None:
        """Mirror until cancelled, listing again whenever the watch breaks."""
        while True:
            try:
                items, version = await self._client.list(
                    self.rt, namespace=self._namespace, labels=self._labels
                )
                self._replace(items)
                self.synced.set()
                async for event, obj in self._client.watch(
                    self.rt,
                    resource_version=version,
                    namespace=self._namespace,
                    labels=self._labels,
                ):
                    self._apply(event, obj)
            except KubeGone:
                log.debug("watch of %s expired; listing again", self.rt)
            except KubeError as error:
                log.warning("watch of %s failed: %s; listing again", self.rt, error)
                await asyncio.sleep(_RELIST_DELAY)

    def _replace(self, items: list[dict[str, Any]]) -> None:
        fresh = {object_key(obj): obj for obj in items}
        for key in set(self._store) - set(fresh):
            self._notify("DELETED", self._store.pop(key), None)
        for key, obj in fresh.items():
            old = self._store.get(key)
            self._store[key] = obj
            if old is None:
                self._notify("ADDED", None, obj)
            elif old["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._notify("MODIFIED", old, obj)

    def _apply(self, event: str, obj: dict[str, Any]) -> None:
        key = object_key(obj)
        old = self._store.get(key)
        if event == "DELETED":
            self._store.pop(key, None)
            self._notify("DELETED", old, None)
        elif event in ("ADDED", "MODIFIED"):
            self._store[key] = obj
            self._notify("ADDED" if old is None else "MODIFIED", old, obj)

    def _notify(self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        for handler in self._handlers:
            try:
                handler(event, old, new)
            except Exception:  # a broken handler must not stop the mirror
                log.exception("watch handler for %s failed", self.rt)
