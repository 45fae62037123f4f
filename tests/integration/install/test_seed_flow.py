"""The seed documents' flow, end to end, on a cluster with no Tide and an empty repository.

``tide check --pre`` → ``tide bootstrap git`` → the sync objects Ready (Tide now applies its own
manifests from Git) → ``tide check`` and ``tide version`` see the controllers → a second
bootstrap makes no commit → ``tide uninstall`` takes Tide out again, leaving Git as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import tide
from tests.integration.install.conftest import StandIn, run_tide
from tide.install import InstallOptions, render
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

DEPLOYMENTS = sorted(
    d["metadata"]["name"] for d in render(InstallOptions()) if d["kind"] == "Deployment"
)


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer() as server:
        yield server


def test_check_bootstrap_resync_and_uninstall(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer
) -> None:
    pre = run_tide(plane, "check", "--pre")
    assert "✔ prerequisites checks passed" in pre.stderr
    assert run_tide(plane, "check", check=False).returncode == 1

    git_server.create_empty_repo("fleet")
    url = git_server.http_url("fleet")
    flags = ("--url", url, "--branch", "main", "--path", "clusters/my-cluster")
    first = stand_in.bootstrap(*flags, "--allow-insecure-http", "--timeout", "3m")
    head = git_server.head("fleet")
    assert f'committed 3 files to "main" ({head})' in first.stderr
    kustomization = json.loads(
        plane.kubectl("get", "kustomization", "flux-system", "-n", "flux-system", "-o", "json")
    )
    assert kustomization["status"]["lastAppliedRevision"] == f"main@sha1:{head}"
    assert "secretRef" not in git_server.read(
        "fleet", "clusters/my-cluster/flux-system/gotk-sync.yaml"
    )

    checked = run_tide(plane, "check")
    assert "✔ all checks passed" in checked.stderr
    versions = run_tide(plane, "version").stdout.splitlines()
    assert versions[0] == f"tide: v{tide.__version__}"
    assert sorted(line.split(":")[0] for line in versions[1:]) == DEPLOYMENTS

    second = stand_in.bootstrap(*flags, "--allow-insecure-http", "--timeout", "3m")
    assert git_server.head("fleet") == head
    assert "no commit" in second.stderr

    removed = run_tide(plane, "uninstall", "--silent")
    assert "✔ uninstall finished" in removed.stderr
    # One read: the namespace may finish terminating between two.
    left = plane.kubectl("get", "namespace", "flux-system", "--ignore-not-found").strip()
    assert not left or "Terminating" in left
    assert "toolkit.fluxcd.io" not in plane.kubectl("get", "crd")
    assert git_server.head("fleet") == head
