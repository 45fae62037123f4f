"""``tide uninstall``: finalizers off, controllers, CRDs, RBAC and namespace gone; what the
controllers applied stays. On a plane of its own, since the CRDs go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.integration.helpers import eventually
from tests.integration.install.conftest import tide
from tide.api.keys import FINALIZER
from tide.api.kinds import KINDS
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT, ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

APPS = "apps"
POD = ResourceType("", "v1", "Pod", "pods")
LINGER = "tests.tide.io/still-stopping"
"""Holds the stand-in pod until the test lets it go, as a grace period would."""
GRACE = 3.0
"""Seconds the stand-in pod keeps reconciling after its Deployment is deleted."""
CLUSTER_ROLE = ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False)
OWNER = {
    "kustomize.toolkit.fluxcd.io/name": "apps",
    "kustomize.toolkit.fluxcd.io/namespace": APPS,
}


@pytest_asyncio.fixture(loop_scope="session")
async def installed(own_plane: ControlPlane, own_kube: KubeClient) -> AsyncIterator[None]:
    """Tide installed, a Kustomization holding its finalizer and a ConfigMap it "applied"."""
    ran = await tide(own_plane.kubeconfig, "install", "--timeout", "3m")
    assert ran.code == 0, ran.stderr
    await own_kube.apply(resources.NAMESPACE, {"metadata": {"name": APPS}})
    await own_kube.apply(
        KUSTOMIZATION,
        {
            "metadata": {"name": "apps", "namespace": APPS, "finalizers": [FINALIZER]},
            "spec": {
                "interval": "10m",
                "path": "./",
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
            },
        },
    )
    await own_kube.apply(
        resources.CONFIG_MAP,
        {"metadata": {"name": "applied", "namespace": APPS, "labels": OWNER}, "data": {"a": "b"}},
    )
    yield
    await own_kube.delete(resources.CONFIG_MAP, "applied", namespace=APPS)


async def _crds_left(kube: KubeClient) -> list[str]:
    return [i.crd_name for i in KINDS if await kube.get_or_none(resources.CRD, i.crd_name)]


async def test_a_dry_run_lists_what_would_go_and_changes_nothing(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    ran = await tide(own_plane.kubeconfig, "uninstall", "--dry-run")
    assert ran.code == 0, ran.stderr
    assert "► Deployment/flux-system/source-controller deleted (dry run)" in ran.stderr
    assert "► Kustomization/apps/apps finalizer removed (dry run)" in ran.stderr
    assert "► Namespace/flux-system deleted (dry run)" in ran.stderr
    assert len(await _crds_left(own_kube)) == len(KINDS)
    kustomization = await own_kube.get(KUSTOMIZATION, "apps", namespace=APPS)
    assert kustomization["metadata"]["finalizers"] == [FINALIZER]
    assert await own_kube.get_or_none(DEPLOYMENT, "source-controller", namespace="flux-system")


async def test_answering_no_to_the_prompt_changes_nothing(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    ran = await tide(own_plane.kubeconfig, "uninstall", answer="n\n")
    assert ran.code == 1
    assert "uninstall cancelled" in ran.stderr
    assert len(await _crds_left(own_kube)) == len(KINDS)


async def test_uninstall_keeping_the_namespace_removes_the_rest(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    ran = await tide(own_plane.kubeconfig, "uninstall", "--silent", "--keep-namespace")
    assert ran.code == 0, ran.stderr
    assert await _crds_left(own_kube) == []
    assert (await own_kube.list(DEPLOYMENT, namespace="flux-system"))[0] == []
    namespace = await own_kube.get(resources.NAMESPACE, "flux-system")
    assert "deletionTimestamp" not in namespace["metadata"]
    assert await own_kube.get_or_none(resources.CONFIG_MAP, "applied", namespace=APPS)


async def test_a_controller_still_stopping_cannot_hold_the_crds_back(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    """A kustomize-controller pod in its grace period puts the finalizer back, then exits."""
    await own_kube.create(POD, {
        "metadata": {"name": "stopping", "namespace": "flux-system",
                     "labels": {"app": "kustomize-controller"}, "finalizers": [LINGER]},
        "spec": {"schedulerName": "nobody", "containers": [{"name": "c", "image": "tide"}]},
    })  # fmt: skip

    seen_stripped: list[str] = []

    async def stopping_pod() -> None:
        """Reconcile for GRACE seconds after the Deployment goes, then let the pod go."""

        async def deployment_gone() -> bool:
            found = await own_kube.get_or_none(
                DEPLOYMENT, "kustomize-controller", namespace="flux-system"
            )
            return found is None

        await eventually(deployment_gone, timeout=60, what="kustomize-controller deleted")
        end = asyncio.get_running_loop().time() + GRACE
        while asyncio.get_running_loop().time() < end:
            obj = await own_kube.get_or_none(KUSTOMIZATION, "apps", namespace=APPS)
            if obj is None or FINALIZER not in obj["metadata"].get("finalizers", ()):
                seen_stripped.append("gone" if obj is None else "finalizer off")
                if obj is not None and "deletionTimestamp" not in obj["metadata"]:
                    patch = {"metadata": {"finalizers": [FINALIZER]}}
                    await own_kube.patch_merge(KUSTOMIZATION, "apps", patch, namespace=APPS)
            await asyncio.sleep(0.2)  # the stand-in controller's reconcile loop, not a wait
        await own_kube.patch_merge(
            POD, "stopping", {"metadata": {"finalizers": None}}, namespace="flux-system"
        )
        await own_kube.delete(POD, "stopping", namespace="flux-system")

    ran, _ = await asyncio.gather(
        tide(own_plane.kubeconfig, "uninstall", "--silent", "--keep-namespace", "--timeout", "60s"),
        stopping_pod(),
    )
    assert ran.code == 0, ran.stderr
    assert seen_stripped == []  # nothing was taken off while the pod could still put it back
    assert await _crds_left(own_kube) == []
    assert await own_kube.get_or_none(POD, "stopping", namespace="flux-system") is None


async def test_uninstall_takes_finalizers_off_and_removes_crds_rbac_and_namespace(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    ran = await tide(own_plane.kubeconfig, "uninstall", "--silent")
    assert ran.code == 0, ran.stderr
    assert "► Kustomization/apps/apps finalizer removed" in ran.stderr
    assert await _crds_left(own_kube) == []  # no Kustomization held its CRD back
    roles, _ = await own_kube.list(CLUSTER_ROLE, labels={"app.kubernetes.io/part-of": "flux"})
    assert roles == []

    async def namespace_gone() -> bool:
        return await own_kube.get_or_none(resources.NAMESPACE, "flux-system") is None

    await eventually(namespace_gone, timeout=60, what="flux-system deleted")
    applied = await own_kube.get(resources.CONFIG_MAP, "applied", namespace=APPS)
    assert applied["data"] == {"a": "b"}
