"""Tell when the cache still shows an object as it was before this controller's own last write.

Reconciles read their object from a watch cache, and a status write goes out by server-side
apply without a ``resourceVersion`` (the controller owns its fields). A reconcile that starts
moments after the previous one wrote — a parked wait woken by a watch event at once — could
read the object as it was before that write and write back an older status (an inventory
gone). So the version each reconcile left behind is remembered, and a reconcile that finds the
cache behind it waits a moment for the cache to catch up instead of running on stale data.

Resource versions are compared as numbers, which is what the API server's etcd storage hands
out; a version that is not a number is taken as current. The cache is waited for a few seconds
at most: a watch that broke must not stop reconciles.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from typing import Any

__all__ = ["CATCH_UP", "OwnWrites"]

CATCH_UP = 0.1
"""Seconds before a reconcile that found the cache behind its own write is tried again."""
_PATIENCE = 5.0
"""Seconds the cache is waited for at most, after which a reconcile runs on what it has."""


class OwnWrites:
    """The ``resourceVersion`` each object was left at by this controller, by request."""

    def __init__(self) -> None:
        self._written: dict[Hashable, tuple[int, float]] = {}

    def behind(self, key: Hashable, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` (from the cache) is older than this controller's last write of it."""
        written = self._written.get(key)
        if written is None:
            return False
        version, at = written
        seen = _number(obj)
        if seen is None or seen >= version or time.monotonic() - at > _PATIENCE:
            del self._written[key]
            return False
        return True

    def left(self, key: Hashable, before: str | None, obj: Mapping[str, Any]) -> None:
        """Remember ``obj``'s version if this reconcile wrote it (it differs from ``before``)."""
        version = _number(obj)
        if version is not None and str(version) != before:
            self._written[key] = (version, time.monotonic())

    def forget(self, key: Hashable) -> None:
        """Drop what is remembered of an object that is gone."""
        self._written.pop(key, None)


def _number(obj: Mapping[str, Any]) -> int | None:
    version = (obj.get("metadata") or {}).get("resourceVersion")
    try:
        return int(version) if version is not None else None
    except ValueError:
        return None
