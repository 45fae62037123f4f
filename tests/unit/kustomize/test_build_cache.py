"""One build per (artifact digest, options): concurrent askers share it, failures are not kept."""

from __future__ import annotations

import asyncio

import pytest

from tide.kustomize.build import BuildOptions
from tide.kustomize.build_cache import BuildCache

pytestmark = pytest.mark.unit

MANIFESTS = [{"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "${x}"}}]


def counting_builder(calls: list[int], *, delay: float = 0.0, fail: bool = False):
    async def build():
        calls.append(1)
        await asyncio.sleep(delay)
        if fail:
            raise RuntimeError("kustomize failed")
        return [dict(m) for m in MANIFESTS]

    return build


async def test_concurrent_askers_share_one_build_and_get_private_copies() -> None:
    cache, calls = BuildCache(), []
    key = BuildCache.key("sha256:aa", BuildOptions(path="apps"))
    results = await asyncio.gather(
        *(cache.get_or_build(key, counting_builder(calls, delay=0.05)) for _ in range(20))
    )
    assert len(calls) == 1 and cache.builds == 1
    assert all(r == MANIFESTS for r in results)
    results[0][0]["data"]["x"] = "changed"
    again = await cache.get_or_build(key, counting_builder(calls))
    assert again[0]["data"]["x"] == "${x}" and len(calls) == 1


def test_the_key_changes_with_the_digest_and_the_options_but_not_the_timeout() -> None:
    base = BuildCache.key("sha256:aa", BuildOptions(path="apps", timeout=10))
    assert base == BuildCache.key("sha256:aa", BuildOptions(path="apps", timeout=99))
    assert base != BuildCache.key("sha256:bb", BuildOptions(path="apps"))
    assert base != BuildCache.key("sha256:aa", BuildOptions(path="apps", target_namespace="x"))
    assert base != BuildCache.key("sha256:aa", BuildOptions(path="other"))


async def test_a_failed_build_is_raised_to_every_waiter_and_not_remembered() -> None:
    cache, calls = BuildCache(), []
    key = BuildCache.key("sha256:aa", BuildOptions())
    outcomes = await asyncio.gather(
        *(
            cache.get_or_build(key, counting_builder(calls, delay=0.05, fail=True))
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    assert len(calls) == 1
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await cache.get_or_build(key, counting_builder(calls)) == MANIFESTS
    assert len(calls) == 2


async def test_a_cancelled_build_lets_a_waiter_build_for_itself() -> None:
    cache, calls = BuildCache(), []
    key = BuildCache.key("sha256:aa", BuildOptions())
    first = asyncio.create_task(cache.get_or_build(key, counting_builder(calls, delay=10)))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get_or_build(key, counting_builder(calls)))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == MANIFESTS
    assert len(calls) == 2


async def test_the_least_recently_used_build_is_dropped_beyond_capacity() -> None:
    cache, calls = BuildCache(capacity=2), []
    keys = [BuildCache.key(f"sha256:{n}", BuildOptions()) for n in range(3)]
    for key in keys:
        await cache.get_or_build(key, counting_builder(calls))
    await cache.get_or_build(keys[2], counting_builder(calls))
    assert len(calls) == 3
    await cache.get_or_build(keys[0], counting_builder(calls))
    assert len(calls) == 4
