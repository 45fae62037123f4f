"""Helpers shared by integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request
from tide.testing import violations


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


def assert_kstatus(obj: dict[str, Any]) -> None:
    """Fail when ``obj``'s status breaks a kstatus rule."""
    problems = violations(obj)
    assert not problems, problems


async def drain(kube: KubeClient, rt: ResourceType, namespace: str, *, timeout: float = 30) -> None:
    """Delete every ``rt`` object in ``namespace`` and wait until finalizers let them go.

    Controller fixtures call this before stopping, so no object is left Terminating with a
    finalizer that only a later test's controller would release (and count as its own writes).
    """
    objects, _ = await kube.list(rt, namespace=namespace)
    for obj in objects:
        await kube.delete(rt, obj["metadata"]["name"], namespace=namespace)

    async def gone() -> bool:
        remaining, _ = await kube.list(rt, namespace=namespace)
        return not remaining

    await eventually(gone, timeout=timeout, what=f"{rt.kind} objects in {namespace} to go")


async def settled(
    kube: KubeClient,
    manager: Manager,
    rt: ResourceType,
    namespace: str,
    name: str,
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait until nothing more will happen to one object without a new cause; return it.

    That is: the manager's cache holds the object at the API server's latest resourceVersion
    (so every watch event of the writes so far has reached the handlers, which enqueue
    synchronously), and the controller reconciling ``rt`` has that object neither queued nor
    running. From then on only a delayed add (the interval, a retry) or a new change can
    reconcile it, which is what "nothing happens" tests need to know instead of sleeping.
    """
    cache = manager.cache_for(rt)
    request = Request(namespace, name)
    # Every controller is named after its kind ("helmrepository"); its reconciler may wrap others.
    [queue] = [c.queue for c in manager.controllers if c.name == rt.kind.lower()]

    async def quiet() -> dict[str, Any] | None:
        live = await kube.get(rt, name, namespace=namespace)
        cached = cache.get(namespace, name) or {"metadata": {}}
        current = cached["metadata"].get("resourceVersion") == live["metadata"]["resourceVersion"]
        idle = not queue.busy(request)
        return live if current and idle else None

    return await eventually(quiet, timeout=timeout, what=f"{rt.kind} {namespace}/{name} to settle")


def reconcile_count(kind: str, namespace: str, name: str) -> float:
    """Return how many reconciles of one object this process ran (from the duration histogram)."""
    labels = {"kind": kind, "name": name, "namespace": namespace}
    return REGISTRY.get_sample_value("gotk_reconcile_duration_seconds_count", labels) or 0.0


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """Return the condition of type ``kind`` on ``obj``, or None."""
    return next(
        (c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == kind), None
    )


async def events_for(kube: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    """Events recorded in ``namespace`` about the object called ``name``."""
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    return [e for e in events if e["involvedObject"]["name"] == name]


async def start_manager(manager: Manager) -> asyncio.Task[None]:
    """Run ``manager`` in a task and wait until its caches synced; return the task.

    A manager that fails to start (a port taken, CRDs missing) fails the wait with its error.
    """
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    return task
