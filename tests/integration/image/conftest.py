"""Fixtures for the image reflector: registries on loopback and the controller in-process."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import condition, drain, events_for, eventually
from tide.image import setup as image_setup
from tide.image.setup import IMAGE_POLICY, IMAGE_REPOSITORY, ImageReflector
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.testing import ControlPlane, Registry, RegistryProxy

USER, PASSWORD = "flux", "s3cret-pass"
WRONG_PASSWORD = "Zq9-n0t-the-pa55"
API = "image.toolkit.fluxcd.io/v1"


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    """An anonymous registry over plain HTTP (reached with ``insecure: true``)."""
    with Registry() as server:
        yield server


@pytest.fixture(scope="module")
def private_registry() -> Iterator[Registry]:
    """A registry that demands basic auth."""
    with Registry(username=USER, password=PASSWORD) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def paging_proxy(registry: Registry) -> AsyncIterator[RegistryProxy]:
    """The registry behind a proxy that pages tag lists by three, as GHCR pages by 100."""
    proxy = RegistryProxy(registry.url, max_page=3)
    await proxy.start()
    yield proxy
    await proxy.stop()


@dataclass
class Running:
    """The image reflector under test."""

    manager: Manager
    reflector: ImageReflector
    storage: Path


@contextlib.asynccontextmanager
async def running_reflector(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespaces: list[str],
    storage: Path,
    **options: Any,
) -> AsyncIterator[Running]:
    """Run the image reflector in this process; on exit drain ``namespaces`` and stop it."""
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    manager = Manager(
        client,
        ManagerOptions(
            metrics=Endpoint("127.0.0.1", 0),
            health=Endpoint("127.0.0.1", 0),
            leader_election=False,
        ),
    )
    reflector = image_setup.setup(manager, storage_path=storage, **options)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="image reflector caches to sync")
    try:
        yield Running(manager, reflector, storage)
    finally:
        try:
            for namespace in namespaces:
                for rt in (IMAGE_POLICY, IMAGE_REPOSITORY):
                    await drain(kube, rt, namespace)
        finally:
            manager.stop()
            await asyncio.wait_for(task, timeout=40)
            await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def reflector(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Running]:
    """The image reflector, tags stored below the test's temporary folder."""
    async with running_reflector(control_plane, kube, [namespace], tmp_path / "data") as running:
        yield running


# -- helpers ---------------------------------------------------------------------------------------
def repo_path(namespace: str, base: str = "team") -> str:
    """A repository path of its own per test, so module-scoped registries are not shared."""
    return f"{base}/{namespace[-12:].strip('-')}"


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


async def create_pull_secret(
    kube: KubeClient, namespace: str, name: str, host: str, password: str = PASSWORD
) -> None:
    auth = {"username": USER, "password": password, "auth": b64(f"{USER}:{password}")}
    await kube.create(resources.SECRET, {
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(json.dumps({"auths": {host: auth}}))},
    })  # fmt: skip


async def create_repository(
    kube: KubeClient, namespace: str, name: str, image: str, **spec: Any
) -> None:
    await kube.create(IMAGE_REPOSITORY, {
        "apiVersion": API,
        "kind": "ImageRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"image": image, "interval": "10m", "insecure": True, **spec},
    })  # fmt: skip


async def create_policy(
    kube: KubeClient,
    namespace: str,
    name: str,
    repository: str,
    policy: dict[str, Any],
    **spec: Any,
) -> None:
    await kube.create(IMAGE_POLICY, {
        "apiVersion": API,
        "kind": "ImagePolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"imageRepositoryRef": {"name": repository}, "policy": policy, **spec},
    })  # fmt: skip


async def request_reconcile(
    kube: KubeClient, rt: Any, namespace: str, name: str, token: str
) -> None:
    patch = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    await kube.patch_merge(rt, name, patch, namespace=namespace)


async def wait_ready(
    kube: KubeClient,
    rt: Any,
    namespace: str,
    name: str,
    *,
    status: str = "True",
    reason: str | None = None,
    check: Any = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """Wait until Ready has ``status`` (and ``reason``) for the current generation and the
    last ``requestedAt``, and ``check(obj)`` holds; return the object."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(rt, name, namespace=namespace)
        ready = condition(obj, "Ready") or {}
        requested = (obj["metadata"].get("annotations") or {}).get(
            "reconcile.fluxcd.io/requestedAt"
        )
        handled = (obj.get("status") or {}).get("lastHandledReconcileAt")
        if (
            ready.get("observedGeneration") == obj["metadata"]["generation"]
            and ready.get("status") == status
            and (reason is None or ready.get("reason") == reason)
            and requested == handled
            and (check is None or check(obj))
        ):
            return obj
        return None

    what = f"{rt.kind} {namespace}/{name} Ready={status} {reason or ''}"
    return await eventually(probe, timeout=timeout, what=what)


async def wait_event(
    kube: KubeClient, namespace: str, name: str, *, type: str, reason: str, message: str = ""
) -> list[dict[str, Any]]:
    """Wait for an event of ``type`` and ``reason`` about ``name`` whose message holds
    ``message`` (events are recorded just after the status write that a test waits on);
    return every event of that type about ``name``."""

    async def probe() -> list[dict[str, Any]] | None:
        found = [e for e in await events_for(kube, namespace, name) if e["type"] == type]
        hit = any(e["reason"] == reason and message in e["message"] for e in found)
        return found if hit else None

    return await eventually(probe, what=f"{type} event {reason} {message!r} for {name}")
