"""Alert dispatch throughput with one dead endpoint among live ones.

Run: ``.venv/bin/python bench/notifications.py [--events 2000] [--live 4] [--runs 3]``.

Each run starts a dispatcher in-process over :class:`tide.testing.FakeKubeClient` (Alerts,
Providers and Secrets in watch caches, no API server), ``--live`` webhook endpoints on
loopback that answer at once and one that never answers (its Provider has a 1 minute
timeout), one ``generic`` Provider and one Alert for each. Then it submits ``--events``
distinct error events as Tide's controllers do (``EventRecorder`` sinks, in process) and
measures how long ``submit`` takes per event (what a reconciler waits) and the time until every
live endpoint has received every event, while the dead one holds its first request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from aiohttp import web

from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.notification import Dispatcher, DispatchOptions
from tide.notification.setup import ALERT, PROVIDER
from tide.runtime.events import EventRecorder
from tide.testing import FakeKubeClient

NAMESPACE = "bench"


class Endpoint:
    """A loopback webhook that counts what it receives, or never answers."""

    def __init__(self, *, dead: bool = False) -> None:
        self.dead = dead
        self.received = 0
        self.done = asyncio.Event()
        self.expected = 0
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.dead:
            await self._release.wait()
            return web.Response(status=503)
        self.received += 1
        if self.received >= self.expected:
            self.done.set()
        return web.Response(status=200)


def _event(index: int) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": "Kustomization", "namespace": NAMESPACE, "name": f"app-{index}"},
        "severity": "error", "timestamp": "2026-01-01T00:00:00Z", "reason": "HealthCheckFailed",
        "message": f"health check failed for app-{index}", "metadata": {},
        "reportingController": "kustomize-controller",
    }  # fmt: skip


async def one_run(events: int, live: int) -> dict[str, float]:
    client = FakeKubeClient()
    endpoints = [Endpoint() for _ in range(live)] + [Endpoint(dead=True)]
    for index, endpoint in enumerate(endpoints):
        await endpoint.start()
        endpoint.expected = events
        name = f"hook-{index}"
        timeout = "1m" if endpoint.dead else "5s"
        await client.create(PROVIDER, {"metadata": {"name": name, "namespace": NAMESPACE},
                                       "spec": {"type": "generic", "address": endpoint.url,
                                                "timeout": timeout}})  # fmt: skip
        await client.create(ALERT, {"metadata": {"name": name, "namespace": NAMESPACE}, "spec": {
            "providerRef": {"name": name}, "eventSeverity": "error",
            "eventSources": [{"kind": "Kustomization", "name": "*"}]}})  # fmt: skip
    caches = [WatchCache(client, rt) for rt in (ALERT, PROVIDER, resources.SECRET)]
    dispatcher = Dispatcher(
        client, alerts=caches[0], providers=caches[1], secrets=caches[2],
        recorder=EventRecorder(client, component="notification-controller", instance="bench"),
        options=DispatchOptions(rate_limit_interval=0),
    )  # fmt: skip
    tasks = [asyncio.create_task(cache.run()) for cache in caches]
    await dispatcher.start()
    for cache in caches:
        await cache.synced.wait()
    submit_times = []
    started = time.monotonic()
    for index in range(events):
        before = time.perf_counter()
        await dispatcher.submit(_event(index))
        submit_times.append(time.perf_counter() - before)
    await asyncio.gather(*(e.done.wait() for e in endpoints if not e.dead))
    elapsed = time.monotonic() - started
    dead_arrived = endpoints[-1].received
    await dispatcher.stop()
    for task in tasks:
        task.cancel()
    for endpoint in endpoints:
        await endpoint.stop()
    submit_times.sort()
    return {
        "seconds": elapsed,
        "deliveries_per_second": events * live / elapsed,
        "submit_p99_us": submit_times[int(len(submit_times) * 0.99)] * 1e6,
        "dead_answered": dead_arrived,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--live", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = [asyncio.run(one_run(args.events, args.live)) for _ in range(args.runs)]
    for key in ("seconds", "deliveries_per_second", "submit_p99_us"):
        values = [r[key] for r in results]
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"{key}: median {statistics.median(values):.1f} ({runs})")
    print(f"dead endpoint answered: {[r['dead_answered'] for r in results]} (expected 0)")


if __name__ == "__main__":
    main()
