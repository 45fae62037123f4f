"""``spec.force``: an object whose immutable fields changed is recreated; without it, refused."""

from __future__ import annotations

import pytest

from tests.integration.helpers import eventually
from tests.integration.kustomize.common import (
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration


def immutable(value: str) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\nimmutable: true\n"
        f"data:\n  value: {value}\n"
    )


@pytest.mark.parametrize("force", [True, False])
async def test_an_immutable_change_is_recreated_only_with_force(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager, force: bool
) -> None:
    repo = f"force-{force}-{namespace[-8:]}".lower()
    git_server.create_repo(repo, {"plain/cm.yaml": immutable("one")})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {"path": "./plain", "force": force})
    first = await wait_for(kube, namespace, "apps", status="True")
    before = await kube.get(resources.CONFIG_MAP, "frozen", namespace=namespace)

    git_server.commit(repo, {"plain/cm.yaml": immutable("two")})
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "changed")

    async def attempted() -> dict | None:
        obj = await kube.get(KUSTOMIZATION, "apps", namespace=namespace)
        revision = obj["status"].get("lastAttemptedRevision")
        moved = revision != first["status"]["lastAttemptedRevision"]
        return obj if moved and ready_condition(obj)["reason"] != "Progressing" else None

    await eventually(attempted, what="the new revision to be attempted")
    if force:
        obj = await wait_for(kube, namespace, "apps", status="True")
        after = await kube.get(resources.CONFIG_MAP, "frozen", namespace=namespace)
        assert after["data"] == {"value": "two"}
        assert after["metadata"]["uid"] != before["metadata"]["uid"]
        assert obj["status"]["lastAppliedRevision"] == obj["status"]["lastAttemptedRevision"]
    else:
        obj = await wait_for(kube, namespace, "apps", status="False", reason="ReconciliationFailed")
        message = ready_condition(obj)["message"]
        assert f"ConfigMap/{namespace}/frozen" in message and "immutable" in message, message
        after = await kube.get(resources.CONFIG_MAP, "frozen", namespace=namespace)
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
        assert after["data"] == {"value": "one"}
