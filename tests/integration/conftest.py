"""Integration fixtures: one real control plane per session, a namespace per test."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.integration.helpers import STARTUP, drain, eventually
from tide import notification
from tide.cli.install import install_crds
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.notification.setup import RECEIVER
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """Start etcd, kube-apiserver, controller-manager, scheduler and kwok once per session."""
    plane = ControlPlane(workloads=True)
    plane.start()
    request.config.stash[STARTUP] = plane.startup_seconds
    try:
        yield plane
    finally:
        plane.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kube(control_plane: ControlPlane) -> AsyncIterator[KubeClient]:
    """An admin client for the tests' own set-up and checks (not the controllers')."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide-tests")
    yield client
    await client.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def crds(kube: KubeClient) -> list[str]:
    """Install Tide's CRDs once per session."""
    return await install_crds(kube)


@pytest_asyncio.fixture(loop_scope="session")
async def namespace(kube: KubeClient, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh namespace named after the test, deleted afterwards."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    name = f"t-{request.node.name[:40].lower().replace('_', '-').strip('-')}-{digest}"
    name = "".join(c for c in name if c.isalnum() or c == "-")
    await kube.create(resources.NAMESPACE, {"metadata": {"name": name}})
    yield name
    with contextlib.suppress(Exception):
        await kube.delete(resources.NAMESPACE, name)


@pytest_asyncio.fixture(loop_scope="session")
async def manager(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str
) -> AsyncIterator[Manager]:
    """Tide's controllers running in this process, as ``tide controller`` runs them."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    running = Manager(client, options)
    notification.setup(running)
    task = asyncio.create_task(running.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return running.ready

    await eventually(ready, what="manager caches to sync")
    yield running
    await drain(kube, RECEIVER, namespace)
    running.stop()
    await asyncio.wait_for(task, timeout=40)
    await client.close()
