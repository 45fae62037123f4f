"""The local control plane is a real cluster: auth, RBAC, workloads, and a clean teardown."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import eventually
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.testing import ControlPlane, ControlPlaneError
from tide.testing._process import ServerProcess, pid_alive
from tide.testing._workloads import FAKE_NODE, NODE_LEASE_SECONDS, NODE_MONITOR_GRACE_SECONDS
from tide.testing.binaries import cache_root

pytestmark = pytest.mark.integration
pytest_plugins = ("pytester",)

CACHE = cache_root()
"""Read at import: pytester points HOME elsewhere, and the binaries must still be found."""


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


async def test_a_pod_log_is_the_file_serve_pod_logs_names(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    log = tmp_path / "web.log"
    log.write_text(
        "2026-12-02T00:00:00.000000000Z stdout F first\n"
        "2026-12-02T00:00:01.000000000Z stderr F second\n"
    )

    async def created() -> bool:  # once the controller-manager made the default ServiceAccount
        ran = kubectl_as(control_plane.kubeconfig, "run", "web", "-n", namespace,
                         "--image=registry.invalid/web:1", "--restart=Never")  # fmt: skip
        return ran.returncode == 0 or "AlreadyExists" in ran.stderr

    await eventually(created, timeout=30, what="the pod to be admitted")
    control_plane.serve_pod_logs("web", namespace, log)

    async def logs() -> str:
        ran = kubectl_as(control_plane.kubeconfig, "logs", "web", "-n", namespace, "--tail=1")
        return ran.stdout if ran.returncode == 0 else ""

    assert await eventually(logs, timeout=60, what="kwok to serve the pod's log") == "second\n"


NODE = ResourceType("", "v1", "Node", "nodes", namespaced=False)


async def test_the_node_renews_its_lease_well_within_the_grace_period_and_stays_ready(
    control_plane: ControlPlane, kube: KubeClient
) -> None:
    # Without a renewed Lease the controller-manager marked the node Unknown (and its Pods not
    # ready) every ~55 s. Three renewals at the configured rate prove it no longer can; the node
    # is watched all the while.
    renewals: list[datetime] = []
    readiness: list[tuple[str, list[str]]] = []

    def on_lease(_: str, __: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is not None and new["metadata"]["name"] == FAKE_NODE:
            renewed = datetime.fromisoformat(new["spec"]["renewTime"])
            if renewed not in renewals:
                renewals.append(renewed)

    def on_node(_: str, __: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is None or new["metadata"]["name"] != FAKE_NODE:
            return
        ready = next(c for c in new["status"]["conditions"] if c["type"] == "Ready")
        taints = [t["key"] for t in new["spec"].get("taints") or ()]
        readiness.append((ready["status"], taints))

    leases = WatchCache(kube, resources.LEASE, namespace="kube-node-lease")
    nodes = WatchCache(kube, NODE)
    leases.add_handler(on_lease)
    nodes.add_handler(on_node)
    mirrors = [asyncio.create_task(cache.run()) for cache in (nodes, leases)]
    try:

        async def renewed_three_times() -> bool:
            return len(renewals) >= 4

        await eventually(
            renewed_three_times,
            timeout=NODE_MONITOR_GRACE_SECONDS * 2,
            what="three renewals of the node's Lease",
        )
        lease = leases.get("kube-node-lease", FAKE_NODE)
    finally:
        for mirror in mirrors:
            mirror.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await mirror

    assert lease is not None
    assert lease["spec"]["leaseDurationSeconds"] == NODE_LEASE_SECONDS
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(renewals)]
    renew_interval = NODE_LEASE_SECONDS / 4  # as the kubelet (and kwok after it) renews
    assert all(0 < gap <= renew_interval * 2 for gap in gaps), gaps
    assert max(gaps) * 2 < NODE_MONITOR_GRACE_SECONDS
    assert readiness, "the node was never seen"
    assert all(status == "True" for status, _ in readiness), readiness
    assert not any("node.kubernetes.io/unreachable" in taints for _, taints in readiness)


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


def test_a_start_killed_half_way_leaves_a_record_that_stops_its_servers(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    starter = subprocess.Popen([sys.executable, "-c", _START, str(folder), "detach"])
    try:
        _wait_for_state(folder, lambda s: bool(s["processes"]))
        starter.send_signal(signal.SIGKILL)  # `tide dev up` killed while etcd starts
        starter.wait()
        state = json.loads((folder / "state.json").read_text())
        orphans = [ServerProcess.from_record(r) for r in state["processes"]]
        running = [p for p in orphans if p.alive()]
        assert state["complete"] is False
        assert running[:1] == orphans[:1] and orphans[0].name == "etcd"  # detached: outlived us

        assert ControlPlane.attach(folder) is None
        assert ControlPlane.stop_recorded(folder) == len(running)

        assert not any(p.alive() for p in orphans)
        assert not folder.exists()
    finally:
        starter.kill()
        ControlPlane.stop_recorded(folder)


def test_servers_of_a_plane_die_when_its_process_is_killed(tmp_path: Path) -> None:
    folder = tmp_path / "plane"
    owner = subprocess.Popen([sys.executable, "-c", _START, str(folder), "attached"])
    servers: list[ServerProcess] = []
    try:
        state = _wait_for_state(folder, lambda s: s["complete"])
        servers = [ServerProcess.from_record(r) for r in state["processes"]]
        assert [p.name for p in servers] == ["etcd", "kube-apiserver"]
        assert all(p.alive() for p in servers)

        owner.send_signal(signal.SIGKILL)  # pytest killed: no atexit, no fixture teardown
        owner.wait()

        deadline = time.monotonic() + 15
        while any(p.alive() for p in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p.name for p in servers if p.alive()]
    finally:
        owner.kill()
        for process in servers:
            process.stop(timeout=2)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_plane_attached_from_its_folder_mints_users(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    ControlPlane(data_dir=folder, detach=True).start()  # as `tide dev up` does, then exits
    try:
        attached = ControlPlane.attach(folder)
        assert attached is not None

        bob = attached.kubeconfig_for_user("bob", groups=("viewers",))

        whoami = kubectl_as(bob, "auth", "whoami", "-o", "json")
        assert whoami.returncode == 0, whoami.stderr
        user = json.loads(whoami.stdout)["status"]["userInfo"]
        assert user["username"] == "bob"
        assert "viewers" in user["groups"]
        assert (folder / "pki" / "client-ca.key").stat().st_mode & 0o777 == 0o600
        assert ControlPlane.stop_recorded(folder) == 2
    finally:
        ControlPlane.stop_recorded(folder)


def test_the_pytest_plugin_gives_a_plane_and_namespaces_and_cleans_up_after_failures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDE_CACHE_DIR", str(CACHE))
    record = pytester.path / "record.json"
    pytester.makepyfile(_PLUGIN_USER.replace("__RECORD__", repr(str(record))))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*fails on purpose*", "tide control plane ready in *s"])
    seen = json.loads(record.read_text())
    assert seen["namespace"].startswith("t-test-a-namespace-per-test-then-a-failure-")
    assert seen["nodes"] == ["node/kwok-node-0"]
    assert not any(ServerProcess.from_record(r).alive() for r in seen["processes"])
    assert not Path(seen["root"]).exists()


def _wait_for_state(folder: Path, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            state = json.loads((folder / "state.json").read_text())
        except (OSError, ValueError):
            state = None
        if state is not None and done(state):
            return state
        time.sleep(0.01)
    pytest.fail(f"{folder}/state.json never recorded what was expected")


_START = """
import sys, time
from pathlib import Path
from tide.testing import ControlPlane

