"""Fixtures for Receiver tests: the notification controller with its webhook server on loopback,
alone or beside the source and kustomize controllers, and helpers to make and call Receivers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.integration.helpers import drain, eventually, start_manager
from tide import notification, source
from tide.api.keys import WATCH, WATCH_ENABLED
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.notification.setup import RECEIVER, NotificationRuntime
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

TOKEN = "r3ceiver-t0ken"


@dataclass
class Webhooks:
    """Running controllers and where their webhook server answers."""

    manager: Manager
    runtime: NotificationRuntime

    @property
    def base_url(self) -> str:
        assert self.runtime.server is not None
        return f"http://127.0.0.1:{self.runtime.server.port}"

    async def post(
        self,
        path: str,
        body: bytes = b"{}",
        headers: Mapping[str, str] | None = None,
        *,
        method: str = "POST",
    ) -> tuple[int, str]:
        """Send one delivery; return the status and the answer's text."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, self.base_url + path, data=body, headers=dict(headers or {})
            ) as response,
        ):
            return response.status, await response.text()


@contextlib.asynccontextmanager
async def running(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    *,
    storage: Path | None = None,
    **notification_options: Any,
) -> AsyncIterator[Webhooks]:
    """Run the notification controller (and, given ``storage``, source and kustomize too)."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    if storage is not None:
        source.setup(
            manager,
            source.SourceOptions(storage_path=storage, storage_host="127.0.0.1", storage_port=0),
        )
        setup_kustomize(manager)
    runtime = notification.setup(manager, receiver=Endpoint("127.0.0.1", 0), **notification_options)
    task = await start_manager(manager)
    try:
        yield Webhooks(manager, runtime)
        kinds = (RECEIVER, KUSTOMIZATION, GIT_REPOSITORY) if storage else (RECEIVER,)
        for rt in kinds:
            await drain(kube, rt, namespace, timeout=60)
    finally:
        manager.stop()
        await asyncio.wait_for(task, timeout=40)
        await client.close()


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def webhooks(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> AsyncIterator[Webhooks]:
    """The notification controller alone, its webhook server on a free loopback port."""
    async with running(control_plane, kube, namespace) as running_webhooks:
        yield running_webhooks


@pytest_asyncio.fixture(loop_scope="session")
async def locked_webhooks(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> AsyncIterator[Webhooks]:
    """As ``webhooks``, with ``--no-cross-namespace-refs``."""
    async with running(control_plane, kube, namespace, no_cross_namespace_refs=True) as hooks:
        yield hooks


@pytest_asyncio.fixture(loop_scope="session")
async def delivery_pipeline(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Webhooks]:
    """Source, kustomize and notification controllers, as one ``tide controller`` runs them."""
    async with running(control_plane, kube, namespace, storage=tmp_path / "storage") as hooks:
        yield hooks


async def create_token(
    kube: KubeClient, namespace: str, *, name: str = "webhook-token", token: str = TOKEN,
    watched: bool = False,
) -> None:  # fmt: skip
    labels = {WATCH: WATCH_ENABLED} if watched else {}
    await kube.create(resources.SECRET, {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    })  # fmt: skip


async def create_receiver(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    await kube.create(RECEIVER, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"secretRef": {"name": "webhook-token"}, **spec},
    })  # fmt: skip


async def ready_receiver(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    """Wait until the Receiver is Ready for its generation; return it."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(RECEIVER, name, namespace=namespace)
        status = obj.get("status") or {}
        ready = [c for c in status.get("conditions") or () if c["type"] == "Ready"]
        current = status.get("observedGeneration") == obj["metadata"]["generation"]
        return obj if current and ready and ready[0]["status"] == "True" else None

    return await eventually(probe, what=f"Receiver {namespace}/{name} to be Ready")


async def served_path(hooks: Webhooks, kube: KubeClient, namespace: str, name: str) -> str:
    """Wait until the Receiver is Ready and the webhook server serves its path; return it.

    The server reads its own watch cache, a moment behind the API server's answer.
    """
    path = (await ready_receiver(kube, namespace, name))["status"]["webhookPath"]
    cache = hooks.manager.cache_for(RECEIVER)

    async def served() -> bool:
        cached = cache.get(namespace, name) or {}
        ready = [c for c in (cached.get("status") or {}).get("conditions") or ()
                 if c["type"] == "Ready" and c["status"] == "True"]  # fmt: skip
        return bool(ready) and hooks.runtime.index.lookup(path) == (namespace, name)

    await eventually(served, what=f"the server to serve Receiver {name}'s path")
    return path


async def create_git_repository(
    kube: KubeClient, namespace: str, name: str, *, url: str = "http://127.0.0.1:9/none",
    labels: dict[str, str] | None = None, interval: str = "1h",
) -> None:  # fmt: skip
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"interval": interval, "url": url, "ref": {"branch": "main"}},
    })  # fmt: skip


async def requested_at(kube: KubeClient, namespace: str, name: str) -> str | None:
    obj = await kube.get(GIT_REPOSITORY, name, namespace=namespace)
    return (obj["metadata"].get("annotations") or {}).get("reconcile.fluxcd.io/requestedAt")
