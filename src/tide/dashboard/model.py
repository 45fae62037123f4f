"""The dashboard's read model: one watch per Flux kind, as the user who runs it.

Every page is drawn from these mirrors, so a page costs no API request and a change anywhere
reaches every open page at once: each change bumps the version of a :class:`Pulse` (one for all
the contexts served), and :meth:`Pulse.changed` wakes whoever waits for a newer one (the
server-sent event stream).
Lists and watches go through the user's own client, so the API server's RBAC decides what is
shown; a kind the user may not list stays empty (its mirror keeps retrying in the background).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from tide.api.kinds import KINDS
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = ["Pulse", "ReadModel"]


class Pulse:
    """A version that moves on every change the pages should show, and a way to wait for it."""

    def __init__(self) -> None:
        self.version = 0
        """Bumped on every change."""
        self._moved = asyncio.Event()

    def touch(self, *_: Any) -> None:
        """Move the version on (a watch handler's signature, so mirrors call it directly)."""
        self.version += 1
        self._moved.set()
        self._moved = asyncio.Event()

    async def changed(self, seen: int, *, timeout: float) -> int:
        """Return the version once it differs from ``seen`` (or after ``timeout`` seconds)."""
        moved = self._moved
        if self.version == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), timeout)
        return self.version


class ReadModel:
    """Mirrors of every Flux kind of one cluster; each change moves ``pulse`` on.

    Args:
        client: the user's client (lists and watches are authorized as the user).
        namespace: mirror only this namespace; every namespace by default.
        pulse: the version to move on (shared by the contexts served); a new one by default.
    """

    def __init__(
        self, client: KubeClient, *, namespace: str | None = None, pulse: Pulse | None = None
    ) -> None:
        self.caches = {
            info.kind: WatchCache(client, resource_type(info.kind), namespace=namespace)
            for info in KINDS
        }
        self.pulse = pulse or Pulse()
        for cache in self.caches.values():
            cache.add_handler(self.pulse.touch)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def started(self) -> bool:
        """Tell whether the mirrors run (:meth:`start` called, :meth:`stop` not since)."""
        return bool(self._tasks)

    async def start(self, *, wait: float = 3.0) -> None:
        """Start every mirror; wait up to ``wait`` seconds for those the user may list.

        A mirror still listing after that (its watch retrying right after a CRD was installed,
        or a kind the user may not list) fills in later; :meth:`syncing` names them.
        """
        self._tasks = [asyncio.create_task(cache.run()) for cache in self.caches.values()]
        synced = [asyncio.create_task(cache.synced.wait()) for cache in self.caches.values()]
        _, pending = await asyncio.wait(synced, timeout=wait)
        for task in pending:  # a kind the user may not list, or whose CRD is missing
            task.cancel()

    def syncing(self) -> list[str]:
        """Return the kinds whose first list has not arrived yet (none before :meth:`start`)."""
        if not self._tasks:
            return []
        return [kind for kind, cache in self.caches.items() if not cache.synced.is_set()]

    async def stop(self) -> None:
        """Stop every mirror."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def objects(self, kind: str) -> list[Mapping[str, Any]]:
        """Return the mirrored objects of ``kind`` (for reading only), by namespace and name."""
        cache = self.caches.get(kind)
        if cache is None:
            return []
        return sorted(
            cache.scan(), key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        )

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        """Return a copy of one mirrored object, or None."""
        cache = self.caches.get(kind)
        return cache.get(namespace, name) if cache is not None else None

    async def fetch(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        """Read one object from the mirrors, shaped as :data:`tide.inspect.Fetch` wants."""
        return self.get(kind, name, namespace)
