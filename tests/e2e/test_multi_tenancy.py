"""Flux's multi-tenancy layout on a locked-down ``tide controller``.

The platform team runs the controller as Flux's multi-tenancy guide configures it
(``--no-cross-namespace-refs=true --default-service-account=default``) and keeps its own
repository in ``flux-system``. A tenant gets a namespace, a ServiceAccount bound to the
``admin`` role there, and its own GitRepository and Kustomization. What the tenant may do is
what its ServiceAccount may do; a Kustomization that names the platform's repository is refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    assert_kstatus,
    condition,
    ensure_namespace,
    get,
    tide_controller,
    wait_condition,
)
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.e2e

TENANT = "e2e-tenant-a"
PLATFORM_FILES = {
    "clusters/local/config.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: platform-settings\n"
        "data:\n  tier: platform\n"
    ),
}
TENANT_FILES = {
    "deploy/kustomization.yaml": "resources:\n  - web.yaml\n",
    "deploy/web.yaml": (
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-settings\ndata:\n  replicas: "2"\n'
    ),
}


def _git_repository(name: str, namespace: str, url: str) -> str:
    return f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
"""


def _kustomization(name: str, source: str, *, path: str, extra: str = "") -> str:
    return f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {TENANT}
spec:
  interval: 10m
  prune: true
  path: {path}
  sourceRef:
    kind: GitRepository
{source}{extra}"""


TENANT_RBAC = f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: reconciler
  namespace: {TENANT}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reconciler-admin
  namespace: {TENANT}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
  - kind: ServiceAccount
    name: reconciler
    namespace: {TENANT}
"""


@pytest.fixture(scope="module")
def locked_down(
    installed: ControlPlane, git_server: GitServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControlPlane]:
    git_server.create_repo("e2e-platform", PLATFORM_FILES)
    git_server.create_repo("e2e-tenant-a", TENANT_FILES)
    ensure_namespace(installed, "flux-system")
    ensure_namespace(installed, TENANT)
    folder = tmp_path_factory.mktemp("tenancy")
    flags = ("--no-cross-namespace-refs=true", "--default-service-account=default")
    with tide_controller(installed, folder, *flags, namespaces=(TENANT, "flux-system")):
        yield installed


def test_a_tenant_applies_its_own_repository_as_its_service_account(
    locked_down: ControlPlane, git_server: GitServer
) -> None:
    plane = locked_down
    plane.kubectl("apply", "-f", "-", input=_git_repository(
        "platform", "flux-system", git_server.http_url("e2e-platform")))  # fmt: skip
    plane.kubectl("apply", "-f", "-", input=TENANT_RBAC)
    plane.kubectl("apply", "-f", "-", input="---\n".join([
        _git_repository("tenant-repo", TENANT, git_server.http_url("e2e-tenant-a")),
        _kustomization("web", "    name: tenant-repo\n", path="./deploy",
                       extra=f"  serviceAccountName: reconciler\n  targetNamespace: {TENANT}\n"),
    ]))  # fmt: skip

    wait_condition(plane, "flux-system", "gitrepository/platform", status="True")
    web = wait_condition(plane, TENANT, "kustomization/web", status="True")
    assert condition(web, "Ready")["message"].startswith("Applied revision: main@sha1:")
    applied = get(plane, TENANT, "configmap/web-settings")
    assert applied is not None and applied["data"] == {"replicas": "2"}
    assert applied["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "web"
    assert_kstatus(plane, TENANT, "flux-system")


def test_a_tenant_kustomization_naming_the_platform_repository_is_refused(
    locked_down: ControlPlane, git_server: GitServer
) -> None:
    plane = locked_down
    plane.kubectl("apply", "-f", "-", input=_git_repository(
        "platform", "flux-system", git_server.http_url("e2e-platform")))  # fmt: skip
    plane.kubectl(
        "apply",
        "-f",
        "-",
        input=_kustomization(
            "escape", "    name: platform\n    namespace: flux-system\n", path="./clusters/local"
        ),
    )

    stalled = wait_condition(
        plane, TENANT, "kustomization/escape", kind="Stalled", status="True", reason="AccessDenied"
    )
    assert condition(stalled, "Stalled")["message"] == (
        "can't access 'GitRepository/flux-system/platform', "
        "cross-namespace references have been blocked"
    )
    assert condition(stalled, "Ready")["status"] == "False"
    assert get(plane, TENANT, "configmap/platform-settings") is None
    assert_kstatus(plane, TENANT)


def test_a_kustomization_naming_no_account_applies_as_the_default_one(
    locked_down: ControlPlane, git_server: GitServer
) -> None:
    plane = locked_down
    plane.kubectl("apply", "-f", "-", input="---\n".join([
        _git_repository("tenant-repo", TENANT, git_server.http_url("e2e-tenant-a")),
        _kustomization("unnamed", "    name: tenant-repo\n", path="./deploy",
                       extra=f"  targetNamespace: {TENANT}\n"),
    ]))  # fmt: skip

    # The tenant's "default" ServiceAccount has no rights: the apply is refused as that account.
    failed = wait_condition(plane, TENANT, "kustomization/unnamed", status="False")
    message = condition(failed, "Ready")["message"]
    assert f"system:serviceaccount:{TENANT}:default" in message and "forbidden" in message
    assert_kstatus(plane, TENANT)
