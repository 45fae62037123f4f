"""Fixtures for notification tests: webhook endpoints on loopback and controllers to alert on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.integration.helpers import drain, start_manager
from tide import notification, source
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.notification import Dispatcher, DispatchOptions, RetryPolicy
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

FAST_RETRY = RetryPolicy(retries=1, delay=0.05, max_delay=0.1)


class Sink:
    """A webhook endpoint on 127.0.0.1 that keeps every JSON body posted to it.

    Args:
        hang: never answer (an endpoint that is down behind a load balancer).
    """

    def __init__(self, *, hang: bool = False) -> None:
        self.hang = hang
        self.received: list[dict[str, Any]] = []
        self.arrived = 0
        """Requests that reached the endpoint, answered or not."""
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        self._released.set()  # a hanging request ends, so the server stops at once
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.arrived += 1
        if self.hang:
            await self._released.wait()
            return web.Response(status=503)
        self.received.append(await request.json())
        return web.Response(status=200)


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def sinks() -> AsyncIterator[Callable[..., Any]]:
    """Start sinks on demand (``await sinks()``, ``await sinks(hang=True)``); all stop after."""
    started: list[Sink] = []

    async def start(**kwargs: Any) -> Sink:
        sink = Sink(**kwargs)
        await sink.start()
        started.append(sink)
        return sink

    yield start
    for sink in started:
        await sink.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    sinks: Callable[..., Any],  # stopped after the controllers, which still send while draining
) -> AsyncIterator[Callable[..., Any]]:
    """Start Tide's controllers with ``options``; ``await controllers(options)`` → the dispatcher.

    ``kustomize=True`` adds the source and kustomize controllers; the events endpoint is served
    on a free loopback port. Flux objects of the namespace are drained before the stop.
    """
    stack = contextlib.AsyncExitStack()

    async def start(options: DispatchOptions, *, kustomize: bool = False) -> Dispatcher:
        client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
        manager = Manager(client, ManagerOptions(
            metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0),
            leader_election=False,
        ))  # fmt: skip
        if kustomize:
            source.setup(manager, source.SourceOptions(
                storage_path=tmp_path / "storage", storage_host="127.0.0.1", storage_port=0,
            ))  # fmt: skip
            setup_kustomize(manager)
        dispatcher = notification.setup(
            manager, dispatch=options, events_addr=Endpoint("127.0.0.1", 0)
        )
        task = await start_manager(manager)

        async def stop() -> None:
            try:
                for rt in (KUSTOMIZATION, GIT_REPOSITORY) if kustomize else ():
                    await drain(kube, rt, namespace, timeout=60)
            finally:
                manager.stop()
                await asyncio.wait_for(task, timeout=40)
                await client.close()

        stack.push_async_callback(stop)
        return dispatcher

    async with stack:
        yield start