ControlPlane(data_dir=Path(sys.argv[1]), detach=sys.argv[2] == "detach").start()
time.sleep(600)
"""

_PLUGIN_USER = """
import json
from pathlib import Path

import httpx

RECORD_FILE = Path(__RECORD__)


def test_a_namespace_per_test_then_a_failure(tide_control_plane, tide_namespace):
    tide_control_plane.kubectl(
        "create", "configmap", "settings", "-n", tide_namespace, "--from-literal=mode=fast"
    )
    settings = tide_control_plane.request(
        "GET", f"/api/v1/namespaces/{tide_namespace}/configmaps/settings"
    )
    assert settings["data"] == {"mode": "fast"}
    RECORD_FILE.write_text(json.dumps({
        "namespace": tide_namespace,
        "nodes": tide_control_plane.kubectl("get", "nodes", "-o", "name").split(),
        "root": str(tide_control_plane.root),
        "processes": [p.record() for p in tide_control_plane._processes],
    }))
    raise AssertionError("fails on purpose: the plane must be stopped all the same")


def test_the_namespace_of_the_test_before_is_deleted(tide_control_plane):
    namespace = json.loads(RECORD_FILE.read_text())["namespace"]
    try:
        found = tide_control_plane.request("GET", f"/api/v1/namespaces/{namespace}")
    except httpx.HTTPStatusError as error:
        assert error.response.status_code == 404
    else:
        assert found["metadata"].get("deletionTimestamp"), found
"""
