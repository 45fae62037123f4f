"""A HelmRelease acts as its ServiceAccount, and a locked-down controller keeps it at home."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    chart_spec,
    create_release,
    given_repository,
    release_secrets,
    wait_for,
    wait_for_released,
)
from tests.integration.helm.conftest import running_controllers
from tests.integration.helpers import condition
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration

ROLE = ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles")
ROLE_BINDING = ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
EVERY_VERB = ["get", "list", "watch", "create", "update", "patch", "delete"]
HELM_STORAGE = {"apiGroups": [""], "resources": ["secrets"], "verbs": EVERY_VERB}
DEPLOYMENTS = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": EVERY_VERB}
WAIT = {"apiGroups": ["", "apps"], "resources": ["pods", "replicasets"], "verbs": ["list", "watch"]}
"""What Helm's kstatus wait reads to judge a Deployment."""


async def given_account(kube: KubeClient, namespace: str, name: str, rules: list[dict]) -> None:
    """ServiceAccount ``name`` bound to a Role with ``rules`` in ``namespace``."""
    meta = {"name": name, "namespace": namespace}
    await kube.create(resources.SERVICE_ACCOUNT, {"metadata": meta})
    await kube.create(ROLE, {"metadata": meta, "rules": rules})
    await kube.create(ROLE_BINDING, {
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
    })  # fmt: skip


async def allowed_and_refused(kube: KubeClient, namespace: str, *, refused_as: str) -> None:
    """Release ``allowed`` installs its Deployment; ``refused``, acting as ServiceAccount
    ``refused_as``, fails with the API server's refusal naming that identity."""
    await wait_for(kube, namespace, "allowed", status="True", reason="InstallSucceeded")
    assert await kube.get_or_none(DEPLOYMENT, "allowed", namespace=namespace) is not None

    obj = await wait_for_released(kube, namespace, "refused", reason="InstallFailed")
    message = condition(obj, "Released")["message"]
    assert "forbidden" in message
    assert f"system:serviceaccount:{namespace}:{refused_as}" in message
    assert await kube.get_or_none(DEPLOYMENT, "refused", namespace=namespace) is None


async def test_a_release_installs_as_its_service_account_and_is_refused_what_it_may_not_do(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await given_account(kube, namespace, "deployer", [HELM_STORAGE, DEPLOYMENTS, WAIT])
    await given_account(kube, namespace, "storage-only", [HELM_STORAGE])
    await create_release(kube, namespace, "allowed", {"serviceAccountName": "deployer"})
    await create_release(kube, namespace, "refused", {"serviceAccountName": "storage-only"})

    await allowed_and_refused(kube, namespace, refused_as="storage-only")


async def test_locked_down_controller_stalls_a_chart_source_in_another_namespace(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    tmp_path: Path,
) -> None:
    async with running_controllers(
        control_plane,
        kube,
        [namespace],
        tmp_path / "storage",
        no_cross_namespace_refs=True,
        default_service_account="deployer",
    ):
        await given_repository(kube, namespace, chart_repo)
        await given_account(kube, namespace, "deployer", [HELM_STORAGE, DEPLOYMENTS, WAIT])
        elsewhere = chart_spec()
        elsewhere["spec"]["sourceRef"]["namespace"] = "flux-system"
        await create_release(kube, namespace, "escape", {"chart": elsewhere})
        obj = await wait_for(kube, namespace, "escape", status="False", reason="AccessDenied")
        assert condition(obj, "Stalled")["reason"] == "AccessDenied"
        assert condition(obj, "Ready")["message"] == (
            "can't access 'HelmRepository/flux-system/charts', "
            "cross-namespace references have been blocked"
        )

        # At home it works, as --default-service-account (no serviceAccountName given).
        await create_release(kube, namespace, "home", {})
        await wait_for(kube, namespace, "home", status="True", reason="InstallSucceeded")
        [record] = await release_secrets(kube, namespace, "home")
        assert record["metadata"]["labels"]["status"] == "deployed"
