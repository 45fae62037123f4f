"""Tenancy: a tenant's Kustomization applies only what its ServiceAccount may, and reads only
what is in its own namespace.

``serviceAccountName`` (or ``--default-service-account``) holds the apply to the tenant's RBAC;
``--no-cross-namespace-refs`` refuses a ``sourceRef`` or ``dependsOn`` into another tenant's
namespace; and the Secrets a Kustomization reads (``postBuild.substituteFrom``,
``decryption.secretRef``, ``kubeConfig.secretRef``) are looked up in its own namespace only.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.integration.helpers import condition, events_for, eventually, reconcile_count
from tests.integration.kustomize.common import (
    DEPLOYMENT,
    FILES,
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tests.integration.kustomize.conftest import running_controllers
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

ROLE = ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles")
ROLE_BINDING = ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
HELM_CHART = ResourceType("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts")
EVERY_VERB = ["get", "list", "watch", "create", "update", "patch", "delete"]
APPS = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": EVERY_VERB},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": EVERY_VERB},
]
"""What a tenant may do in its own namespace in these tests."""
PRIVATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant-a-private\n"
    "data:\n  plan: acquire-tenant-b\n"
)
A_FILES = {
    "private/config.yaml": PRIVATE,
    "own/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-own\n",
}
"""Tenant A's repository: ``private/`` is what tenant B must never get to apply."""


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


# -- two tenants -----------------------------------------------------------------------------------
@pytest_asyncio.fixture(loop_scope="session")
async def tenant_a(kube: KubeClient, namespace: str) -> AsyncIterator[str]:
    """A second tenant's namespace (the ``namespace`` fixture is tenant B's)."""
    name = f"{namespace[:58]}-a"
    await kube.create(resources.NAMESPACE, {"metadata": {"name": name}})
    yield name
    with contextlib.suppress(Exception):
        await kube.delete(resources.NAMESPACE, name)


@pytest_asyncio.fixture(loop_scope="session")
async def locked_down(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    tenant_a: str,
    tmp_path: Path,
) -> AsyncIterator[Manager]:
    """Controllers locked down as Flux's multi-tenancy guide does it: no cross-namespace
    references, and every Kustomization impersonates ``tenant`` unless it names another."""
    async with running_controllers(
        control_plane,
        kube,
        [namespace, tenant_a],
        tmp_path / "storage",
        no_cross_namespace_refs=True,
        default_service_account="tenant",
    ) as manager:
        yield manager


@pytest_asyncio.fixture(loop_scope="session")
async def open_controllers(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    tenant_a: str,
    tmp_path: Path,
) -> AsyncIterator[Manager]:
    """Controllers with Flux's defaults: cross-namespace references allowed."""
    async with running_controllers(
        control_plane, kube, [namespace, tenant_a], tmp_path / "storage"
    ) as manager:
        yield manager


async def given_tenant_a(kube: KubeClient, tenant_a: str, git: GitServer) -> str:
    """Tenant A with its ServiceAccount and a ready GitRepository ``fleet``; return its revision."""
    await given_tenant(kube, tenant_a, APPS)
    repo = f"private-{tenant_a[-10:]}"
    git.create_repo(repo, A_FILES)
    await given_source(kube, tenant_a, git, repo)
    return await artifact_revision(kube, tenant_a, "fleet")


async def artifact_revision(kube: KubeClient, namespace: str, name: str, *, not_: str = "") -> str:
    """Wait until GitRepository ``name`` has an artifact (other than ``not_``); return it."""

    async def probe() -> str | None:
        obj = await kube.get(GIT_REPOSITORY, name, namespace=namespace)
        revision = ((obj.get("status") or {}).get("artifact") or {}).get("revision")
        return revision if revision and revision != not_ else None

    return await eventually(probe, timeout=60, what=f"GitRepository {name} artifact")


