"""A source artifact that unpacks past ``--artifact-max-unpacked-size`` fails with ArtifactFailed.

A few hundred kilobytes of gzip can hold gigabytes of zeros; the Kustomization controller stops
unpacking at its bound, names it, and applies nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.helpers import drain, events_for, eventually
from tests.integration.kustomize.common import (
    DEPLOYMENT,
    FILES,
    create_kustomization,
    given_source,
    ready_condition,
    wait_for,
)
from tide import source
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

LIMIT = 4 << 20
"""The bound the controller runs with here: 4 MiB."""


@pytest_asyncio.fixture(loop_scope="session")
async def bounded(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """Source and kustomize controllers, the latter with artifact_max_unpacked_size=4 MiB."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    source.setup(
        manager,
        source.SourceOptions(
            storage_path=tmp_path / "storage", storage_host="127.0.0.1", storage_port=0
        ),
    )
    setup_kustomize(manager, artifact_max_unpacked_size=LIMIT)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    yield manager
    for rt in (KUSTOMIZATION, GIT_REPOSITORY):
        await drain(kube, rt, namespace, timeout=60)
    manager.stop()
    await asyncio.wait_for(task, timeout=40)
    await client.close()


async def test_an_artifact_unpacking_past_the_bound_fails_and_applies_nothing(
    kube: KubeClient, namespace: str, git_server: GitServer, bounded: Manager
) -> None:
    repo = f"bomb-{namespace[-8:]}"
    git_server.create_repo(repo, {**FILES, "apps/base/podinfo/zeros.bin": bytes(64 << 20)})
    await given_source(kube, namespace, git_server, repo)

    async def packed() -> dict[str, object] | None:
        obj = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
        return (obj.get("status") or {}).get("artifact")

    artifact = await eventually(packed, timeout=60, what="the source artifact")
    assert int(artifact["size"]) < LIMIT  # small on the wire: the bound is on what it unpacks to
    await create_kustomization(kube, namespace, "apps", {"path": "./apps/production"})

    obj = await wait_for(kube, namespace, "apps", status="False", reason="ArtifactFailed")
    assert ready_condition(obj)["message"] == (
        f"artifact from {artifact['url']} unpacks to more than {LIMIT} bytes (4 MiB)"
    )
    assert not (obj["status"].get("inventory") or {}).get("entries")

    async def warned() -> bool:
        events = await events_for(kube, namespace, "apps")
        return any(e["type"] == "Warning" and e["reason"] == "ArtifactFailed" for e in events)

    await eventually(warned, timeout=10, what="a Warning event with reason ArtifactFailed")
    deployments, _ = await kube.list(DEPLOYMENT, namespace=namespace)
    assert deployments == []
