"""Fixtures for Kustomization tests: a Git server, and the source + kustomize controllers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import drain, eventually
from tide import source
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@contextlib.asynccontextmanager
async def running_controllers(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespaces: list[str],
    storage: Path,
    *,
    workers: int = 4,
    **kustomize_options: Any,
) -> AsyncIterator[Manager]:
    """Run the source and kustomize controllers (``kustomize_options`` go to its setup).

    ``workers`` is ``--concurrent``: reconciles per controller at once.

    On the way out, the Kustomizations and GitRepositories in ``namespaces`` are deleted
    while the controllers can still release their finalizers.
    """
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0),
        health=Endpoint("127.0.0.1", 0),
        leader_election=False,
        workers=workers,
    )
    manager = Manager(client, options)
    source.setup(
        manager,
        source.SourceOptions(storage_path=storage, storage_host="127.0.0.1", storage_port=0),
    )
    setup_kustomize(manager, **kustomize_options)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    yield manager
    try:
        for namespace in namespaces:
            for rt in (KUSTOMIZATION, GIT_REPOSITORY):
                await drain(kube, rt, namespace, timeout=60)
    finally:  # a manager left running would reconcile the next tests' objects too
        manager.stop()
        await asyncio.wait_for(task, timeout=40)
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The source and kustomize controllers, running in this process."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage"
    ) as manager:
        yield manager


@pytest_asyncio.fixture(loop_scope="session")
async def controllers_without_remote_bases(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """As ``controllers``, with the kustomize controller set up as ``--no-remote-bases`` does."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", no_remote_bases=True
    ) as manager:
        yield manager