async def stalled(kube: KubeClient, namespace: str, name: str, message: str) -> dict[str, Any]:
    """Wait for Stalled=True and Ready=False, both AccessDenied with ``message``."""
    obj = await wait_for(kube, namespace, name, status="False", reason="AccessDenied")
    assert ready_condition(obj)["message"] == message
    stall = condition(obj, "Stalled")
    assert stall is not None
    assert (stall["status"], stall["reason"], stall["message"]) == ("True", "AccessDenied", message)
    assert condition(obj, "Reconciling") is None
    return obj


async def access_denied_events(kube: KubeClient, namespace: str, name: str) -> list[dict]:
    async def probe() -> list[dict]:
        return [
            event
            for event in await events_for(kube, namespace, name)
            if event["type"] == "Warning" and event["reason"] == "AccessDenied"
        ]

    return await eventually(probe, what=f"a Warning event AccessDenied for {name}")


async def nowhere(kube: KubeClient, name: str, namespaces: list[str]) -> None:
    """Assert no ConfigMap called ``name`` exists in any of ``namespaces``."""
    for namespace in namespaces:
        assert await kube.get_or_none(resources.CONFIG_MAP, name, namespace=namespace) is None


def blocked(kind: str, namespace: str, name: str) -> str:
    return f"can't access '{kind}/{namespace}/{name}', cross-namespace references have been blocked"


# -- --no-cross-namespace-refs ---------------------------------------------------------------------
async def test_a_tenant_cannot_apply_another_tenants_source_when_locked_down(
    kube: KubeClient, namespace: str, tenant_a: str, git_server: GitServer, locked_down: Manager
) -> None:
    revision = await given_tenant_a(kube, tenant_a, git_server)
    # Tenant A's own Kustomization on the same source: it shows when A's changes are processed.
    await create_kustomization(kube, tenant_a, "own", {"path": "./own"})
    await given_tenant(kube, namespace, APPS)
    await create_kustomization(kube, namespace, "escape", {
        "path": "./private",
        "serviceAccountName": "tenant",
        "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": tenant_a},
    })  # fmt: skip

    message = blocked("GitRepository", tenant_a, "fleet")
    obj = await stalled(kube, namespace, "escape", message)
    [event] = await access_denied_events(kube, namespace, "escape")
    assert event["message"] == message
    assert "lastAttemptedRevision" not in obj["status"]
    assert "inventory" not in obj["status"]
    await wait_for(kube, tenant_a, "own", status="True")
    await nowhere(kube, "tenant-a-private", [namespace, tenant_a])

    # Not retried: a new revision of A's source wakes A's Kustomization, not the stalled one.
    async def counted() -> float:
        return reconcile_count("Kustomization", namespace, "escape")

    runs = await eventually(counted, what="the stalled reconcile to be counted")
    git_server.commit(f"private-{tenant_a[-10:]}", {"own/more.yaml": PRIVATE.replace(
        "tenant-a-private", "a-more")})  # fmt: skip
    await request_reconcile(kube, GIT_REPOSITORY, tenant_a, "fleet", "new-commit")
    newer = await artifact_revision(kube, tenant_a, "fleet", not_=revision)

    async def own_applied() -> bool:
        own = await kube.get(KUSTOMIZATION, "own", namespace=tenant_a)
        return (own.get("status") or {}).get("lastAppliedRevision") == newer

    await eventually(own_applied, timeout=60, what="tenant A's Kustomization to apply " + newer)
    after = await kube.get(KUSTOMIZATION, "escape", namespace=namespace)
    assert after["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    assert reconcile_count("Kustomization", namespace, "escape") == runs
    [again] = await access_denied_events(kube, namespace, "escape")
    assert again.get("count", 1) == event.get("count", 1)
    await nowhere(kube, "tenant-a-private", [namespace, tenant_a])

    # Fixing the spec is what brings it back: its own namespace's source applies.
    repo = f"tenant-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    await kube.patch_merge(KUSTOMIZATION, "escape", {"spec": {
        "path": "./apps/base/podinfo",
        "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": None},
    }}, namespace=namespace)  # fmt: skip
    fixed = await wait_for(kube, namespace, "escape", status="True")
    assert condition(fixed, "Stalled") is None
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is not None


