"""``kubeConfig.configMapRef`` (Flux 2.7): a cluster reached with a minted ServiceAccount token.

The ``generic`` provider is Kubernetes' own OIDC: the controller mints a token for the
ConfigMap's ``serviceAccountName`` with the API server's address as audience, and connects with
it. The test cluster stands for the remote one — it trusts its own issuer for that audience — so
what the release may do is what that ServiceAccount may do there. Cloud providers stall. All of
it needs the ``ObjectLevelWorkloadIdentity`` feature gate; without it nothing is minted or sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT,
    create_release,
    given_repository,
    wait_for,
)
from tests.integration.helm.conftest import running_controllers
from tests.integration.helm.test_tenancy import (
    DEPLOYMENTS,
    HELM_STORAGE,
    WAIT,
    allowed_and_refused,
    given_account,
)
from tests.integration.helpers import condition, events_for, eventually
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

pytestmark = pytest.mark.integration


@pytest.fixture
def helm_options() -> dict[str, Any]:
    """Run the helm controller with ``--feature-gates=ObjectLevelWorkloadIdentity=true``."""
    return {"workload_identity": True}


async def given_identity(kube: KubeClient, namespace: str, name: str, data: dict[str, str]) -> None:
    await kube.create(resources.CONFIG_MAP, {
        "metadata": {"name": name, "namespace": namespace}, "data": data,
    })  # fmt: skip


async def test_generic_provider_installs_as_the_configmaps_service_account(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await given_account(kube, namespace, "deployer", [HELM_STORAGE, DEPLOYMENTS, WAIT])
    await given_account(kube, namespace, "storage-only", [HELM_STORAGE])
    remote = {
        "provider": "generic",
        "address": control_plane.server,
        "ca.crt": control_plane.ca_file.read_text(),
    }
    await given_identity(kube, namespace, "as-deployer",
                         {**remote, "serviceAccountName": "deployer"})  # fmt: skip
    await given_identity(kube, namespace, "as-storage-only",
                         {**remote, "serviceAccountName": "storage-only"})  # fmt: skip
    await create_release(kube, namespace, "allowed",
                         {"kubeConfig": {"configMapRef": {"name": "as-deployer"}}})  # fmt: skip
    await create_release(kube, namespace, "refused",
                         {"kubeConfig": {"configMapRef": {"name": "as-storage-only"}}})  # fmt: skip

    await allowed_and_refused(kube, namespace, refused_as="storage-only")


async def test_cloud_provider_and_missing_keys_stall_naming_the_field(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    await given_identity(kube, namespace, "eks", {
        "provider": "aws", "cluster": "arn:aws:eks:eu-central-1:123456789012:cluster/prod",
    })  # fmt: skip
    await given_identity(kube, namespace, "no-account",
                         {"provider": "generic", "address": "https://127.0.0.1:1"})  # fmt: skip
    await create_release(kube, namespace, "eks",
                         {"kubeConfig": {"configMapRef": {"name": "eks"}}})  # fmt: skip
    await create_release(kube, namespace, "no-account",
                         {"kubeConfig": {"configMapRef": {"name": "no-account"}}})  # fmt: skip

    obj = await wait_for(kube, namespace, "eks", status="False", reason="InitFailed")
    assert condition(obj, "Ready")["message"] == (
        f"ConfigMap '{namespace}/eks' (spec.kubeConfig.configMapRef): provider 'aws' is not "
        "supported: it needs the cloud's token exchange; Tide supports the 'generic' provider "
        "(a ServiceAccount token for a cluster trusting this cluster's issuer) and "
        "spec.kubeConfig.secretRef"
    )
    assert condition(obj, "Stalled")["status"] == "True"
    obj = await wait_for(kube, namespace, "no-account", status="False", reason="InitFailed")
    assert "data.serviceAccountName is required" in condition(obj, "Ready")["message"]


async def test_without_the_feature_gate_the_release_stalls_and_no_token_leaves(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    tmp_path: Path,
) -> None:
    connections: list[int] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)  # the controller would connect here to send a minted token
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    gate_off = running_controllers(control_plane, kube, [namespace], tmp_path / "storage")
    try:
        async with gate_off:  # as `tide controller` starts by default
            await _gate_off_stalls(kube, namespace, chart_repo, port)
        assert connections == []
    finally:
        server.close()
        await server.wait_closed()


async def _gate_off_stalls(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, port: int
) -> None:
    """A release sends its token to 127.0.0.1:``port``; it stalls, naming field and gate."""
    await given_repository(kube, namespace, chart_repo)
    await given_account(kube, namespace, "deployer", [HELM_STORAGE, DEPLOYMENTS, WAIT])
    await given_identity(kube, namespace, "elsewhere", {
        "provider": "generic", "address": f"https://127.0.0.1:{port}",
        "serviceAccountName": "deployer",
    })  # fmt: skip
    await create_release(kube, namespace, "gated",
                         {"kubeConfig": {"configMapRef": {"name": "elsewhere"}}})  # fmt: skip

    obj = await wait_for(kube, namespace, "gated", status="False", reason="FeatureGateDisabled")
    message = (
        "to use spec.kubeConfig.configMapRef enable the ObjectLevelWorkloadIdentity feature "
        "gate in the helm controller (--feature-gates=ObjectLevelWorkloadIdentity=true)"
    )
    assert condition(obj, "Ready")["message"] == message
    assert condition(obj, "Stalled")["status"] == "True"

    async def warned() -> bool:
        events = await events_for(kube, namespace, "gated")
        return any(e["type"] == "Warning" and e["message"] == message for e in events)

    await eventually(warned, what="a Warning event naming the feature gate")
    assert await kube.get_or_none(DEPLOYMENT, "gated", namespace=namespace) is None
