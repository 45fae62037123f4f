"""Releases waiting on their objects leave Helm threads for the others: none queues behind them.

Helm holds a thread for an install's whole wait; Tide gives Helm an action thread per worker
(``--concurrent``) and keeps reads on threads of their own, so with more workers than Helm
used to have threads (8), a release still installs while every other one waits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.helm.common import DEPLOYMENT, create_release, given_repository, wait_for
from tests.integration.helm.conftest import running_controllers
from tests.integration.helpers import condition, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration

WAITING = 8
"""Releases that wait on a Deployment no node can run: as many as Helm had threads before."""


@pytest.fixture
async def many_workers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The controllers with a worker for each waiting release, and one more."""
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", workers=WAITING + 1
    ) as manager:
        yield manager


async def test_a_release_installs_while_others_wait_on_their_deployments(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, many_workers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    nowhere = {"nodeSelector": {"disk": "nowhere"}}
    stuck = [f"stuck-{index}" for index in range(WAITING)]
    for name in stuck:
        await create_release(kube, namespace, name, {
            "values": nowhere, "install": {"timeout": "10m"},
        })  # fmt: skip

    async def all_waiting() -> bool:
        for name in stuck:  # Helm has applied the Deployment and waits for it
            if await kube.get_or_none(DEPLOYMENT, name, namespace=namespace) is None:
                return False
        return True

    await eventually(all_waiting, timeout=120, what="every stuck release's Helm wait")
    await create_release(kube, namespace, "quick", {"values": {"replicas": 0}})

    # Well before any stuck release's 10 minute timeout frees a thread.
    await wait_for(kube, namespace, "quick", status="True", reason="InstallSucceeded", timeout=90)
    for name in stuck:
        obj = await kube.get(HELM_RELEASE, name, namespace=namespace)
        assert condition(obj, "Ready")["status"] == "Unknown", name

    # Let the waits end (a node can run them now), so the releases can be uninstalled.
    unstick = {"spec": {"template": {"spec": {"nodeSelector": None}}}}
    for name in stuck:
        await kube.patch_merge(DEPLOYMENT, name, unstick, namespace=namespace)
    for name in stuck:
        await wait_for(kube, namespace, name, status="True", timeout=120)
