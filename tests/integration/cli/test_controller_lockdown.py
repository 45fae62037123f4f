"""``tide controller --no-cross-namespace-refs=true`` as an operator of Flux writes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import condition, eventually
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration


@pytest.fixture
def locked_controller(
    control_plane: ControlPlane, crds: list[str], tmp_path: Path
) -> Iterator[None]:
    """The ``tide controller`` command, locked down, in its own process."""
    command = [
        sys.executable, "-m", "tide.cli.main", "controller",
        "--controllers", "kustomize",
        "--no-cross-namespace-refs=true",  # Go's spelling, as Flux Deployments write it
        "--kubeconfig", str(control_plane.kubeconfig),
        "--disable-leader-election",
        "--metrics-addr", "127.0.0.1:0",
        "--health-addr", "127.0.0.1:0",
        "--storage-path", str(tmp_path / "storage"),
        "--log-level", "warning",
    ]  # fmt: skip
    log = (tmp_path / "controller.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def test_the_flag_stalls_a_kustomization_whose_source_is_in_another_namespace(
    kube: KubeClient, namespace: str, locked_controller: None
) -> None:
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": "escape", "namespace": namespace},
        "spec": {"interval": "10m", "prune": True, "sourceRef": {
            "kind": "GitRepository", "name": "fleet", "namespace": "flux-system"}},
    })  # fmt: skip

    async def denied() -> dict | None:
        obj = await kube.get(KUSTOMIZATION, "escape", namespace=namespace)
        stalled = condition(obj, "Stalled")
        return stalled if stalled and stalled["reason"] == "AccessDenied" else None

    stalled = await eventually(denied, timeout=90, what="Kustomization escape Stalled")
    assert stalled["message"] == (
        "can't access 'GitRepository/flux-system/fleet', "
        "cross-namespace references have been blocked"
    )

    # Deleted while the controller runs, so it releases its finalizer.
    await kube.delete(KUSTOMIZATION, "escape", namespace=namespace)

    async def gone() -> bool:
        return await kube.get_or_none(KUSTOMIZATION, "escape", namespace=namespace) is None

    await eventually(gone, timeout=60, what="Kustomization escape to go")
