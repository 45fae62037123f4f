"""Fixtures for source-controller tests: a Git server and the source controller in-process."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import condition, drain, eventually
from tide import source
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.helmchart import HELM_CHART
from tide.source.helmrepository import HELM_REPOSITORY
from tide.source.ocirepository import OCI_REPOSITORY
from tide.source.setup import GIT_REPOSITORY, SourceRuntime
from tide.testing import ControlPlane, GitServer

USER, PASSWORD, TOKEN = "flux", "s3cret-pass", "t0ken-value"
INDEX_LIMIT = 256 << 10
"""A Helm index size limit small enough for a test to exceed cheaply."""
SOURCE_KINDS = (HELM_CHART, HELM_REPOSITORY, OCI_REPOSITORY, GIT_REPOSITORY)


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    """A Git server with basic auth (and bearer token) over HTTP, and SSH."""
    server = GitServer(username=USER, password=PASSWORD, token=TOKEN, ssh=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (to exercise spec.timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@contextlib.asynccontextmanager
async def running_source_controller(
    control_plane: ControlPlane, kube: KubeClient, namespace: str, storage_path: Path
) -> AsyncIterator[tuple[Manager, SourceRuntime]]:
    """Run the source controller in this process on ``storage_path``, artifacts on loopback.

    On exit, the namespace's source objects are deleted (their finalizers run) before the
    controller stops.
    """
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    runtime = source.setup(
        manager,
        source.SourceOptions(
            storage_path=storage_path,
            storage_host="127.0.0.1",
            storage_port=0,
            max_index_size=INDEX_LIMIT,
        ),
    )
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="source controller caches to sync")
    yield manager, runtime
    try:
        for rt in SOURCE_KINDS:  # consumers first: a HelmChart may still read its source
            await drain(kube, rt, namespace)
    finally:  # a manager left running would reconcile the next tests' objects too
        manager.stop()
        await asyncio.wait_for(task, timeout=40)
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def source_controller(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[Manager, SourceRuntime]]:
    """The source controller running in this process, artifacts served on a loopback port."""
    async with running_source_controller(
        control_plane, kube, namespace, tmp_path / "storage"
    ) as running:
        yield running


def b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


async def create_secret(kube: KubeClient, namespace: str, name: str, data: dict[str, Any]) -> None:
    await kube.create(resources.SECRET, {
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: b64(v) for k, v in data.items()},
    })  # fmt: skip


async def create_git_repository(
    kube: KubeClient, namespace: str, name: str, spec: dict[str, Any]
) -> None:
    """Create a GitRepository; without ``ref`` in ``spec`` it follows branch ``main``.

    The test Git server's repositories start on ``main``, so a spec without ``ref`` names it
    the way a user of such a repository must (an unset ``spec.ref`` means ``master``, as in
    Flux). Pass ``"ref": None`` to leave ``spec.ref`` out.
    """
    full = {"interval": "10m", "ref": {"branch": "main"}, **spec}
    await kube.create(GIT_REPOSITORY, {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {key: value for key, value in full.items() if value is not None},
    })  # fmt: skip


async def wait_condition(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    status: str,
    reason: str | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Wait until Ready has ``status`` (and ``reason``) for the current generation.

    The Ready condition's own ``observedGeneration`` says which generation the verdict is about;
    the root one moves only when a generation settles (Ready or Stalled), as in Flux.
    """

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(GIT_REPOSITORY, name, namespace=namespace)
        ready = condition(obj, "Ready")
        current = (
            ready is not None and ready.get("observedGeneration") == obj["metadata"]["generation"]
        )
        wanted = reason is None or (ready is not None and ready["reason"] == reason)
        if ready and current and ready["status"] == status and wanted:
            return obj
        return None

    return await eventually(
        probe, timeout=timeout, what=f"GitRepository {name} Ready={status} {reason or ''}"
    )