async def test_a_tenant_cannot_depend_on_another_tenants_objects_when_locked_down(
    kube: KubeClient, namespace: str, tenant_a: str, git_server: GitServer, locked_down: Manager
) -> None:
    await given_tenant_a(kube, tenant_a, git_server)
    await create_kustomization(kube, tenant_a, "infra", {"path": "./own"})
    await wait_for(kube, tenant_a, "infra", status="True")
    await given_tenant(kube, namespace, APPS)
    repo = f"tenant-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    for name, dependency in [
        ("after-infra", {"name": "infra", "namespace": tenant_a}),
        ("after-db", {"kind": "HelmRelease", "name": "db", "namespace": tenant_a}),
    ]:
        await create_kustomization(
            kube, namespace, name, {"path": "./apps/base/podinfo", "dependsOn": [dependency]}
        )

    await stalled(kube, namespace, "after-infra", blocked("Kustomization", tenant_a, "infra"))
    await stalled(kube, namespace, "after-db", blocked("HelmRelease", tenant_a, "db"))
    for name in ("after-infra", "after-db"):
        [event] = await access_denied_events(kube, namespace, name)
        assert "cross-namespace references have been blocked" in event["message"]
    assert (
        await kube.get_or_none(resources.CONFIG_MAP, "podinfo-config", namespace=namespace) is None
    )
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None


async def test_without_the_lockdown_cross_namespace_references_keep_working(
    kube: KubeClient,
    namespace: str,
    tenant_a: str,
    git_server: GitServer,
    open_controllers: Manager,
) -> None:
    await given_tenant_a(kube, tenant_a, git_server)
    await create_kustomization(kube, tenant_a, "infra", {"path": "./own"})
    await create_kustomization(kube, namespace, "shared", {
        "path": "./private",
        "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": tenant_a},
        "dependsOn": [{"name": "infra", "namespace": tenant_a}],
    })  # fmt: skip

    await wait_for(kube, namespace, "shared", status="True")
    assert await kube.get_or_none(resources.CONFIG_MAP, "tenant-a-private", namespace=namespace)


# -- Secrets are read in the Kustomization's own namespace ---------------------------------------
async def test_the_api_server_drops_a_namespace_written_into_a_same_namespace_reference(
    kube: KubeClient, namespace: str, tenant_a: str, crds: list[str]
) -> None:
    await create_kustomization(kube, namespace, "reaching", {
        "postBuild": {"substituteFrom": [
            {"kind": "Secret", "name": "vars", "namespace": tenant_a}]},
        "decryption": {"provider": "sops", "secretRef": {"name": "keys", "namespace": tenant_a}},
        "kubeConfig": {"secretRef": {"name": "remote", "namespace": tenant_a}},
    })  # fmt: skip
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "reaching", "namespace": namespace},
        "spec": {"interval": "10m", "url": "https://example.invalid/repo.git",
                 "include": [{"repository": {"name": "fleet", "namespace": tenant_a}}]},
    })  # fmt: skip
    await kube.create(HELM_CHART, {
        "metadata": {"name": "reaching", "namespace": namespace},
        "spec": {"interval": "10m", "chart": "db", "sourceRef": {
            "kind": "HelmRepository", "name": "charts", "namespace": tenant_a}},
    })  # fmt: skip

    spec = (await kube.get(KUSTOMIZATION, "reaching", namespace=namespace))["spec"]
    git = (await kube.get(GIT_REPOSITORY, "reaching", namespace=namespace))["spec"]
    chart = (await kube.get(HELM_CHART, "reaching", namespace=namespace))["spec"]
    references = [
        spec["postBuild"]["substituteFrom"][0],
        spec["decryption"]["secretRef"],
        spec["kubeConfig"]["secretRef"],
        git["include"][0]["repository"],
        chart["sourceRef"],
    ]
    assert [ref["name"] for ref in references] == ["vars", "keys", "remote", "fleet", "charts"]
    assert [ref for ref in references if "namespace" in ref] == []
    for rt in (KUSTOMIZATION, GIT_REPOSITORY, HELM_CHART):
        await kube.delete(rt, "reaching", namespace=namespace)


