"""Fixtures for ``tide install`` / ``tide uninstall``: a ``tide`` process and a plane of their own.

Uninstalling deletes the CRDs and a Flux migration replaces them, which would pull the CRDs from
under every other test in the session; those tests get a control plane of their own
(``own_plane``, with simulated nodes so Deployments become Available), started once for the
package.

``check`` must first see a cluster without Tide, and a bootstrap repoints ``flux-system``, so
the check and bootstrap modules each get a control plane of their own instead (``plane``, also
with simulated nodes), whatever other module ran before them on the same worker.

Containers do not run, so a local ``tide controller`` process stands in for the controllers'
pods: :class:`StandIn` starts it as soon as a bootstrap has installed the CRDs (it refuses to
start without them, as a pod would crash-loop), and keeps it for the rest of the module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.conftest import tide_controller
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


TIMEOUT = 180.0
"""Seconds a bootstrap may take on a loaded 2-core machine."""
LAST_CRD = "kustomizations.kustomize.toolkit.fluxcd.io"


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    """A control plane with workloads (one simulated node), for this module alone."""
    with ControlPlane(workloads=True) as cp:
        yield cp


def run_tide(
    plane: ControlPlane, *args: str, check: bool = True, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``tide args`` against ``plane`` as a user would (``KUBECONFIG`` set)."""
    env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "tide.cli.main", *args],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if check and result.returncode != 0:
        pytest.fail(f"tide {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def established(plane: ControlPlane, crd: str) -> bool:
    """Tell whether CRD ``crd`` exists and is Established."""
    out = plane.kubectl("get", "crd", crd, "-o", "json", "--ignore-not-found")
    if not out.strip():
        return False
    conditions = (json.loads(out).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


class StandIn:
    """The local ``tide controller`` standing in for the controllers' pods."""

    def __init__(self, plane: ControlPlane, folder: Path, stack: contextlib.ExitStack) -> None:
        self.plane = plane
        self.folder = folder
        self._stack = stack
        self.log: Path | None = None

    def start(self) -> None:
        """Start the controller (once); the CRDs must be Established."""
        if self.log is None:
            self.log = self._stack.enter_context(
                tide_controller(self.plane, self.folder, namespaces=())
            )

    def bootstrap(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``tide bootstrap git args``, starting the controller once its CRDs are in."""
        env = {**os.environ, "KUBECONFIG": str(self.plane.kubeconfig), "COLUMNS": "200"}
        command = [sys.executable, "-m", "tide.cli.main", "bootstrap", "git", *args]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + TIMEOUT
        while self.log is None and process.poll() is None and time.monotonic() < deadline:
            if established(self.plane, LAST_CRD):
                self.start()
            time.sleep(0.25)
        out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        result = subprocess.CompletedProcess(command, process.returncode, out, err)
        if check and result.returncode != 0:
            log = self.log.read_text()[-4000:] if self.log else "(controller not started)"
            pytest.fail(f"bootstrap exited {result.returncode}:\n{err}\ncontroller log:\n{log}")
        return result


@pytest.fixture(scope="module")
def stand_in(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    """The module's stand-in controller, started by the first bootstrap."""
    with contextlib.ExitStack() as stack:
        yield StandIn(plane, tmp_path_factory.mktemp("controller"), stack)
