"""The local control plane is a real cluster: auth, RBAC, workloads, and a clean teardown."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.helpers import eventually
from tide.testing import ControlPlane, ControlPlaneError
from tide.testing._process import pid_alive

pytestmark = pytest.mark.integration


def kubectl_as(kubeconfig: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_starts_in_seconds(control_plane: ControlPlane) -> None:
    assert 0 < control_plane.startup_seconds < 60
    assert control_plane.ready()


def test_a_minted_user_has_only_the_rights_rbac_grants(
    control_plane: ControlPlane, namespace: str
) -> None:
    alice = control_plane.kubeconfig_for_user("alice", groups=("developers",))
    refused = kubectl_as(alice, "get", "configmaps", "-n", namespace)
    assert refused.returncode != 0
    assert 'User "alice" cannot list resource "configmaps"' in refused.stderr

    control_plane.kubectl(
        "create", "role", "read-cm", "-n", namespace, "--verb=get,list", "--resource=configmaps"
    )
    control_plane.kubectl(
        "create", "rolebinding", "read-cm", "-n", namespace, "--role=read-cm", "--group=developers"
    )
    allowed = kubectl_as(alice, "get", "configmaps", "-n", namespace)
    assert allowed.returncode == 0, allowed.stderr


def test_a_service_account_token_authenticates_as_that_account(
    control_plane: ControlPlane, namespace: str
) -> None:
    control_plane.kubectl("create", "serviceaccount", "tenant", "-n", namespace)
    kubeconfig = control_plane.kubeconfig_for_service_account(namespace, "tenant")
    whoami = kubectl_as(kubeconfig, "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    username = json.loads(whoami.stdout)["status"]["userInfo"]["username"]
    assert username == f"system:serviceaccount:{namespace}:tenant"
    # Impersonation is refused to the tenant, as it has no impersonate rights.
    impersonating = kubectl_as(kubeconfig, "get", "pods", "-n", namespace, "--as", "admin")
    assert "cannot impersonate" in impersonating.stderr


async def test_a_deployment_rolls_out_and_becomes_available(
    control_plane: ControlPlane, namespace: str
) -> None:
    control_plane.kubectl(
        "create",
        "deployment",
        "web",
        "-n",
        namespace,
        "--image=registry.invalid/web:1",
        "--replicas=2",
    )

    async def available() -> bool:
        out = control_plane.kubectl(
            "get", "deployment", "web", "-n", namespace, "-o",
            'jsonpath={.status.conditions[?(@.type=="Available")].status}/{.status.readyReplicas}',
        )  # fmt: skip
        return out == "True/2"

    await eventually(available, timeout=60, what="the Deployment to become Available")


def test_stop_ends_every_process_and_removes_its_state() -> None:
    plane = ControlPlane()
    plane.start()
    pids = [process.pid for process in plane._processes]
    root = plane.root
    assert len(pids) == 2 and all(pid_alive(pid) for pid in pids)
    plane.stop()
    assert not any(pid_alive(pid) for pid in pids)
    assert not root.exists()
    with pytest.raises(ControlPlaneError, match="not started"):
        _ = ControlPlane().root
