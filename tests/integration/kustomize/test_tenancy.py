"""``serviceAccountName``: a tenant's Kustomization may apply only what its ServiceAccount may."""

from __future__ import annotations

import pytest

from tests.integration.kustomize.common import (
    DEPLOYMENT,
    FILES,
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.testing import GitServer

pytestmark = pytest.mark.integration

ROLE = ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles")
ROLE_BINDING = ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
EVERY_VERB = ["get", "list", "watch", "create", "update", "patch", "delete"]


async def given_tenant(kube: KubeClient, namespace: str, rules: list[dict]) -> None:
    """ServiceAccount ``tenant`` bound to a Role with ``rules`` in ``namespace``."""
    meta = {"name": "tenant", "namespace": namespace}
    await kube.create(resources.SERVICE_ACCOUNT, {"metadata": meta})
    await kube.create(ROLE, {"metadata": meta, "rules": rules})
    await kube.create(ROLE_BINDING, {
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
        "subjects": [{"kind": "ServiceAccount", "name": "tenant", "namespace": namespace}],
    })  # fmt: skip


async def test_an_impersonated_kustomization_is_refused_what_its_account_may_not_create(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"tenant-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    configmaps_only = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": EVERY_VERB}]
    await given_tenant(kube, namespace, configmaps_only)
    await create_kustomization(
        kube,
        namespace,
        "tenant-apps",
        {"path": "./apps/base/podinfo", "serviceAccountName": "tenant"},
    )

    obj = await wait_for(
        kube, namespace, "tenant-apps", status="False", reason="ReconciliationFailed"
    )
    message = ready_condition(obj)["message"]
    assert f"Deployment/{namespace}/podinfo" in message
    assert f"system:serviceaccount:{namespace}:tenant" in message
    assert "forbidden" in message
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
    # What the account may create was applied and is owned by the Kustomization.
    config = await kube.get(resources.CONFIG_MAP, "podinfo-config", namespace=namespace)
    assert config["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "tenant-apps"
    assert obj["status"]["inventory"]["entries"] == [
        {"id": f"{namespace}_podinfo-config__ConfigMap", "v": "v1"}
    ]

    # Granting Deployments is enough for the next attempt to apply everything.
    deployments = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": EVERY_VERB}
    await kube.patch_merge(
        ROLE, "tenant", {"rules": [*configmaps_only, deployments]}, namespace=namespace
    )
    await request_reconcile(kube, KUSTOMIZATION, namespace, "tenant-apps", "granted")
    await wait_for(kube, namespace, "tenant-apps", status="True")
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None


async def test_without_a_service_account_the_controller_applies_with_its_own_rights(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"admin-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await given_tenant(kube, namespace, [])
    await create_kustomization(kube, namespace, "apps", {"path": "./apps/base/podinfo"})
    await wait_for(kube, namespace, "apps", status="True")
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None
