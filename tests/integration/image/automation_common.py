"""What the ImageUpdateAutomation tests share: controllers, a fleet repository, policies."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import drain, eventually
from tide import source
from tide.image import automation
from tide.image.automation import IMAGE_POLICY, IMAGE_UPDATE_AUTOMATION
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.kustomize.setup import setup as setup_kustomize
from tide.runtime.manager import Manager, ManagerOptions
from tide.runtime.servers import Endpoint
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

IMAGE = "ghcr.io/org/my-app"
SEED_MESSAGE = "chore: update my-app to {{range .Changed.Changes}}{{.NewValue}}{{end}}"


def deployment(namespace: str, tag: str = "1.0.0", policy: str = "my-app") -> str:
    """A Deployment whose image is marked for ``policy``, with comments and flow style."""
    return (
        "# my-app, kept up to date by an ImageUpdateAutomation\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: my-app\n"
        "spec:\n"
        "  replicas: 1\n"
        "  selector: {matchLabels: {app: my-app}}\n"
        "  template:\n"
        "    metadata:\n"
        "      labels: {app: my-app}  # flow style\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: my-app\n"
        f'          image: "{IMAGE}:{tag}" # {{"$imagepolicy": "{namespace}:{policy}"}}\n'
    )


def files(namespace: str) -> dict[str, str]:
    return {
        "deploy/app.yaml": deployment(namespace),
        "deploy/kustomization.yaml": "resources:\n  - app.yaml\n",
    }


@contextlib.asynccontextmanager
async def running(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    storage: Path,
    **automation_options: Any,
) -> AsyncIterator[Manager]:
    """Run the source, kustomize and image-automation controllers in this process.

    ``automation_options`` go to the image-automation controller's setup.
    """
    client = KubeClient.from_kubeconfig(control_plane.kubeconfig, field_manager="tide")
    options = ManagerOptions(
        metrics=Endpoint("127.0.0.1", 0), health=Endpoint("127.0.0.1", 0), leader_election=False
    )
    manager = Manager(client, options)
    source.setup(
        manager,
        source.SourceOptions(storage_path=storage, storage_host="127.0.0.1", storage_port=0),
    )
    setup_kustomize(manager)
    automation.setup(manager, **automation_options)
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if task.done():
            task.result()
        return manager.ready

    await eventually(ready, what="controllers' caches to sync")
    yield manager
    try:
        for rt in (IMAGE_UPDATE_AUTOMATION, KUSTOMIZATION, GIT_REPOSITORY, IMAGE_POLICY):
            await drain(kube, rt, namespace, timeout=60)
    finally:
        manager.stop()
        await asyncio.wait_for(task, timeout=40)
        await client.close()


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    """A Git server over HTTP and SSH, pushes included; import it into a test module."""
    with GitServer(ssh=True) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def controllers(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The source, kustomize and image-automation controllers; import it into a test module."""
    async with running(control_plane, kube, namespace, tmp_path / "storage") as manager:
        yield manager


async def request_run(kube: KubeClient, namespace: str, token: str, name: str = "my-app") -> None:
    """Ask for a run with ``reconcile.fluxcd.io/requestedAt``."""
    annotations = {"reconcile.fluxcd.io/requestedAt": token}
    await kube.patch_merge(
        IMAGE_UPDATE_AUTOMATION,
        name,
        {"metadata": {"annotations": annotations}},
        namespace=namespace,
    )


async def given_automation(
    kube: KubeClient,
    namespace: str,
    git: GitServer,
    repo: str,
    *,
    tag: str = "1.0.1",
    **spec_git: Any,
) -> str:
    """Create ``repo`` (the fleet files), its GitRepository, policy ``my-app`` choosing ``tag``
    and an automation (``spec_git`` merged into its ``spec.git``); return the repo's first sha."""
    sha = git.create_repo(repo, files(namespace))
    await git_repository(kube, namespace, git.http_url(repo))
    await set_policy(kube, namespace, "my-app", tag)
    await create_automation(kube, namespace, **spec_git)
    return sha


async def git_repository(
    kube: KubeClient, namespace: str, url: str, *, secret: str | None = None
) -> None:
    spec: dict[str, Any] = {"interval": "10m", "url": url, "ref": {"branch": "main"}}
    if secret:
        spec["secretRef"] = {"name": secret}
    await kube.create(GIT_REPOSITORY, {"metadata": {"name": "fleet", "namespace": namespace},
                                       "spec": spec})  # fmt: skip


async def set_policy(kube: KubeClient, namespace: str, name: str, tag: str | None) -> None:
    """Create (or update) ImagePolicy ``name`` and write its ``latestRef`` as a reflector would."""
    existing = await kube.get_or_none(IMAGE_POLICY, name, namespace=namespace)
    if existing is None:
        existing = await kube.create(IMAGE_POLICY, {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"imageRepositoryRef": {"name": name}, "policy": {"semver": {"range": ">=1"}}},
        })  # fmt: skip
    if tag is None:
        return
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {
        "observedGeneration": existing["metadata"]["generation"],
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded",
            "message": f"Latest image tag for {IMAGE} resolved to {tag}",
            "lastTransitionTime": now,
            "observedGeneration": existing["metadata"]["generation"],
        }],
        "latestRef": {"name": IMAGE, "tag": tag},
    }  # fmt: skip
    await kube.apply_status(
        IMAGE_POLICY,
        {"metadata": {"name": name, "namespace": namespace}, "status": status},
        field_manager="image-reflector-controller",
    )


async def create_automation(
    kube: KubeClient, namespace: str, name: str = "my-app", **git: Any
) -> None:
    spec_git: dict[str, Any] = {
        "commit": {
            "author": {"name": "fluxcdbot", "email": "fluxcdbot@users.noreply.github.com"},
            "messageTemplate": SEED_MESSAGE,
        },
        "push": {"branch": "main"},
    }
    for key, value in git.items():
        spec_git[key] = {**spec_git.get(key, {}), **value} if isinstance(value, dict) else value
    await kube.create(IMAGE_UPDATE_AUTOMATION, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "git": spec_git,
            "update": {"path": "./deploy", "strategy": "Setters"},
        },
    })  # fmt: skip


def ready(obj: dict[str, Any]) -> dict[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition["type"] == "Ready":
            return condition
    return {}


async def wait_ready(
    kube: KubeClient,
    namespace: str,
    name: str = "my-app",
    *,
    status: str = "True",
    check: Any = None,
    timeout: float = 60,
) -> dict[str, Any]:
    """Wait until the automation's Ready has ``status`` for its generation (and ``check`` holds)."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(IMAGE_UPDATE_AUTOMATION, name, namespace=namespace)
        condition = ready(obj)
        current = condition.get("observedGeneration") == obj["metadata"]["generation"]
        if condition.get("status") == status and current and (check is None or check(obj)):
            return obj
        return None

    return await eventually(probe, timeout=timeout, what=f"automation {name} Ready={status}")
