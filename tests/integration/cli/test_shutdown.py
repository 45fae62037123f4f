"""SIGTERM ends ``tide controller`` within seconds, however much work is queued or in flight.

A rollout replaces the controller's pod with SIGTERM; a controller that finishes its backlog first
holds the rollout up until kubelet kills it, without releasing its Lease.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.cli.conftest import controller_process
from tests.integration.helpers import condition, eventually
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

COUNT = 40
"""Kustomizations, one folder each, so no build serves another."""
LEASE = "tide-source-kustomize-leader-election"
"""The Lease `tide controller --controllers source,kustomize` elects its leader on."""


def config_map(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  n: '1'\n"


async def test_sigterm_with_a_backlog_of_builds_and_health_checks_exits_within_seconds(
    control_plane: ControlPlane,
    crds: list[str],
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    repo = f"backlog-{namespace}"
    git_server.create_repo(
        repo, {f"app-{i}/config.yaml": config_map(f"c{i}") for i in range(COUNT)}
    )
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {"interval": "10m", "url": git_server.http_url(repo), "ref": {"branch": "main"}},
    })  # fmt: skip
    for i in range(COUNT):
        # Each waits (up to 10 minutes) for a Deployment that never comes.
        await kube.create(KUSTOMIZATION, {
            "metadata": {"name": f"app-{i}", "namespace": namespace},
            "spec": {"interval": "10m", "prune": True, "path": f"./app-{i}", "timeout": "10m",
                     "targetNamespace": namespace,
                     "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                     "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "never", "namespace": namespace}]},
        })  # fmt: skip
    flags = (
        "--controllers", "source,kustomize", "--concurrent", "2",
        "--leader-election-namespace", namespace, "--log-level", "warning",
    )  # fmt: skip
    try:
        with controller_process(control_plane, tmp_path / "controller", *flags) as process:

            async def busy() -> bool:
                items, _ = await kube.list(KUSTOMIZATION, namespace=namespace)
                checking = [
                    k for k in items
                    if "Running health checks" in (condition(k, "Reconciling") or {}).get(
                        "message", "")
                ]  # fmt: skip
                return len(checking) >= 1

            await eventually(busy, timeout=120, what="a Kustomization in its health check")
            untouched = [
                k for k in (await kube.list(KUSTOMIZATION, namespace=namespace))[0]
                if condition(k, "Ready") is None
            ]  # fmt: skip
            assert len(untouched) >= COUNT // 2, "the backlog should still be queued"

            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail("the controller did not exit within 30s of SIGTERM")
            took = time.monotonic() - started
            print(f"exited {took:.1f}s after SIGTERM with {len(untouched)} queued")

        assert code == 0
        assert took < 10, f"exited {took:.1f}s after SIGTERM"
        lease = await kube.get(resources.LEASE, LEASE, namespace=namespace)
        assert not lease["spec"].get("holderIdentity")  # released, no standby waits it out
    finally:
        await _release(kube, namespace)


async def _release(kube: KubeClient, namespace: str) -> None:
    """Delete what the test made, dropping finalizers no controller is left to handle."""
    for rt in (KUSTOMIZATION, GIT_REPOSITORY):
        items, _ = await kube.list(rt, namespace=namespace)
        for obj in items:
            name = obj["metadata"]["name"]
            patch = {"metadata": {"finalizers": None}}
            await kube.patch_merge(rt, name, patch, namespace=namespace)
            await kube.delete(rt, name, namespace=namespace)
