"""Fixtures for ``tide install`` / ``tide uninstall``: a ``tide`` process and a plane of their own.

Uninstalling deletes the CRDs and a Flux migration replaces them, which would pull the CRDs from
under every other test in the session; those tests get a control plane of their own
(``own_plane``, with simulated nodes so Deployments become Available), started once for the
package.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tide.kube.client import KubeClient
from tide.testing import ControlPlane


@dataclass(frozen=True)
class Ran:
    """What a ``tide`` process printed and its exit code."""

    code: int
    stdout: str
    stderr: str


async def tide(kubeconfig: Path, *args: str, answer: str = "", timeout: float = 300) -> Ran:
    """Run ``tide ARGS --kubeconfig KUBECONFIG`` as a user runs it, in its own process.

    Args:
        answer: what the user types at a prompt (standard input).
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli.main", *args, "--kubeconfig", str(kubeconfig),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
    )  # fmt: skip
    communicate = process.communicate(answer.encode())
    stdout, stderr = await asyncio.wait_for(communicate, timeout=timeout)
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture(scope="package")
def own_plane() -> Iterator[ControlPlane]:
    """A control plane with simulated nodes, for tests that delete or replace the CRDs."""
    plane = ControlPlane(workloads=True)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def own_kube(own_plane: ControlPlane) -> AsyncIterator[KubeClient]:
    """An admin client of ``own_plane``."""
    client = KubeClient.from_kubeconfig(own_plane.kubeconfig, field_manager="tide-tests")
    yield client
    await client.close()
