"""A parked wait reads a watch's copies only while that watch follows the API server."""

from __future__ import annotations

from typing import Any, cast

from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.runtime.wakeups import ObjectWatches

CLIENT = cast(KubeClient, object())
"""Never called: nothing here lists or watches."""


def watches_with(cache: WatchCache) -> ObjectWatches:
    watches = ObjectWatches(CLIENT)
    watches._caches[cache.rt] = cache
    return watches


def test_a_watch_that_broke_after_syncing_covers_nothing() -> None:
    cache = WatchCache(CLIENT, resources.CONFIG_MAP)
    cache._replace([{"metadata": {"name": "app", "namespace": "ns", "resourceVersion": "7"}}])
    cache.synced.set()
    cache.current = True
    watches = watches_with(cache)
    lookup = watches.reader(CLIENT)
    assert lookup is not None
    assert watches.covers(resources.CONFIG_MAP, "ns")
    known, obj = lookup(resources.CONFIG_MAP, "ns", "app")
    assert known and cast(dict[str, Any], obj)["metadata"]["resourceVersion"] == "7"

    cache.current = False  # the watch broke: synced stays set, the copy is frozen
    assert not watches.covers(resources.CONFIG_MAP, "ns")
    assert lookup(resources.CONFIG_MAP, "ns", "app") == (False, None)