async def test_a_tenant_cannot_read_secrets_from_another_namespace(
    kube: KubeClient,
    namespace: str,
    tenant_a: str,
    git_server: GitServer,
    control_plane: ControlPlane,
    open_controllers: Manager,
) -> None:
    # Tenant A's Secrets, each named as tenant B's Kustomizations will ask for them.
    admin_kubeconfig = control_plane.kubeconfig.read_bytes()
    for name, data in [
        ("vars", {"color": b"s3cr3t-red"}),
        ("sops-age", {"identity.agekey": b"AGE-SECRET-KEY-1TENANTAONLY"}),
        ("remote", {"value": admin_kubeconfig}),
    ]:
        encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
        await kube.create(resources.SECRET, {
            "metadata": {"name": name, "namespace": tenant_a}, "data": encoded})  # fmt: skip
    await given_tenant(kube, namespace, APPS)
    repo = f"tenant-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await given_source(kube, namespace, git_server, repo)
    base = {"path": "./apps/base/podinfo", "serviceAccountName": "tenant"}
    reach = {"namespace": tenant_a}
    await create_kustomization(kube, namespace, "vars", {**base, "postBuild": {
        "substituteFrom": [{"kind": "Secret", "name": "vars", **reach}]}})  # fmt: skip
    await create_kustomization(kube, namespace, "keys", {**base, "decryption": {
        "provider": "sops", "secretRef": {"name": "sops-age", **reach}}})  # fmt: skip
    await create_kustomization(kube, namespace, "remote", {**base, "kubeConfig": {
        "secretRef": {"name": "remote", **reach}}})  # fmt: skip

    # Each condition names the Secret it looked for: in tenant B's own namespace.
    failed = await wait_for(kube, namespace, "vars", status="False", reason="BuildFailed")
    assert ready_condition(failed)["message"] == (
        f"substitute from 'Secret/{namespace}/vars' error: secret not found "
        "(postBuild.substituteFrom)"
    )
    failed = await wait_for(kube, namespace, "keys", status="False", reason="DecryptionFailed")
    assert ready_condition(failed)["message"] == (
        f"Secret '{namespace}/sops-age' (spec.decryption.secretRef) not found"
    )
    failed = await wait_for(
        kube, namespace, "remote", status="False", reason="ReconciliationFailed"
    )
    assert ready_condition(failed)["message"] == (
        f"Secret '{namespace}/remote' (spec.kubeConfig.secretRef) not found"
    )
    assert await kube.get_or_none(DEPLOYMENT, "podinfo", namespace=namespace) is None

    # Made optional, the substitution goes ahead without A's values: the default applies.
    await kube.patch_merge(KUSTOMIZATION, "vars", {"spec": {"postBuild": {
        "substitute": {"tenant": "b"},
        "substituteFrom": [{"kind": "Secret", "name": "vars", "optional": True, **reach}],
    }}}, namespace=namespace)  # fmt: skip
    await wait_for(kube, namespace, "vars", status="True")
    config = await kube.get(resources.CONFIG_MAP, "podinfo-config", namespace=namespace)
    assert config["data"] == {"color": "blue"}
    everything = [
        *(await kube.list(resources.CONFIG_MAP, namespace=namespace))[0],
        *(await kube.list(KUSTOMIZATION, namespace=namespace))[0],
        *(await kube.list(resources.EVENT, namespace=namespace))[0],
    ]
    assert "s3cr3t-red" not in repr(everything)
    assert "TENANTAONLY" not in repr(everything)
