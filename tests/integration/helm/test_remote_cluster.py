"""``kubeConfig``: a HelmRelease installs into a second cluster named by a kubeconfig Secret."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.integration.helm.common import DEPLOYMENT, create_release, given_repository, wait_for
from tests.integration.helpers import condition, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository, ControlPlane

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


def inline_kubeconfig(plane: ControlPlane) -> str:
    """The remote's admin kubeconfig with its files inlined (what a Secret may hold)."""
    client = KubeClient.from_kubeconfig(plane.kubeconfig)
    config = client.kubeconfig()
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    for section, path_key, data_key in (
        (cluster, "certificate-authority", "certificate-authority-data"),
        (user, "client-certificate", "client-certificate-data"),
        (user, "client-key", "client-key-data"),
    ):
        if path_key in section:
            with open(section.pop(path_key), "rb") as handle:
                section[data_key] = base64.b64encode(handle.read()).decode()
    import yaml

    return yaml.safe_dump(config)


async def test_a_release_with_kube_config_is_installed_in_the_other_cluster(
    kube: KubeClient,
    namespace: str,
    chart_repo: ChartRepository,
    controllers: Manager,
    remote_plane: ControlPlane,
    remote: KubeClient,
) -> None:
    await remote.create(resources.NAMESPACE, {"metadata": {"name": namespace}})
    await given_repository(kube, namespace, chart_repo)
    secret = base64.b64encode(inline_kubeconfig(remote_plane).encode()).decode()
    await kube.create(resources.SECRET, {
        "metadata": {"name": "remote", "namespace": namespace}, "data": {"value": secret},
    })  # fmt: skip
    await create_release(kube, namespace, "podinfo", {
        "kubeConfig": {"secretRef": {"name": "remote"}},
        "install": {"disableWait": True},  # the remote has no nodes to run Pods
    })  # fmt: skip
    obj = await wait_for(kube, namespace, "podinfo", status="True", reason="InstallSucceeded")
    assert condition(obj, "Released")["status"] == "True"
    assert await remote.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None
    records, _ = await remote.list(resources.SECRET, namespace=namespace, labels={"owner": "helm"})
    assert [r["metadata"]["name"] for r in records] == ["sh.helm.release.v1.podinfo.v1"]

    await kube.delete(HELM_RELEASE, "podinfo", namespace=namespace)

    async def uninstalled() -> bool:
        left, _ = await remote.list(resources.SECRET, namespace=namespace, labels={"owner": "helm"})
        return (
            not left
            and await kube.get_or_none(HELM_RELEASE, "podinfo", namespace=namespace) is None
        )

    await eventually(uninstalled, timeout=60, what="the remote release to be uninstalled")
    assert await remote.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None


async def test_a_kubeconfig_that_would_run_a_program_stalls_the_release(
    kube: KubeClient, namespace: str, chart_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, chart_repo)
    unsafe = (
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://x'}}]\n"
        "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
        "command: /bin/sh}}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "current-context: c\n"
    )
    await kube.create(resources.SECRET, {
        "metadata": {"name": "unsafe", "namespace": namespace},
        "data": {"value": base64.b64encode(unsafe.encode()).decode()},
    })  # fmt: skip
    await create_release(
        kube, namespace, "podinfo", {"kubeConfig": {"secretRef": {"name": "unsafe"}}}
    )
    obj = await wait_for(kube, namespace, "podinfo", status="False", reason="InitFailed")
    assert condition(obj, "Stalled")["reason"] == "InitFailed"
    assert "exec" in condition(obj, "Ready")["message"]
