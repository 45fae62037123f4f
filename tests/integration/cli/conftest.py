"""Fixtures for the operating CLI: a Git server and the source + kustomize controllers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.kustomize.conftest import running_controllers
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The source and kustomize controllers, running in this process."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage"
    ) as manager:
        yield manager
