"""A watch cache rides out an API server outage: bounded retries, two log lines, then catches up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Iterator

import pytest

from tests.integration.helpers import eventually
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

OUTAGE = 6.0
"""Seconds the API server stays down: long enough for the backoff to show."""


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
        stopped = time.monotonic()

        async def retrying() -> bool:
            return len(cache_records(caplog)) >= 3

        await eventually(retrying, what="the cache to retry")
        # Keep the API server away for the whole outage: its length is what is under test.
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))
        during = cache_records(caplog)

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
    # debug level, spaced ever wider (0.5 s doubling: ~4 attempts in 6 s, not one a second).
    assert [r.levelno for r in during] == [logging.WARNING] + [logging.DEBUG] * (len(during) - 1)
    first = during[0].getMessage()
    assert first.startswith("watch of ConfigMap.core/v1 failed: ")
    assert "unreachable" in first or "HTTP" in first
    assert len(during) < 10
    gaps = [b.created - a.created for a, b in itertools.pairwise(during)]
    assert max(gaps) > 1.5, gaps
    # One info line as it ends; no further warnings.
    after = cache_records(caplog)[len(during) :]
    resumed = [r for r in after if r.levelno >= logging.INFO]
    assert len(resumed) == 1, [r.getMessage() for r in resumed]
    assert resumed[0].levelno == logging.INFO
    assert resumed[0].getMessage().startswith("watch of ConfigMap.core/v1 resumed after ")
