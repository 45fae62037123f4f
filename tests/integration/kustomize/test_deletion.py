"""Deleting Kustomizations: deletionPolicy, and a set removed in reverse dependency order."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.helpers import eventually
from tests.integration.kustomize.common import create_kustomization, given_source, wait_for
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request
from tide.testing import GitServer

pytestmark = pytest.mark.integration

HOLD = "tests.tide.dev/hold"
"""A finalizer no controller knows; the test that adds it removes it."""


def config_map(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


async def gone(kube: KubeClient, namespace: str, name: str) -> None:
    async def probe() -> bool:
        return await kube.get_or_none(KUSTOMIZATION, name, namespace=namespace) is None

    await eventually(probe, what=f"Kustomization {name} to be deleted")


async def test_deletion_policy_decides_what_happens_to_applied_objects(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"policy-{namespace[-8:]}"
    cases = {  # Kustomization: (prune, deletionPolicy, objects kept after deletion)
        "mirror-on": (True, None, False),
        "mirror-off": (False, None, True),
        "orphan": (True, "Orphan", True),
        "delete": (False, "Delete", False),
        "wait": (True, "WaitForTermination", False),
    }
    git_server.create_repo(repo, {f"{name}/cm.yaml": config_map(name) for name in cases})
    await given_source(kube, namespace, git_server, repo)
    for name, (prune, policy, _) in cases.items():
        spec = {"path": f"./{name}", "prune": prune}
        if policy:
            spec["deletionPolicy"] = policy
        await create_kustomization(kube, namespace, name, spec)
    for name in cases:
        await wait_for(kube, namespace, name, status="True")
    for name in cases:
        await kube.delete(KUSTOMIZATION, name, namespace=namespace)
    for name in cases:
        await gone(kube, namespace, name)
    for name, (_, _, kept) in cases.items():
        found = await kube.get_or_none(resources.CONFIG_MAP, name, namespace=namespace)
        assert (found is not None) == kept, name


async def test_a_set_deleted_together_goes_in_reverse_dependency_order(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"order-{namespace[-8:]}"
    git_server.create_repo(
        repo, {"infra/cm.yaml": config_map("infra"), "apps/cm.yaml": config_map("app")}
    )
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "infra", {"path": "./infra"})
    await create_kustomization(
        kube, namespace, "apps", {"path": "./apps", "dependsOn": [{"name": "infra"}]}
    )
    await wait_for(kube, namespace, "apps", status="True")

    # The dependency is deleted first, as `kubectl delete -f` of a folder might. The order
    # the ConfigMaps go in is read from a watch: both can go within milliseconds.
    _, version = await kube.list(resources.CONFIG_MAP, namespace=namespace)
    await kube.delete(KUSTOMIZATION, "infra", namespace=namespace)
    await kube.delete(KUSTOMIZATION, "apps", namespace=namespace)
    order: list[str] = []

    async def watch_deletions() -> None:
        async for kind, obj in kube.watch(
            resources.CONFIG_MAP, resource_version=version, namespace=namespace
        ):
            if kind == "DELETED" and obj["metadata"]["name"] in ("infra", "app"):
                order.append(obj["metadata"]["name"])
                if len(order) == 2:
                    return

    await asyncio.wait_for(watch_deletions(), timeout=60)
    assert order == ["app", "infra"]
    await gone(kube, namespace, "infra")


async def test_wait_for_termination_holds_the_kustomization_until_its_objects_are_gone(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"hold-{namespace[-8:]}"
    git_server.create_repo(repo, {"held/cm.yaml": config_map("held")})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "held", {
        "path": "./held", "deletionPolicy": "WaitForTermination", "timeout": "60s",
    })  # fmt: skip
    await wait_for(kube, namespace, "held", status="True")
    # A finalizer only this test releases keeps the ConfigMap Terminating for as long as it likes.
    hold = {"metadata": {"finalizers": [HOLD]}}
    await kube.patch_merge(resources.CONFIG_MAP, "held", hold, namespace=namespace)

    await kube.delete(KUSTOMIZATION, "held", namespace=namespace)

    async def terminating() -> bool:
        live = await kube.get(resources.CONFIG_MAP, "held", namespace=namespace)
        return "deletionTimestamp" in live["metadata"]

    await eventually(terminating, what="the controller to delete the ConfigMap")
    # The shortest honest wait: longer than the controller's 0.5 s poll of what it deleted, so a
    # controller that did not wait would have released its finalizer by now. No event marks
    # "still waiting"; the reconcile still running is the closest signal, and it is checked too.
    await asyncio.sleep(0.75)
    held = await kube.get_or_none(KUSTOMIZATION, "held", namespace=namespace)
    assert held is not None, "the Kustomization went while its ConfigMap was still Terminating"
    assert "finalizers.fluxcd.io" in held["metadata"]["finalizers"]
    [kustomizations] = [c for c in controllers.controllers if c.name == "kustomization"]
    assert kustomizations.queue.busy(Request(namespace, "held"))

    await kube.patch_merge(
        resources.CONFIG_MAP, "held", {"metadata": {"finalizers": None}}, namespace=namespace
    )
    await gone(kube, namespace, "held")
    assert await kube.get_or_none(resources.CONFIG_MAP, "held", namespace=namespace) is None
