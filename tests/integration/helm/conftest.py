"""Fixtures for HelmRelease tests: a chart repository, and the source + helm controllers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helm.common import TEMPLATES
from tests.integration.helpers import drain, eventually
from tide import source
from tide.helm.setup import HELM_RELEASE
from tide.helm.setup import setup as setup_helm
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.helmchart import HELM_CHART
from tide.source.helmrepository import HELM_REPOSITORY
from tide.source.ocirepository import OCI_REPOSITORY
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ChartRepository, ControlPlane


@pytest.fixture(scope="module")
def chart_repo() -> Iterator[ChartRepository]:
    """Chart ``podinfo`` 6.5.0 and 6.5.1, each a Deployment and an optional ConfigMap."""
    with ChartRepository() as repo:
        for version in ("6.5.0", "6.5.1"):
            repo.add_chart(
                "podinfo", version, values={"replicas": 1, "greeting": "hello"}, templates=TEMPLATES
            )
        yield repo


@contextlib.asynccontextmanager
async def running_controllers(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespaces: list[str],
    storage: Path,
    *,
    kustomize: bool = False,
    workers: int = 4,
    **helm_options: Any,
) -> AsyncIterator[Manager]:
    """Run the source and helm controllers (and kustomize, if asked) in this process.

    ``workers`` is ``--concurrent``: reconciles per controller at once.

    On the way out the HelmReleases (then their sources) in ``namespaces`` are deleted while
    the controllers can still uninstall them and release their finalizers.
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
    setup_helm(manager, **helm_options)
    if kustomize:
        setup_kustomize(manager)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    yield manager
    kinds = [
        HELM_RELEASE,
        *([KUSTOMIZATION] if kustomize else []),
        HELM_CHART,
        HELM_REPOSITORY,
        OCI_REPOSITORY,
    ]
    try:
        for namespace in namespaces:
            for rt in [*kinds, GIT_REPOSITORY]:  # consumers first
                await drain(kube, rt, namespace, timeout=90)
    finally:
        # Stopped even when draining failed: a manager left running would reconcile the next
        # tests' objects beside their own (two installs of one release, write conflicts).
        manager.stop()
        await asyncio.wait_for(task, timeout=40)
        await client.close()


@pytest.fixture
def helm_options() -> dict[str, Any]:
    """Keyword arguments for the helm controller's ``setup()``; a test module may override it."""
    return {}


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    helm_options: dict[str, Any],
) -> AsyncIterator[Manager]:
    """The source and helm controllers, running in this process."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", **helm_options
    ) as manager:
        yield manager
