"""A parked health check is woken by a watch event on its object, not by a poll."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.helpers import eventually
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tests.integration.kustomize.conftest import running_controllers
from tests.integration.kustomize.test_health import (
    CRD,
    EXPRS,
    WIDGET,
    WIDGET_MANIFEST,
    _health_check_under_way,
    set_phase,
)
from tide.kube.client import KubeClient
from tide.runtime import wakeups
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

NEVER = 600.0
"""Seconds of the poll and fallback looks here: far past any wait in these tests."""


@pytest.fixture
async def watches_only(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Manager]:
    """The controllers with every timed look 10 minutes away: only a wake helps.

    Poll and fallback looks of a parked check, and the look after waiting for the source's
    first artifact (``requeue_dependency``); Kustomizations here have a 10 minute interval.
    """
    monkeypatch.setattr(wakeups, "POLL", NEVER)
    monkeypatch.setattr(wakeups, "FALLBACK", NEVER)
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "s", requeue_dependency=NEVER
    ) as manager:
        yield manager


async def test_a_status_change_wakes_a_parked_health_check_before_any_poll(
    kube: KubeClient, namespace: str, git_server: GitServer, watches_only: Manager
) -> None:
    repo = f"wake-{namespace[-8:]}"
    git_server.create_repo(repo, {"widgets/crd.yaml": CRD, "widgets/gear.yaml": WIDGET_MANIFEST})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "widgets", {
        "path": "./widgets", "wait": True, "timeout": "5m", "healthCheckExprs": EXPRS,
    })  # fmt: skip
    await _health_check_under_way(kube, namespace, "widgets")

    async def widget_applied() -> bool:
        return await kube.get_or_none(WIDGET, "gear", namespace=namespace) is not None

    await eventually(widget_applied, what="the Widget to be applied")
    await set_phase(kube, namespace, "Ready")
    # The next poll or fallback look is 10 minutes away: only the Widget's watch event can
    # bring the verdict this soon.
    await wait_for(kube, namespace, "widgets", status="True", timeout=30)


async def test_a_parked_health_check_still_fails_at_its_deadline(
    kube: KubeClient, namespace: str, git_server: GitServer, watches_only: Manager
) -> None:
    repo = f"deadline-{namespace[-8:]}"
    git_server.create_repo(repo, {"widgets/crd.yaml": CRD, "widgets/gear.yaml": WIDGET_MANIFEST})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "widgets", {
        "path": "./widgets", "wait": True, "timeout": "5s", "healthCheckExprs": EXPRS,
    })  # fmt: skip
    # No event comes (the Widget never changes): the look at the deadline ends it.
    obj = await wait_for(
        kube, namespace, "widgets", status="False", reason="HealthCheckFailed", timeout=40
    )
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert "health check failed after 5s" in ready["message"], ready["message"]
