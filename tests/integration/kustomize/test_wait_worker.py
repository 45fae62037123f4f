"""A health check under way gives its worker back: ``--concurrent`` bounds work, not waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.helpers import condition, eventually
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tests.integration.kustomize.conftest import running_controllers
from tests.integration.kustomize.test_health import STUCK
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  n: '1'\n"


@pytest.fixture
async def one_worker(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The controllers with ``--concurrent 1``."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", workers=1
    ) as manager:
        yield manager


async def test_a_kustomization_waiting_on_health_does_not_block_another_with_one_worker(
    kube: KubeClient, namespace: str, git_server: GitServer, one_worker: Manager
) -> None:
    repo = f"one-worker-{namespace[-8:]}"
    # No node has this label: the Deployment never becomes available.
    git_server.create_repo(repo, {"stuck/deploy.yaml": STUCK % "disk: nowhere",
                                  "plain/config.yaml": CONFIG})  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "stuck", {
        "path": "./stuck", "wait": True, "timeout": "10m",
    })  # fmt: skip

    async def checking() -> dict | None:
        obj = await kube.get(KUSTOMIZATION, "stuck", namespace=namespace)
        reconciling = condition(obj, "Reconciling") or {}
        return obj if reconciling.get("message", "").startswith("Running health checks") else None

    await eventually(checking, timeout=60, what="the stuck Kustomization's health check")
    await create_kustomization(kube, namespace, "plain", {"path": "./plain"})

    # Well before the stuck one's 10 minute timeout frees the only worker.
    await wait_for(kube, namespace, "plain", status="True", timeout=60)
    stuck = await checking()
    assert stuck is not None, "the health check should still be under way"
    assert condition(stuck, "Ready")["status"] == "Unknown"
    assert condition(stuck, "Healthy")["status"] == "Unknown"
