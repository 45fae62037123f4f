"""``tide install --components-extra dashboard``: the dashboard's Deployment Available on the
simulated node, its ServiceAccount reading Flux objects and Events but patching nothing and
reading no Secret, and ``tide dashboard`` run with that ServiceAccount's token offering no
action and answering only its Service's names.

On the package's own plane (``own_plane``), uninstalled again after, as the migration and
uninstall modules expect to find no Tide there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.integration.dashboard.test_dashboard import tide_dashboard
from tests.integration.helpers import eventually
from tests.integration.install.conftest import tide
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT, ResourceType
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

NAMESPACE = "flux-system"
ACCOUNT = f"system:serviceaccount:{NAMESPACE}:tide-dashboard"
SAR = ResourceType(
    "authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False
)
TENANT = "dashboard-tenant"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def installed(own_plane: ControlPlane, own_kube: KubeClient) -> AsyncIterator[None]:
    """Tide installed with the dashboard; uninstalled (namespace gone) after the module."""
    ran = await tide(
        own_plane.kubeconfig, "install", "--components-extra", "dashboard", "--timeout", "3m"
    )
    assert ran.code == 0, ran.stderr
    yield
    ran = await tide(own_plane.kubeconfig, "uninstall", "--silent")
    assert ran.code == 0, ran.stderr
    await own_kube.delete(resources.NAMESPACE, TENANT)

    async def gone() -> bool:
        return await own_kube.get_or_none(resources.NAMESPACE, NAMESPACE) is None

    await eventually(gone, timeout=120, what=f"{NAMESPACE} deleted")


async def test_the_dashboard_deployment_becomes_available_behind_its_service(
    own_kube: KubeClient, installed: None
) -> None:
    deployment = await own_kube.get(DEPLOYMENT, "tide-dashboard", namespace=NAMESPACE)
    conditions = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
    assert conditions["Available"] == "True"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "tide-dashboard"
    assert pod["containers"][0]["args"][:2] == ["dashboard", "--address=0.0.0.0:9080"]
    service = await own_kube.get(
        ResourceType("", "v1", "Service", "services"), "tide-dashboard", namespace=NAMESPACE
    )
    assert service["spec"]["ports"][0]["port"] == 80


@pytest.mark.parametrize(
    ("group", "resource", "verb", "allowed"),
    [
        ("kustomize.toolkit.fluxcd.io", "kustomizations", "list", True),
        ("kustomize.toolkit.fluxcd.io", "kustomizations", "watch", True),
        ("source.toolkit.fluxcd.io", "gitrepositories", "list", True),
        ("helm.toolkit.fluxcd.io", "helmreleases", "list", True),
        ("", "events", "list", True),
        ("kustomize.toolkit.fluxcd.io", "kustomizations", "patch", False),
        ("source.toolkit.fluxcd.io", "gitrepositories", "patch", False),
        ("", "secrets", "get", False),
        ("", "secrets", "list", False),
    ],
)
async def test_the_dashboard_service_account_reads_flux_objects_and_changes_nothing(
    own_kube: KubeClient, installed: None, group: str, resource: str, verb: str, allowed: bool
) -> None:
    attributes = {"group": group, "resource": resource, "verb": verb, "namespace": TENANT}
    review = await own_kube.create(
        SAR,
        {
            "spec": {
                "user": ACCOUNT,
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{NAMESPACE}",
                    "system:authenticated",
                ],
                "resourceAttributes": attributes,
            }
        },
    )
    assert bool(review["status"].get("allowed")) is allowed


async def test_the_dashboard_as_its_service_account_shows_objects_without_actions(
    own_plane: ControlPlane, own_kube: KubeClient, installed: None
) -> None:
    await own_kube.apply(resources.NAMESPACE, {"metadata": {"name": TENANT}})
    await own_kube.create(
        GIT_REPOSITORY,
        {
            "metadata": {"name": "repo", "namespace": TENANT},
            "spec": {"url": "http://127.0.0.1:9/repo.git", "interval": "1m"},
        },
    )
    as_account = own_plane.kubeconfig_for_service_account(NAMESPACE, "tide-dashboard")
    service_name = f"tide-dashboard.{NAMESPACE}.svc"
    async with (
        tide_dashboard(as_account, "--allowed-host", service_name) as url,
        httpx.AsyncClient() as http,
    ):

        async def listed() -> dict | None:
            overview = (await http.get(f"{url}api/overview")).json()
            return overview if overview["rows"] else None

        overview = await eventually(listed, timeout=60, what="the GitRepository listed")
        assert overview["user"] == ACCOUNT
        assert [(r["kind"], r["name"], r["actions"]) for r in overview["rows"]] == [
            ("GitRepository", "repo", [])
        ]
        by_service = await http.get(f"{url}api/overview", headers={"Host": service_name})
        assert by_service.status_code == 200
        rebound = await http.get(f"{url}api/overview", headers={"Host": "evil.example"})
        assert rebound.status_code == 421
        probed = await http.get(f"{url}healthz", headers={"Host": "10.0.0.7:9080"})
        assert probed.status_code == 200
        refused = await http.post(
            f"{url}api/action",
            json={"action": "reconcile", "kind": "GitRepository", "namespace": TENANT,
                  "name": "repo"},
            headers={"X-Tide-Dashboard": "1"},
        )  # fmt: skip
        assert refused.status_code == 409
