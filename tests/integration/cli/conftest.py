"""Fixtures for the operating CLI: a Git server, the source + kustomize controllers, ``tide``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


async def tide(kubeconfig: Path, *args: str) -> Ran:
    """Run ``tide ARGS`` in its own process without blocking the controllers' event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli.main", *args, "--kubeconfig", str(kubeconfig),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())
