"""Keep an in-memory copy of one resource type, list-then-watch, and tell handlers what changed.

Reconcilers read objects from here instead of the API server, so a reconcile costs no GET and a
thousand objects on one interval cost one watch. After a disconnect the cache lists again and
replays the difference (including deletions it missed), so handlers never miss a final state.

While the API server is away the cache retries with exponential backoff (0.5 s doubling to 30 s,
±10 % jitter so many caches do not retry in step) and logs the outage twice: a warning naming
the kind and the error when it starts, an info line when the cache has listed again. Attempts in
between are logged at debug level only. The backoff starts over once a watch has stayed open
(or delivered an event), not merely when one list succeeded, so a kind that can be listed but
not watched still backs off.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from tide.api.selectors import Requirement
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeGone
from tide.kube.resources import ResourceType

__all__ = ["Handler", "Transform", "WatchCache", "object_key"]

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]
"""Called as ``handler(event, old, new)`` with event "ADDED", "MODIFIED" or "DELETED"."""
Transform = Callable[[dict[str, Any]], dict[str, Any]]
"""Called on each listed or watched object; what it returns is kept (client-go's SetTransform)."""

_BACKOFF_BASE = 0.5
"""Seconds before the first retry after a failed list or watch."""
_BACKOFF_CAP = 30.0
"""Longest wait between retries, however long the API server stays away."""
_JITTER = 0.1
"""Each wait is stretched or shrunk by up to this fraction, at random."""
_HEALTHY_AFTER = 10.0
"""Seconds a watch must stay open (unless it delivers an event first) to reset the backoff."""


class _Backoff:
    """Exponential delays with jitter: 0.5, 1, 2 … 30 s (each ±10 %), until ``reset``."""

    def __init__(self) -> None:
        self.failures = 0

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next attempt."""
        # Past 2**16 the cap has long been reached; stop the exponent from growing for ever.
        delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** min(self.failures, 16))
        self.failures += 1
        return delay * random.uniform(1 - _JITTER, 1 + _JITTER)

    def reset(self) -> None:
        self.failures = 0


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
        selector: mirror only objects these requirements select (a parsed
            ``--watch-label-selector``; default: no requirement).
        metadata_only: list and watch ``PartialObjectMetadata`` (:meth:`KubeClient.list_metadata`):
            each object is ``{"metadata": …}`` only. Default: False.
        transform: keep ``transform(obj)`` instead of each object, e.g. only the fields a
            reader needs. Default: keep objects as they come.
    """

    def __init__(
        self,
        client: KubeClient,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        selector: tuple[Requirement, ...] = (),
        metadata_only: bool = False,
        transform: Transform | None = None,
    ) -> None:
        self.rt = rt
        self._client = client
        self._namespace = namespace
        self._labels = dict(labels) if labels else None
        self._selector = selector
        self._metadata_only = metadata_only
        self._transform = transform
        self._store: dict[tuple[str, str], dict[str, Any]] = {}
        self._handlers: list[Handler] = []
        self.synced = asyncio.Event()
        """Set once the first list has been loaded and replayed to handlers."""
        self.current = False
        """True while the cache follows the API server: listed, and its watch not broken.

        Between a failed watch and the next successful list it is False, since changes made
        meanwhile are not in the cache yet (``synced`` stays set once set)."""

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

    def peek(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        """Return the cached object itself (for reading only), or None; no copy is made."""
        return self._store.get((namespace or "", name))

    def scan(self) -> list[Mapping[str, Any]]:
        """Return the cached objects themselves, for reading only.

        Event handlers look through every object on each change (which Kustomizations use this
        source?); copying thousands of objects each time would make that quadratic.
        """
        return list(self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    async def run(self) -> None:
        """Mirror until cancelled, listing again whenever the watch breaks.

        Failures back off exponentially; see the module docstring for what is logged when.
        """
        try:
            await self._run()
        finally:  # cancelled or broken: what is kept is no longer followed
            self.current = False

    async def _run(self) -> None:
        backoff = _Backoff()
        outage: _Outage | None = None
        while True:
            watching_since: float | None = None
            delivered = False
            try:
                list_ = self._client.list_metadata if self._metadata_only else self._client.list
                items, version = await list_(
                    self.rt, namespace=self._namespace, labels=self._labels, selector=self._selector
                )
                if outage is not None:
                    outage.ended()
                    outage = None
                self._replace(items)
                self.synced.set()
                self.current = True
                watching_since = time.monotonic()
                watch = self._client.watch_metadata if self._metadata_only else self._client.watch
                async for event, obj in watch(
                    self.rt,
                    resource_version=version,
                    namespace=self._namespace,
                    labels=self._labels,
                    selector=self._selector,
                ):
                    delivered = True
                    self._apply(event, obj)
                # The server ended a healthy watch (its timeout): a later outage starts afresh.
                if delivered or time.monotonic() - watching_since >= _HEALTHY_AFTER:
                    backoff.reset()
            except KubeGone:
                self.current = False
                log.debug("watch of %s expired; listing again", self.rt)
            except KubeError as error:
                self.current = False
                if watching_since is not None and (
                    delivered or time.monotonic() - watching_since >= _HEALTHY_AFTER
                ):
                    backoff.reset()
                delay = backoff.next_delay()
                if outage is None:
                    outage = _Outage(self.rt)
                outage.failed(error, retry_in=delay)
                await asyncio.sleep(delay)

    def _replace(self, items: list[dict[str, Any]]) -> None:
        if self._transform is not None:
            items = [self._transform(obj) for obj in items]
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
        if self._transform is not None:
            obj = self._transform(obj)
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


class _Outage:
    """One stretch of failed lists and watches of a kind, logged once as it starts and ends."""

    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt
        self.began = time.monotonic()
        self.attempts = 0

    def failed(self, error: KubeError, *, retry_in: float) -> None:
        self.attempts += 1
        if self.attempts == 1:
            log.warning(
                "watch of %s failed: %s; retrying with backoff (at most every %gs) until the "
                "API server answers",
                self.rt,
                error,
                _BACKOFF_CAP,
            )
        else:
            log.debug(
                "watch of %s still failing (attempt %d): %s; next attempt in %.1fs",
                self.rt,
                self.attempts,
                error,
                retry_in,
            )

    def ended(self) -> None:
        log.info(
            "watch of %s resumed after %.1fs (%d failed attempts)",
            self.rt,
            time.monotonic() - self.began,
            self.attempts,
        )
