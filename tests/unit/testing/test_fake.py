"""``FakeKubeClient`` answers as an API server would in the cases reconcilers depend on."""

from __future__ import annotations

import asyncio

import pytest

from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.errors import KubeConflict, KubeNotFound
from tide.testing import FakeKubeClient

pytestmark = pytest.mark.unit

CM = resources.CONFIG_MAP


async def test_versions_move_on_change_only_and_generation_on_spec_only() -> None:
    client = FakeKubeClient()
    created = await client.create(CM, {"metadata": {"name": "a", "namespace": "n"}, "data": {}})
    same = await client.apply(CM, {"metadata": {"name": "a", "namespace": "n"}, "data": {}})
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    changed = await client.apply(CM, {"metadata": {"name": "a", "namespace": "n"},
                                      "data": {"k": "v"}})  # fmt: skip
    assert int(changed["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert changed["metadata"]["generation"] == 2
    status = await client.apply_status(CM, {**changed, "status": {"phase": "x"}})
    assert status["metadata"]["generation"] == 2
    assert client.total_writes(kinds=("ConfigMap",)) == 4  # sent writes, no-ops included


async def test_a_stale_resource_version_conflicts() -> None:
    client = FakeKubeClient()
    created = await client.create(CM, {"metadata": {"name": "a", "namespace": "n"}})
    await client.patch_merge(CM, "a", {"data": {"k": "v"}}, namespace="n")
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}}
    with pytest.raises(KubeConflict):
        await client.patch_merge(CM, "a", stale, namespace="n")
    with pytest.raises(KubeConflict):
        await client.create(CM, {"metadata": {"name": "a", "namespace": "n"}})


async def test_deletion_waits_for_finalizers_and_the_cache_sees_every_step() -> None:
    client = FakeKubeClient()
    await client.create(CM, {"metadata": {"name": "a", "namespace": "n", "finalizers": ["x/y"]}})
    cache = WatchCache(client, CM)
    seen: list[str] = []
    cache.add_handler(lambda event, old, new: seen.append(event))
    mirror = asyncio.create_task(cache.run())
    await cache.synced.wait()

    await client.delete(CM, "a", namespace="n")
    await client.settle()
    held = cache.get("n", "a")
    assert held is not None and held["metadata"]["deletionTimestamp"]

    await client.patch_merge(CM, "a", {"metadata": {"finalizers": None}}, namespace="n")
    await client.settle()
    assert cache.get("n", "a") is None
    assert seen == ["ADDED", "MODIFIED", "DELETED"]
    with pytest.raises(KubeNotFound):
        await client.get(CM, "a", namespace="n")
    mirror.cancel()
