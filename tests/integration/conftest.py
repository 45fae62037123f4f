"""Integration fixtures: one real control plane per session, a namespace per test.

The plane and the namespaces are the ``tide`` pytest plugin's (:mod:`tide.testing.pytest_plugin`,
what users of ``tide.testing`` get); the names here are the ones the suite's tests ask for. With
the plugin's namespace comes its check: after each passing test, every Flux object left in the
namespace must obey the kstatus rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.integration.helpers import drain, eventually
from tide import notification
from tide.install import install_crds
from tide.kube.client import KubeClient
from tide.notification.setup import RECEIVER
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def control_plane(tide_control_plane: ControlPlane) -> ControlPlane:
    """etcd, kube-apiserver, controller-manager, scheduler and kwok, once per session."""
    return tide_control_plane


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


@pytest.fixture
def namespace(tide_namespace: str) -> str:
    """A fresh namespace named after the test, deleted afterwards; kstatus-checked after it."""
    return tide_namespace


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
