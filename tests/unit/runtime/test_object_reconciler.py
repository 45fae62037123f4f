"""The Flux object lifecycle's outcomes, through ``ObjectReconciler`` on the in-memory client.

Each test runs the public reconciler with a one-step pipeline against
:class:`tide.testing.FakeKubeClient`, read through a real :class:`WatchCache`, and checks what a
user would see on the object: conditions, events, writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.resources import ResourceType
from tide.runtime.events import EventRecorder
from tide.runtime.lifecycle import ObjectReconciler
from tide.runtime.reconcile import Request
from tide.runtime.steps import Progress, Stalled, StepFailed, Succeeded, Waiting
from tide.testing import FakeKubeClient, violations

pytestmark = pytest.mark.unit

WIDGET = ResourceType("widgets.test.tide.dev", "v1", "Widget", "widgets")
REQUEST = Request("apps", "w")


@dataclass
class OneStep:
    """A pipeline whose only step does what the test says: succeed, fail, or stall."""

    outcome: Any = field(default_factory=lambda: Succeeded("Succeeded", "widget is up"))
    runs: int = 0
    forgotten: list[tuple[str | None, str]] = field(default_factory=list)

    def forget(self, namespace: str | None, name: str) -> None:
        self.forgotten.append((namespace, name))

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Any:
        self.runs += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    async def finalize(self, obj: dict[str, Any]) -> Waiting | None:
        return None


@dataclass
class World:
    client: FakeKubeClient
    pipeline: OneStep
    reconciler: ObjectReconciler

    async def reconcile(self) -> Any:
        await self.client.settle()  # the cache has every write so far, as after a watch event
        return await self.reconciler.reconcile(REQUEST)

    async def widget(self) -> dict[str, Any]:
        await self.client.settle()
        return await self.client.get(WIDGET, "w", namespace="apps")

    def events(self) -> list[tuple[str, str, str]]:
        found = self.client.objects(resources.EVENT, namespace="apps")
        return [(e["type"], e["reason"], e["message"]) for e in found]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    client = FakeKubeClient(field_manager="widget-controller")
    await client.create(WIDGET, {
        "metadata": {"name": "w", "namespace": "apps"}, "spec": {"interval": "5m"},
    })  # fmt: skip
    cache = WatchCache(client, WIDGET)
    mirror = asyncio.create_task(cache.run())
    await cache.synced.wait()
    pipeline = OneStep()
    reconciler = ObjectReconciler(
        rt=WIDGET, client=client, cache=cache,
        recorder=EventRecorder(client, component="widget-controller", instance="test"),
        pipeline=pipeline,
    )  # fmt: skip
    yield World(client, pipeline, reconciler)
    mirror.cancel()


def conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"]) for c in obj["status"]["conditions"]
    }


async def test_success_makes_the_object_ready_with_the_pipelines_words(world: World) -> None:
    result = await world.reconcile()

    obj = await world.widget()
    assert conditions(obj) == {"Ready": ("True", "Succeeded", "widget is up")}
    assert obj["status"]["observedGeneration"] == 1
    assert "finalizers.fluxcd.io" in obj["metadata"]["finalizers"]
    assert violations(obj) == []
    assert ("Normal", "Succeeded", "widget is up") in world.events()
    assert result.requeue_after is not None and 0.95 * 300 <= result.requeue_after <= 1.05 * 300


async def test_a_stalled_step_stalls_the_object_and_is_not_retried(world: World) -> None:
    world.pipeline.outcome = Stalled("spec.size: must be positive, got -1", reason="InvalidSpec")

    with pytest.raises(Stalled):  # the controller does not retry a TerminalError
        await world.reconcile()

    obj = await world.widget()
    message = "spec.size: must be positive, got -1"
    assert conditions(obj) == {
        "Stalled": ("True", "InvalidSpec", message),
        "Ready": ("False", "InvalidSpec", message),
    }
    assert obj["status"]["observedGeneration"] == 1  # this generation is settled, as a failure
    assert violations(obj) == []
    assert world.events() == [("Warning", "InvalidSpec", message)]


async def test_a_failed_step_is_retried_with_reconciling_shown(world: World) -> None:
    world.pipeline.outcome = StepFailed("registry unreachable", reason="FetchFailed")

    with pytest.raises(StepFailed):  # the controller backs off and retries
        await world.reconcile()

    obj = await world.widget()
    assert conditions(obj) == {
        "Reconciling": ("True", "ProgressingWithRetry", "registry unreachable"),
        "Ready": ("False", "FetchFailed", "registry unreachable"),
    }
    assert "observedGeneration" not in obj["status"]
    assert violations(obj) == []


async def test_a_retry_that_fails_the_same_way_writes_nothing_more(world: World) -> None:
    world.pipeline.outcome = StepFailed("registry unreachable", reason="FetchFailed")
    with pytest.raises(StepFailed):
        await world.reconcile()
    failed = await world.widget()
    writes = world.client.total_writes(kinds=("Widget",))

    with pytest.raises(StepFailed):
        await world.reconcile()

    assert world.client.total_writes(kinds=("Widget",)) == writes  # no flapping to Unknown
    assert (await world.widget())["metadata"]["resourceVersion"] == (
        failed["metadata"]["resourceVersion"]
    )


async def test_an_idle_reconcile_writes_nothing(world: World) -> None:
    await world.reconcile()
    ready = await world.widget()
    writes = world.client.total_writes()

    await world.reconcile()

    assert world.pipeline.runs == 2  # it did run the pipeline
    assert world.client.total_writes() == writes
    assert (await world.widget())["metadata"]["resourceVersion"] == (
        ready["metadata"]["resourceVersion"]
    )


async def test_a_new_generation_is_marked_in_progress_then_ready(world: World) -> None:
    await world.reconcile()
    seen: list[dict[str, tuple[str, str, str]]] = []

    async def look(obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Any:
        seen.append(conditions(await world.client.get(WIDGET, "w", namespace="apps")))
        return Succeeded("Succeeded", "widget resized")

    world.pipeline.run = look  # type: ignore[method-assign]
    await world.client.patch_merge(WIDGET, "w", {"spec": {"size": 3}}, namespace="apps")
    await world.reconcile()

    assert seen == [{
        "Reconciling": ("True", "Progressing", "Reconciliation in progress"),
        "Ready": ("Unknown", "Progressing", "Reconciliation in progress"),
    }]  # fmt: skip
    obj = await world.widget()
    assert obj["metadata"]["generation"] == obj["status"]["observedGeneration"] == 2
    assert conditions(obj) == {"Ready": ("True", "Succeeded", "widget resized")}


async def test_a_suspended_object_is_left_alone(world: World) -> None:
    await world.client.patch_merge(WIDGET, "w", {"spec": {"suspend": True}}, namespace="apps")

    await world.reconcile()

    assert world.pipeline.runs == 0
    assert "status" not in await world.widget()
    assert world.pipeline.forgotten == [("apps", "w")]  # no parked work outlives a suspend


async def test_deleting_releases_the_finalizer_and_the_object_goes(world: World) -> None:
    await world.reconcile()
    await world.client.delete(WIDGET, "w", namespace="apps")
    assert (await world.widget())["metadata"]["deletionTimestamp"]

    await world.reconcile()

    await world.client.settle()
    assert await world.client.get_or_none(WIDGET, "w", namespace="apps") is None
    assert world.pipeline.forgotten == []
    await world.reconcile()  # gone from the cache: whatever was kept for it goes too
    assert world.pipeline.forgotten == [("apps", "w")]


async def test_a_reconcile_request_is_handled_once(world: World) -> None:
    await world.reconcile()
    annotation = {"reconcile.fluxcd.io/requestedAt": "2026-11-22T10:00:00Z"}
    await world.client.patch_merge(
        WIDGET, "w", {"metadata": {"annotations": annotation}}, namespace="apps"
    )

    await world.reconcile()
    handled = await world.widget()
    writes = world.client.total_writes()
    await world.reconcile()

    assert handled["status"]["lastHandledReconcileAt"] == "2026-11-22T10:00:00Z"
    assert world.client.total_writes() == writes  # the same request again is no new work


@pytest.mark.parametrize(
    ("interval", "seconds"),
    [("30s", 30.0), ("1h30m", 5400.0), ("", 600.0), ("soon", 600.0), ("10d", 600.0)],
    ids=["seconds", "compound", "empty", "words", "days"],
)
async def test_success_requeues_after_the_interval_or_ten_minutes(
    world: World, interval: str, seconds: float
) -> None:
    await world.client.patch_merge(WIDGET, "w", {"spec": {"interval": interval}}, namespace="apps")

    result = await world.reconcile()

    assert 0.95 * seconds <= result.requeue_after <= 1.05 * seconds


async def test_a_zero_interval_reconciles_only_on_change(world: World) -> None:
    await world.client.patch_merge(WIDGET, "w", {"spec": {"interval": "0s"}}, namespace="apps")

    result = await world.reconcile()

    assert result.requeue_after is None and not result.requeue


async def test_interval_requeues_are_spread_both_ways(world: World) -> None:
    delays = [(await world.reconcile()).requeue_after for _ in range(40)]

    assert min(delays) < 300.0 < max(delays)  # objects created together drift apart
