"""An idle Kustomization costs no request per object, and drift is still put back in time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import eventually, reconcile_count
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import GitServer

pytestmark = pytest.mark.integration

OBJECTS = 12
INTERVAL = 3.0
"""Seconds between reconciles (``spec.interval``); drift must be gone by the next one (the
waits allow two, and a little, for a loaded machine)."""
CONFIG = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{index:02d}\n"
    "data:\n  value: ${{value:=one}}\n"
)
FILES = {
    **{f"app/config-{i:02d}.yaml": CONFIG.format(index=i) for i in range(OBJECTS)},
    "app/kustomization.yaml": "resources:\n"
    + "".join(f"  - config-{i:02d}.yaml\n" for i in range(OBJECTS)),
}


async def idle_kustomization(
    kube: KubeClient, namespace: str, git: GitServer, manager: Manager, **spec: Any
) -> None:
    """Apply OBJECTS ConfigMaps every INTERVAL and wait until an interval found them applied.

    The watch of a kind's versions starts with its first apply, so the reconciles right after
    it may still take the normal path; two more interval reconciles make sure one did not.
    """
    repo = f"idle-{namespace[-8:]}"
    git.create_repo(repo, FILES)
    await given_source(kube, namespace, git, repo)
    spec = {
        "path": "./app",
        "interval": f"{INTERVAL:g}s",
        "postBuild": {"substitute": {"value": "one"}},
        **spec,
    }
    await create_kustomization(kube, namespace, "apps", spec)
    await wait_for(kube, namespace, "apps", status="True")
    await interval_reconciles(namespace, 2)


async def interval_reconciles(namespace: str, count: int) -> None:
    """Wait until ``count`` more reconciles of Kustomization ``apps`` have finished."""
    start = reconcile_count("Kustomization", namespace, "apps")

    async def done() -> bool:
        return reconcile_count("Kustomization", namespace, "apps") >= start + count

    await eventually(done, timeout=INTERVAL * (count + 3), what=f"{count} interval reconciles")


def object_requests(manager: Manager, namespace: str) -> int:
    """Requests the controller sent about ConfigMaps in ``namespace`` (reads, dry runs, writes)."""
    return sum(
        n
        for (_, plural, where), n in manager.client.requests.items()
        if plural == "configmaps" and where == namespace
    )


async def value_of(kube: KubeClient, namespace: str, name: str) -> str | None:
    found = await kube.get_or_none(resources.CONFIG_MAP, name, namespace=namespace)
    return (found or {}).get("data", {}).get("value") if found else None


async def test_an_idle_reconcile_sends_no_request_per_object_and_writes_nothing(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    await idle_kustomization(kube, namespace, git_server, controllers, wait=True)
    requests = object_requests(controllers, namespace)
    writes = controllers.client.total_writes(namespace=namespace)

    await interval_reconciles(namespace, 2)

    assert object_requests(controllers, namespace) == requests, controllers.client.requests
    assert controllers.client.total_writes(namespace=namespace) == writes, controllers.client.writes
    obj = await wait_for(kube, namespace, "apps", status="True")
    assert len(obj["status"]["inventory"]["entries"]) == OBJECTS


async def test_a_manual_edit_is_reverted_within_one_interval(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    await idle_kustomization(kube, namespace, git_server, controllers)

    await kube.patch_merge(
        resources.CONFIG_MAP, "config-03", {"data": {"value": "edited"}}, namespace=namespace
    )

    async def reverted() -> bool:
        return await value_of(kube, namespace, "config-03") == "one"

    await eventually(reverted, timeout=INTERVAL * 2 + 4, what="the edit to be reverted")


async def test_a_deleted_object_is_recreated(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    await idle_kustomization(kube, namespace, git_server, controllers)

    await kube.delete(resources.CONFIG_MAP, "config-05", namespace=namespace)

    async def recreated() -> bool:
        return await value_of(kube, namespace, "config-05") == "one"

    await eventually(recreated, timeout=INTERVAL * 2 + 4, what="the deleted object to be back")


async def test_a_changed_substitution_input_is_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {"name": "vars", "namespace": namespace}, "data": {"value": "two"},
    })  # fmt: skip
    substitute_from = {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}
    await idle_kustomization(kube, namespace, git_server, controllers, postBuild=substitute_from)
    assert await value_of(kube, namespace, "config-00") == "two"

    await kube.patch_merge(
        resources.CONFIG_MAP, "vars", {"data": {"value": "three"}}, namespace=namespace
    )

    async def applied() -> bool:
        values = {await value_of(kube, namespace, f"config-{i:02d}") for i in range(OBJECTS)}
        return values == {"three"}

    await eventually(applied, timeout=INTERVAL * 2 + 4, what="the new variable to be applied")
