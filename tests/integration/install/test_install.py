"""``tide install`` on the real API server: every object applied, Deployments Available on the
simulated nodes, a re-run changing nothing, and the RBAC letting each controller do its job.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import eventually
from tests.integration.install.conftest import tide
from tide.api.kinds import KINDS
from tide.install import InstallOptions, render
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import DEPLOYMENT, ResourceType, resource_type
from tide.testing import ControlPlane

pytestmark = pytest.mark.integration

NAMESPACE = "tide-install"
ALL = ("image-reflector-controller", "image-automation-controller")
CLUSTER_ROLE = ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False)
BINDING = ResourceType(
    "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False
)
ROLE_BINDING = ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
SAR = ResourceType(
    "authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False
)
SERVICE = ResourceType("", "v1", "Service", "services")
POLICY = ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies")

SOURCES = "source.toolkit.fluxcd.io"
FLUX_READ = ("get", "list", "watch")
OWN_WRITES = ("patch", "update")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def installed(
    control_plane: ControlPlane, kube: KubeClient, crds: list[str]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every component installed into its own namespace by ``tide install``; removed after."""
    ran = await tide(
        control_plane.kubeconfig, "install", "-n", NAMESPACE,
        "--components-extra", ",".join(ALL), "--timeout", "3m",
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    yield render(InstallOptions(namespace=NAMESPACE, components_extra=ALL))
    for rt in (BINDING, CLUSTER_ROLE):
        found, _ = await kube.list(rt, labels={"app.kubernetes.io/instance": NAMESPACE})
        for obj in found:
            await kube.delete(rt, obj["metadata"]["name"])
    await kube.delete(resources.NAMESPACE, NAMESPACE)


async def test_install_applies_every_object_and_each_deployment_becomes_available(
    kube: KubeClient, installed: list[dict[str, Any]]
) -> None:
    deployments, _ = await kube.list(DEPLOYMENT, namespace=NAMESPACE)
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(
        [
            "source-controller",
            "kustomize-controller",
            "helm-controller",
            "notification-controller",
            *ALL,
        ]
    )
    for deployment in deployments:
        conditions = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
        assert conditions["Available"] == "True", deployment["metadata"]["name"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == f"ghcr.io/tide-gitops/tide:{InstallOptions().version}"
    services = {
        s["metadata"]["name"]: s for s in (await kube.list(SERVICE, namespace=NAMESPACE))[0]
    }
    assert sorted(services) == ["notification-controller", "source-controller", "webhook-receiver"]
    assert services["source-controller"]["spec"]["ports"][0]["port"] == 80
    assert services["webhook-receiver"]["spec"]["ports"][0]["targetPort"] == "http-webhook"
    policies, _ = await kube.list(POLICY, namespace=NAMESPACE)
    assert sorted(p["metadata"]["name"] for p in policies) == [
        "allow-egress",
        "allow-scraping",
        "allow-webhooks",
    ]


async def test_running_install_again_changes_nothing_and_a_new_registry_only_the_deployments(
    control_plane: ControlPlane, kube: KubeClient, installed: list[dict[str, Any]]
) -> None:
    before = await _versions(kube)
    again = await tide(
        control_plane.kubeconfig, "install", "-n", NAMESPACE, "--components-extra", ",".join(ALL)
    )
    assert again.code == 0, again.stderr
    assert "0 created or changed" in again.stderr
    assert await _versions(kube) == before

    moved = await tide(
        control_plane.kubeconfig, "install", "-n", NAMESPACE,
        "--components-extra", ",".join(ALL), "--registry", "registry.example.com/mirror",
    )  # fmt: skip
    assert moved.code == 0, moved.stderr
    changed = [line for line in moved.stderr.splitlines() if line.startswith("►")]
    assert len(changed) == 6 and all(line.startswith("► Deployment/") for line in changed)
    source = await kube.get(DEPLOYMENT, "source-controller", namespace=NAMESPACE)
    image = source["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("registry.example.com/mirror/tide:")

    restored = await tide(
        control_plane.kubeconfig, "install", "-n", NAMESPACE, "--components-extra", ",".join(ALL)
    )
    assert restored.code == 0, restored.stderr


async def _versions(kube: KubeClient) -> dict[str, str]:
    found = {}
    for rt in (DEPLOYMENT, SERVICE, POLICY, resources.SERVICE_ACCOUNT):
        for obj in (await kube.list(rt, namespace=NAMESPACE))[0]:
            found[f"{rt.kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    for rt in (BINDING, CLUSTER_ROLE):
        for obj in (await kube.list(rt, labels={"app.kubernetes.io/instance": NAMESPACE}))[0]:
            found[f"{rt.kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return found


# What each controller's code does, as (group, resource, subresource, verb, namespaced).
COMMON = [
    ("coordination.k8s.io", "leases", "", verb, True) for verb in ("get", "create", "update")
] + [
    ("", "events", "", "create", True),
    ("", "events", "", "patch", True),
    ("", "namespaces", "", "get", False),
]
SOURCE_KINDS = ("gitrepositories", "ocirepositories", "helmrepositories", "helmcharts", "buckets")


def _own(group: str, plurals: tuple[str, ...]) -> list[tuple[str, str, str, str, bool]]:
    rules = []
    for plural in plurals:
        rules += [(group, plural, "", verb, False) for verb in FLUX_READ]
        rules += [(group, plural, "", verb, True) for verb in OWN_WRITES]
        rules += [(group, plural, "status", verb, True) for verb in OWN_WRITES]
    return rules


def _read(group: str, *plurals: str) -> list[tuple[str, str, str, str, bool]]:
    return [(group, plural, "", verb, True) for plural in plurals for verb in FLUX_READ]


NEEDS = {
    "source-controller": [
        *_own(SOURCES, SOURCE_KINDS),
        *_own("source.extensions.fluxcd.io", ("artifactgenerators",)),
        *[(SOURCES, "externalartifacts", "", verb, True) for verb in ("create", "delete")],
        *_read("", "secrets", "configmaps", "serviceaccounts"),
    ],
    "kustomize-controller": [
        *_own("kustomize.toolkit.fluxcd.io", ("kustomizations",)),
        *_read(SOURCES, *SOURCE_KINDS, "externalartifacts"),
        ("apps", "deployments", "", "create", True),
        ("apps", "deployments", "", "delete", True),
        ("", "namespaces", "", "create", False),
        ("", "serviceaccounts", "", "impersonate", True),
        *_read("", "secrets", "configmaps"),
    ],
    "helm-controller": [
        *_own("helm.toolkit.fluxcd.io", ("helmreleases",)),
        *[(SOURCES, "helmcharts", "", verb, True) for verb in ("create", "patch", "delete")],
        *[("", "secrets", "", verb, True) for verb in ("create", "delete", "list")],
        ("", "serviceaccounts", "", "impersonate", True),
    ],
    "notification-controller": [
        *_own("notification.toolkit.fluxcd.io", ("alerts", "providers", "receivers")),
        *[(SOURCES, plural, "", "patch", True) for plural in SOURCE_KINDS],
        ("kustomize.toolkit.fluxcd.io", "kustomizations", "", "patch", True),
        ("helm.toolkit.fluxcd.io", "helmreleases", "", "patch", True),
        ("image.toolkit.fluxcd.io", "imagerepositories", "", "patch", True),
        *_read("", "secrets"),
    ],
    "image-reflector-controller": [
        *_own("image.toolkit.fluxcd.io", ("imagerepositories", "imagepolicies")),
        *_read("", "secrets", "serviceaccounts", "configmaps"),
    ],
    "image-automation-controller": [
        *_own("image.toolkit.fluxcd.io", ("imageupdateautomations",)),
        *_read(SOURCES, "gitrepositories"),
        *_read("image.toolkit.fluxcd.io", "imagepolicies"),
        *_read("", "secrets"),
    ],
}
MINT_TOKEN = ("", "serviceaccounts", "token", "create", True)
"""Minting any ServiceAccount's token would make a controller anyone, cluster-admins included."""
REFUSED = {
    "notification-controller": [
        ("apps", "deployments", "", "delete", True),
        ("", "serviceaccounts", "", "impersonate", True),
        ("", "secrets", "", "create", True),
        MINT_TOKEN,
    ],
    "source-controller": [
        ("", "secrets", "", "create", True),
        ("apps", "deployments", "", "create", True),
        MINT_TOKEN,
    ],
    "image-reflector-controller": [MINT_TOKEN],
    "image-automation-controller": [("", "configmaps", "", "delete", True), MINT_TOKEN],
}


async def _allowed(kube: KubeClient, account: str, rule: tuple[str, str, str, str, bool]) -> bool:
    group, resource, subresource, verb, namespaced = rule
    attributes = {"group": group, "resource": resource, "verb": verb}
    if subresource:
        attributes["subresource"] = subresource
    if namespaced:
        attributes["namespace"] = "some-tenant"
    review = await kube.create(
        SAR,
        {
            "spec": {
                "user": f"system:serviceaccount:{NAMESPACE}:{account}",
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{NAMESPACE}",
                    "system:authenticated",
                ],
                "resourceAttributes": attributes,
            }
        },
    )
    return bool(review["status"].get("allowed"))


@pytest.mark.parametrize("account", sorted(NEEDS))
async def test_each_service_account_may_do_what_its_controller_does(
    kube: KubeClient, installed: list[dict[str, Any]], account: str
) -> None:
    rules = [*COMMON, *NEEDS[account]]
    denied = [rule for rule in rules if not await _allowed(kube, account, rule)]
    assert denied == []


@pytest.mark.parametrize("account", sorted(REFUSED))
async def test_controllers_that_apply_nothing_are_not_cluster_admins(
    kube: KubeClient, installed: list[dict[str, Any]], account: str
) -> None:
    allowed = [rule for rule in REFUSED[account] if await _allowed(kube, account, rule)]
    assert allowed == []


async def test_users_with_the_view_role_see_flux_objects_and_editors_change_them(
    kube: KubeClient, installed: list[dict[str, Any]]
) -> None:
    async def aggregated() -> bool:
        view = await kube.get(CLUSTER_ROLE, "view")
        return any(SOURCES in rule.get("apiGroups", ()) for rule in view.get("rules") or ())

    await eventually(aggregated, what="flux-view aggregated into view")
    for user, role in (("viewer", "view"), ("editor", "edit")):
        await kube.apply(
            ROLE_BINDING,
            {
                "metadata": {"name": user, "namespace": NAMESPACE},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": role},
                "subjects": [{"kind": "User", "name": user,
                              "apiGroup": "rbac.authorization.k8s.io"}],
            },
        )  # fmt: skip

    async def may(user: str, verb: str) -> bool:
        attributes = {"group": SOURCES, "resource": "gitrepositories", "verb": verb}
        review = await kube.create(
            SAR,
            {"spec": {"user": user, "resourceAttributes": {**attributes, "namespace": NAMESPACE}}},
        )
        return bool(review["status"].get("allowed"))

    async def edit_aggregated() -> bool:
        return await may("editor", "patch")

    await eventually(edit_aggregated, what="flux-edit aggregated into edit")
    assert await may("viewer", "list")
    assert not await may("viewer", "patch")


async def test_an_unknown_component_is_one_line_and_a_failure(
    control_plane: ControlPlane, kube: KubeClient
) -> None:
    ran = await tide(
        control_plane.kubeconfig, "install", "-n", "tide-install-bad", "--components", "flux"
    )
    assert ran.code == 1
    assert ran.stderr.strip().splitlines() == [
        "✗ --components: unknown component flux; expected any of source-controller, "
        "kustomize-controller, helm-controller, notification-controller"
    ]
    assert await kube.get_or_none(resources.NAMESPACE, "tide-install-bad") is None


TENANT = "tide-install-tenant"
REPO = {"kind": "GitRepository", "name": "missing"}
WORK = {
    "source-controller": (
        "GitRepository",
        {"url": "http://127.0.0.1:9/repo.git", "interval": "1m", "ref": {"branch": "main"}},
    ),
    "kustomize-controller": (
        "Kustomization",
        {"interval": "1m", "path": "./", "prune": True, "sourceRef": REPO},
    ),
    "helm-controller": (
        "HelmRelease",
        {
            "interval": "1m",
            "chart": {
                "spec": {"chart": "app", "sourceRef": {"kind": "HelmRepository", "name": "x"}}
            },
        },
    ),
    "notification-controller": (
        "Receiver",
        {"type": "generic", "secretRef": {"name": "token"}, "resources": [REPO]},
    ),
    "image-reflector-controller": (
        "ImageRepository",
        {"image": "127.0.0.1:9/app", "interval": "1m"},
    ),
    "image-automation-controller": (
        "ImageUpdateAutomation",
        {
            "interval": "1m",
            "sourceRef": REPO,
            "git": {"commit": {"author": {"email": "bot@example.com", "name": "bot"}}},
            "update": {"strategy": "Setters", "path": "./"},
        },
    ),
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tenant(kube: KubeClient, installed: list[dict[str, Any]]) -> AsyncIterator[str]:
    """A namespace with the Secret a Receiver names; deleted after the module."""
    await kube.apply(resources.NAMESPACE, {"metadata": {"name": TENANT}})
    await kube.apply(
        resources.SECRET,
        {"metadata": {"name": "token", "namespace": TENANT}, "stringData": {"token": "s3cr3t"}},
    )
    yield TENANT
    for info, where in itertools.product(KINDS, (TENANT, NAMESPACE)):
        found, _ = await kube.list(resource_type(info.kind), namespace=where)
        for obj in found:  # no controller runs any more to finalize them
            await kube.patch_merge(
                resource_type(info.kind),
                obj["metadata"]["name"],
                {"metadata": {"finalizers": None}},
                namespace=where,
            )
    await kube.delete(resources.NAMESPACE, TENANT)


@pytest.mark.parametrize("component", sorted(WORK))
async def test_each_controller_runs_reconciles_and_leads_as_its_own_service_account(
    control_plane: ControlPlane,
    kube: KubeClient,
    tenant: str,
    tmp_path: Path,
    component: str,
) -> None:
    kind, spec = WORK[component]
    name = component.removesuffix("-controller")
    await kube.create(
        resource_type(kind), {"metadata": {"name": name, "namespace": tenant}, "spec": spec}
    )
    async with _controller(control_plane, component, tmp_path) as alive:

        async def leading() -> bool:
            await alive()
            lease = await kube.get_or_none(
                resources.LEASE, f"tide-{name}-leader-election", namespace=NAMESPACE
            )
            return bool(lease and lease["spec"].get("holderIdentity"))

        await eventually(leading, timeout=60, what=f"{component} to sync its caches and lead")

        async def reported() -> bool:
            await alive()
            return await _has_ready(kube, kind, name, tenant)

        await eventually(reported, timeout=60, what=f"{component} to write {kind} status")


async def test_a_controller_not_watching_all_namespaces_reconciles_only_its_own(
    control_plane: ControlPlane, kube: KubeClient, tenant: str, tmp_path: Path
) -> None:
    kind, spec = WORK["source-controller"]
    for where in (tenant, NAMESPACE):
        body = {"metadata": {"name": "confined", "namespace": where}, "spec": spec}
        await kube.create(resource_type(kind), body)
    confined = _controller(
        control_plane,
        "source-controller",
        tmp_path,
        "--watch-all-namespaces=false",
        runtime_namespace=tenant,
    )
    async with confined as alive:

        async def reported() -> bool:
            await alive()
            return await _has_ready(kube, kind, "confined", tenant)

        await eventually(reported, timeout=60, what="the GitRepository in RUNTIME_NAMESPACE")
        assert not await _has_ready(kube, kind, "confined", NAMESPACE)
    await kube.delete(resource_type(kind), "confined", namespace=NAMESPACE)


async def _has_ready(kube: KubeClient, kind: str, name: str, namespace: str) -> bool:
    live = await kube.get(resource_type(kind), name, namespace=namespace)
    return any(c["type"] == "Ready" for c in (live.get("status") or {}).get("conditions") or [])


@contextlib.asynccontextmanager
async def _controller(
    control_plane: ControlPlane,
    component: str,
    storage: Path,
    *flags: str,
    runtime_namespace: str | None = None,
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Run ``tide controller`` for ``component`` as its installed ServiceAccount.

    Yields a check that fails the test with the controller's last words once it has exited.
    """
    as_account = control_plane.kubeconfig_for_service_account(NAMESPACE, component)
    env = {**os.environ, **({"RUNTIME_NAMESPACE": runtime_namespace} if runtime_namespace else {})}
    addresses = ("--metrics-addr", "--health-addr", "--storage-addr", "--receiver-addr")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli.main", "controller",
        f"--controllers={component.removesuffix('-controller')}",
        "--kubeconfig", str(as_account), "--leader-election-namespace", NAMESPACE,
        "--storage-path", str(storage), *flags,
        *(part for flag in (*addresses, "--events-addr") for part in (flag, "127.0.0.1:0")),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip

    async def alive() -> None:
        if process.returncode is not None:
            assert process.stderr is not None
            said = (await process.stderr.read()).decode()[-2000:]
            raise AssertionError(f"{component} exited {process.returncode}: {said}")

    try:
        yield alive
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)
