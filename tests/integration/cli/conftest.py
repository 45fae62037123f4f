"""Fixtures for the operating CLI: a Git server, the source + kustomize controllers, ``tide``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
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


@contextlib.contextmanager
def controller_process(
    control_plane: ControlPlane, folder: Path, *flags: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``tide controller`` with ``flags`` in its own process, logging to ``folder``.

    Loopback ports are picked by the system; the caller chooses the controllers, leader
    election and anything else. On the way out the process gets SIGTERM (then SIGKILL after a
    minute) and its last log lines are printed, which pytest shows with a failure.
    """
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "controller.log"
    command = [
        sys.executable, "-m", "tide.cli.main", "controller",
        "--kubeconfig", str(control_plane.kubeconfig),
        "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
        "--storage-addr", "127.0.0.1:0", "--storage-path", str(folder / "storage"),
        "--receiver-addr", "127.0.0.1:0", "--events-addr", "127.0.0.1:0",
        *flags,
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            print(f"--- {log_path} (last 30 lines) ---")
            print("\n".join(log_path.read_text().splitlines()[-30:]))


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
