"""A Kustomization created before its source has an artifact waits on the source's watch.

It writes nothing while the source fetches its first artifact, and is woken when the artifact
appears; a source that stays without one is reported once (``ArtifactFailed``), not on every
retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import events_for, eventually
from tests.integration.kustomize.common import (
    FILES,
    create_kustomization,
    ready_condition,
    wait_for,
)
from tests.integration.kustomize.conftest import running_controllers
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

GRACE = 3.0
"""``--requeue-dependency`` for these tests: how long a wait for a first artifact stays quiet."""


class Writes:
    """Every version of one Kustomization the API server sends on a watch, with its Ready."""

    def __init__(self, kube: KubeClient, namespace: str, name: str) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self._cache = WatchCache(kube, KUSTOMIZATION, namespace=namespace)
        self._cache.add_handler(self._record)
        self._name = name

    def _record(self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is not None and new["metadata"]["name"] == self._name:
            ready = ready_condition(new) or {}
            self.seen.append((new["metadata"]["resourceVersion"], ready.get("reason")))

    def with_reason(self, reason: str) -> list[str]:
        return [version for version, seen in self.seen if seen == reason]

    async def __aenter__(self) -> Writes:
        self._task = asyncio.create_task(self._cache.run())
        await asyncio.wait_for(self._cache.synced.wait(), timeout=30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _source(kube: KubeClient, namespace: str, git: GitServer, *, suspend: bool) -> None:
    repo = f"first-artifact-{namespace}"
    git.create_repo(repo, FILES)
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {"interval": "10m", "url": git.http_url(repo), "ref": {"branch": "main"},
                 "suspend": suspend},
    })  # fmt: skip


async def _resume_source(kube: KubeClient, namespace: str) -> None:
    patch = {"spec": {"suspend": False}}
    await kube.patch_merge(GIT_REPOSITORY, "fleet", patch, namespace=namespace)


@pytest.fixture
async def controllers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    async with running_controllers(
        control_plane, kube, [namespace], tmp_path / "storage", requeue_dependency=GRACE
    ) as manager:
        yield manager


def _reconciles(manager: Manager) -> int:
    """How many reconciles the Kustomization controller has finished."""
    controller = next(c for c in manager.controllers if c.name == "kustomization")
    return sum(controller.results.values())


async def _reconciled(manager: Manager, at_least: int, *, what: str) -> None:
    async def done() -> bool:
        return _reconciles(manager) >= at_least

    await eventually(done, timeout=30, what=what)


async def test_a_source_without_artifact_is_reported_once_however_often_it_is_retried(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    await _source(kube, namespace, git_server, suspend=True)  # no artifact until resumed
    async with Writes(kube, namespace, "early") as writes:
        created = time.monotonic()
        await create_kustomization(
            kube, namespace, "early", {"path": "apps/production", "retryInterval": "1s"}
        )

        waiting = await wait_for(kube, namespace, "early", status="False", reason="ArtifactFailed")
        assert time.monotonic() - created >= GRACE * 0.9  # quiet first, then reported
        assert ready_condition(waiting)["message"] == (
            f"Source GitRepository '{namespace}/fleet' is not ready, artifact not found"
        )
        retries = _reconciles(controllers) + 3
        await _reconciled(controllers, retries, what="three more retries of the waiting one")

        assert len(writes.with_reason("ArtifactFailed")) == 1
        events = await events_for(kube, namespace, "early")
        failed = [e for e in events if e["reason"] == "ArtifactFailed"]
        assert [e.get("count", 1) for e in failed] == [1]

        await _resume_source(kube, namespace)
        await wait_for(kube, namespace, "early", status="True", reason="ReconciliationSucceeded")


async def test_a_kustomization_is_woken_by_its_sources_first_artifact_without_writing_before(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    await _source(kube, namespace, git_server, suspend=True)
    # The default grace (30 s): a wake-up by the timer would have reported ArtifactFailed.
    async with (
        running_controllers(control_plane, kube, [namespace], tmp_path / "storage") as manager,
        Writes(kube, namespace, "early") as writes,
    ):
        await create_kustomization(kube, namespace, "early", {"path": "apps/production"})
        await _reconciled(manager, 1, what="the Kustomization to be looked at once")
        assert not ready_condition(await kube.get(KUSTOMIZATION, "early", namespace=namespace))
        await _resume_source(kube, namespace)

        await wait_for(kube, namespace, "early", status="True", reason="ReconciliationSucceeded")
        assert not writes.with_reason("ArtifactFailed")

    events = await events_for(kube, namespace, "early")
    assert [e["reason"] for e in events if e["type"] == "Warning"] == []
    assert "ArtifactFailed" not in {e["reason"] for e in events}
