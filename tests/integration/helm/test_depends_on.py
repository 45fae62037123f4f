"""``dependsOn`` holds a release back until its dependencies are Ready — a Kustomization too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helm.common import (
    create_release,
    given_repository,
    release_secrets,
    wait_for,
)
from tests.integration.helm.conftest import running_controllers
from tests.integration.helpers import condition, eventually
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ChartRepository, ControlPlane, GitServer

pytestmark = pytest.mark.integration


async def test_a_release_waits_for_the_helmrelease_it_depends_on(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await create_release(kube, namespace, "app", {"dependsOn": [{"name": "db"}]})
    obj = await wait_for(kube, namespace, "app", status="False", reason="DependencyNotReady")
    assert condition(obj, "Ready")["message"] == f"dependency '{namespace}/db' not found"
    assert await release_secrets(kube, namespace, "app") == []

    await create_release(kube, namespace, "db", {})
    await wait_for(kube, namespace, "db", status="True", reason="InstallSucceeded")
    # The dependency turning Ready wakes the dependent at once (not after --requeue-dependency).
    await wait_for(kube, namespace, "app", status="True", reason="InstallSucceeded", timeout=20)


async def test_a_release_may_depend_on_a_kustomization(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    tmp_path: Path,
) -> None:
    with GitServer() as git:
        repo = f"infra-{namespace[-8:]}"
        git.create_repo(repo, {"infra/config.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  a: b\n"
        )})  # fmt: skip
        async with running_controllers(
            control_plane, kube, [namespace], tmp_path / "storage", kustomize=True
        ):
            await given_repository(kube, namespace, chart_repo)
            dependency = [{"kind": "Kustomization", "name": "infra"}]
            await create_release(kube, namespace, "app", {"dependsOn": dependency})
            obj = await wait_for(
                kube, namespace, "app", status="False", reason="DependencyNotReady"
            )
            assert condition(obj, "Ready")["message"] == (
                f"Kustomization dependency '{namespace}/infra' not found"
            )
            await kube.create(GIT_REPOSITORY, {
                "metadata": {"name": "infra", "namespace": namespace},
                "spec": {"interval": "10m", "url": git.http_url(repo), "ref": {"branch": "main"}},
            })  # fmt: skip
            await kube.create(KUSTOMIZATION, {
                "metadata": {"name": "infra", "namespace": namespace},
                "spec": {
                    "interval": "10m",
                    "path": "./infra",
                    "prune": True,
                    "targetNamespace": namespace,
                    "sourceRef": {"kind": "GitRepository", "name": "infra"},
                },
            })  # fmt: skip
            await wait_for(kube, namespace, "app", status="True", reason="InstallSucceeded")


async def test_a_dependency_cycle_is_named_by_each_member(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    for name, other in (("a", "b"), ("b", "a")):
        await create_release(kube, namespace, name, {"dependsOn": [{"name": other}]})

    for name, other in (("a", "b"), ("b", "a")):
        path = (name, other, name)
        expected = "dependency cycle: " + " -> ".join(f"'{namespace}/{n}'" for n in path)

        async def named(name: str = name, expected: str = expected) -> bool:
            obj = await wait_for(kube, namespace, name, status="False", reason="DependencyNotReady")
            return condition(obj, "Ready")["message"] == expected

        await eventually(named, what=f"{name} to name the cycle")
    assert await release_secrets(kube, namespace, "a") == []
