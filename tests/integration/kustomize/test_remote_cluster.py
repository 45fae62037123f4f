"""``kubeConfig``: a Kustomization applies to a second cluster named by a kubeconfig Secret."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import yaml

from tests.integration.helpers import eventually
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
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def remote_plane() -> Iterator[ControlPlane]:
    """A second control plane (etcd + kube-apiserver) standing for a remote cluster."""
    with ControlPlane() as plane:
        yield plane


@pytest_asyncio.fixture(loop_scope="session")
async def remote(remote_plane: ControlPlane) -> AsyncIterator[KubeClient]:
    client = KubeClient.from_kubeconfig(remote_plane.kubeconfig, field_manager="tide-tests")
    yield client
    await client.close()


async def put_kubeconfig(kube: KubeClient, namespace: str, kubeconfig: str) -> None:
    data = {"value": base64.b64encode(kubeconfig.encode()).decode()}
    existing = await kube.get_or_none(resources.SECRET, "remote", namespace=namespace)
    if existing is None:
        meta = {"name": "remote", "namespace": namespace}
        await kube.create(resources.SECRET, {"metadata": meta, "data": data})
    else:
        await kube.patch_merge(resources.SECRET, "remote", {"data": data}, namespace=namespace)


async def test_a_kustomization_applies_to_the_cluster_in_its_kubeconfig_secret(
    kube: KubeClient,
    remote: KubeClient,
    remote_plane: ControlPlane,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
) -> None:
    repo = f"remote-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    kubeconfig = remote_plane.kubeconfig.read_text()
    await put_kubeconfig(kube, namespace, kubeconfig)
    await create_kustomization(kube, namespace, "remote-apps", {
        "path": "./apps/base/podinfo",
        "targetNamespace": "default",
        "kubeConfig": {"secretRef": {"name": "remote"}},
    })  # fmt: skip

    applied = await wait_for(kube, namespace, "remote-apps", status="True")
    assert await remote.get_or_none(DEPLOYMENT, "podinfo", namespace="default") is not None
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace="default") is None

    # The remote cluster becomes unreachable: one clear reason, nothing forgotten.
    dead = yaml.safe_load(kubeconfig)
    dead["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    await put_kubeconfig(kube, namespace, yaml.safe_dump(dead))
    await request_reconcile(kube, KUSTOMIZATION, namespace, "remote-apps", "unreachable")
    obj = await wait_for(
        kube, namespace, "remote-apps", status="False", reason="ReconciliationFailed"
    )
    message = ready_condition(obj)["message"]
    assert message.startswith(
        f"cannot reach the cluster in Secret '{namespace}/remote' (spec.kubeConfig.secretRef)"
    ), message
    assert obj["status"]["inventory"] == applied["status"]["inventory"]

    # Reachable again; deleting the Kustomization prunes in the remote cluster.
    await put_kubeconfig(kube, namespace, kubeconfig)
    await request_reconcile(kube, KUSTOMIZATION, namespace, "remote-apps", "reachable")
    await wait_for(kube, namespace, "remote-apps", status="True")
    await kube.delete(KUSTOMIZATION, "remote-apps", namespace=namespace)

    async def pruned() -> bool:
        return await remote.get_or_none(DEPLOYMENT, "podinfo", namespace="default") is None

    await eventually(pruned, what="the remote Deployment to be pruned")


async def test_a_secret_without_a_kubeconfig_is_reported_by_name(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"nokube-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    meta = {"name": "remote", "namespace": namespace}
    await kube.create(resources.SECRET, {"metadata": meta, "stringData": {"other": "x"}})
    await create_kustomization(kube, namespace, "remote-apps", {
        "path": "./apps/base/podinfo", "kubeConfig": {"secretRef": {"name": "remote"}},
    })  # fmt: skip
    obj = await wait_for(
        kube, namespace, "remote-apps", status="False", reason="ReconciliationFailed"
    )
    assert ready_condition(obj)["message"] == (
        f"Secret '{namespace}/remote' (spec.kubeConfig.secretRef) has no key 'value' or "
        "'value.yaml' holding a kubeconfig"
    )
