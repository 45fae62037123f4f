"""A watch cache rides out an API server outage: bounded retries, two log lines, then catches up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Iterator

import pytest

from tests.integration.helpers import eventually
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

WIDENED = 1.5
"""Seconds between two attempts that show the backoff has grown (0.5 s doubling: the third gap)."""


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    """A control plane of its own: stopping the session's API server would disturb other tests."""
    with ControlPlane() as started:
        yield started


def cache_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tide.kube.cache"]


async def test_a_watch_backs_off_during_an_outage_and_catches_up_after_it(
    plane: ControlPlane, caplog: pytest.LogCaptureFixture
) -> None:
    client = KubeClient.from_kubeconfig(plane.kubeconfig, field_manager="tide-tests")
    configmaps = WatchCache(client, resources.CONFIG_MAP, namespace="default")
    mirror = asyncio.create_task(configmaps.run())
    try:
        await asyncio.wait_for(configmaps.synced.wait(), timeout=30)
        caplog.set_level(logging.DEBUG, logger="tide.kube.cache")
        caplog.clear()

        await asyncio.to_thread(plane.stop_apiserver)

        async def backed_off() -> list[logging.LogRecord]:
            records = cache_records(caplog)
            gaps = [b.created - a.created for a, b in itertools.pairwise(records)]
            return records if any(gap > WIDENED for gap in gaps) else []

        # Keep the API server away until the attempts have spread out: a cache retrying at a
        # fixed pace never gets there and fails this wait.
        during = await eventually(backed_off, timeout=15, what="the cache's retries to spread out")

        plane.start_apiserver()  # from this (the main) thread, as ControlPlane.start asks
        await client.create(
            resources.CONFIG_MAP,
            {"metadata": {"name": "after-restart", "namespace": "default"}, "data": {"k": "v"}},
        )

        async def caught_up() -> bool:
            return configmaps.get("default", "after-restart") is not None

        await eventually(caught_up, timeout=60, what="the cache to see a ConfigMap made after")
    finally:
        mirror.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await mirror
        await client.close()

    # One warning as the outage starts, naming the kind and the error; attempts after it at
    # debug level, spaced ever wider (0.5 s doubling: a few attempts, not one a second).
    assert [r.levelno for r in during] == [logging.WARNING] + [logging.DEBUG] * (len(during) - 1)
    first = during[0].getMessage()
    assert first.startswith("watch of ConfigMap.core/v1 failed: ")
    assert "unreachable" in first or "HTTP" in first
    assert len(during) < 10
    gaps = [b.created - a.created for a, b in itertools.pairwise(during)]
    assert max(gaps) > WIDENED, gaps
    assert min(gaps) < WIDENED, gaps  # the first retries came sooner: the wait grew
    # One info line as it ends; no further warnings.
    after = cache_records(caplog)[len(during) :]
    resumed = [r for r in after if r.levelno >= logging.INFO]
    assert len(resumed) == 1, [r.getMessage() for r in resumed]
    assert resumed[0].levelno == logging.INFO
    assert resumed[0].getMessage().startswith("watch of ConfigMap.core/v1 resumed after ")
