"""The whole loop with the real reflector: a new tag in a registry ends up committed in Git."""

# The shared fixtures are imported, and a test naming one as a parameter "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.image.automation_common import (  # noqa: F401 (fixtures)
    SEED_MESSAGE,
    controllers,
    create_automation,
    git_repository,
    git_server,
    wait_ready,
)
from tests.integration.image.conftest import (
    create_policy,
    create_repository,
    repo_path,
    request_reconcile,
    running_reflector,
)
from tide.image.setup import IMAGE_REPOSITORY
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer, Registry

pytestmark = pytest.mark.integration


def manifest(image: str, namespace: str) -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: my-app\nspec:\n  containers:\n"
        f'    - name: app\n      image: {image} # {{"$imagepolicy": "{namespace}:my-app"}}\n'
    )


async def test_a_new_tag_scanned_by_the_reflector_is_committed(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    registry: Registry,
    tmp_path: Path,
) -> None:
    path = repo_path(namespace)
    image = f"{registry.host}/{path}"
    digest = registry.push_artifact(path, "1.0.0", {"app.txt": "v1"})
    repo = f"reflected-{namespace}"
    git_server.create_repo(repo, {"deploy/pod.yaml": manifest(f"{image}:1.0.0", namespace)})
    async with running_reflector(control_plane, kube, [namespace], tmp_path / "tags"):
        await git_repository(kube, namespace, git_server.http_url(repo))
        await create_repository(kube, namespace, "my-app", image)
        await create_policy(kube, namespace, "my-app", "my-app", {"semver": {"range": ">=1.0.0"}})
        await create_automation(kube, namespace)
        first = await wait_ready(kube, namespace)
        assert "lastPushCommit" not in first["status"]  # 1.0.0 is what the file says

        registry.tag_many(path, digest, ["1.0.1"])
        await request_reconcile(kube, IMAGE_REPOSITORY, namespace, "my-app", "rescan")
        obj = await wait_ready(kube, namespace, check=lambda o: o["status"].get("lastPushCommit"))
        assert git_server.read(repo, "deploy/pod.yaml") == manifest(f"{image}:1.0.1", namespace)
        message = git_server.commit_info(repo)["message"]
        assert message == SEED_MESSAGE.split("{{")[0] + f"{image}:1.0.1"
        assert obj["status"]["observedPolicies"]["my-app"]["tag"] == "1.0.1"
