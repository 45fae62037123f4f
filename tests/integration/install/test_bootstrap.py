"""``tide bootstrap git`` over HTTP with a password and over SSH with a key, into empty repos.

Each bootstrap commits Tide's manifests, installs, stores the credentials Secret, and waits until
the GitRepository and Kustomization ``flux-system`` are Ready at the pushed commit; from then on
the cluster applies ``gotk-components.yaml`` from Git itself (the stand-in controller reconciles
it). The second test moves the same cluster to another repository over SSH, as re-bootstrapping
does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.install.conftest import StandIn
from tide.install import InstallOptions, public_key, render
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration

USERNAME = "fleet-bot"
PASSWORD = "pa55-w0rd-never-shown"
CRD = "gitrepositories.source.toolkit.fluxcd.io"


@pytest.fixture(scope="module")
def git_server() -> Iterator[GitServer]:
    with GitServer(username=USERNAME, password=PASSWORD, ssh=True) as server:
        yield server


def get(plane: ControlPlane, kind: str, name: str = "flux-system") -> dict[str, Any]:
    return json.loads(plane.kubectl("get", kind, name, "-n", "flux-system", "-o", "json"))


def ready(obj: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")


def secret_data(plane: ControlPlane) -> dict[str, str]:
    data = get(plane, "secret")["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def test_bootstrap_over_http_with_a_password_commits_installs_and_syncs(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer
) -> None:
    git_server.create_empty_repo("fleet-http")
    url = git_server.http_url("fleet-http")
    result = stand_in.bootstrap(
        "--url", url, "--branch", "main", "--path", "clusters/staging",
        "--username", USERNAME, "--password", PASSWORD, "--allow-insecure-http",
        "--timeout", "3m",
    )  # fmt: skip
    assert PASSWORD not in result.stdout + result.stderr
    head = git_server.head("fleet-http")
    assert f'committed 3 files to "main" ({head})' in result.stderr
    assert "✔ Kustomization reconciled successfully" in result.stderr

    folder = "clusters/staging/flux-system"
    sync = git_server.read("fleet-http", f"{folder}/gotk-sync.yaml")
    source, kustomization = yaml.safe_load_all(sync)
    assert source["spec"] == {
        "interval": "1m0s",
        "ref": {"branch": "main"},
        "url": url,
        "secretRef": {"name": "flux-system"},
    }
    assert kustomization["spec"] == {
        "interval": "10m0s",
        "path": "./clusters/staging",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    listing = yaml.safe_load(git_server.read("fleet-http", f"{folder}/kustomization.yaml"))
    assert listing["resources"] == ["gotk-components.yaml", "gotk-sync.yaml"]
    committed = git_server.read("fleet-http", f"{folder}/gotk-components.yaml")
    assert list(yaml.safe_load_all(committed)) == render(InstallOptions())

    assert secret_data(plane) == {"username": USERNAME, "password": PASSWORD}
    assert get(plane, "gitrepository")["status"]["artifact"]["revision"] == f"main@sha1:{head}"
    synced = get(plane, "kustomization")
    assert ready(synced)["status"] == "True"
    assert synced["status"]["lastAppliedRevision"] == f"main@sha1:{head}"
    # Tide now manages itself: the Kustomization applied the components from Git.
    inventory = {entry["id"] for entry in synced["status"]["inventory"]["entries"]}
    for document in render(InstallOptions()):
        metadata = document["metadata"]
        group = document["apiVersion"].rpartition("/")[0]
        entry = f"{metadata.get('namespace', '')}_{metadata['name']}_{group}_{document['kind']}"
        assert entry in inventory


def test_a_second_bootstrap_with_nothing_changed_makes_no_commit(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer
) -> None:
    before = git_server.head("fleet-http")
    crd = json.loads(plane.kubectl("get", "crd", CRD, "-o", "json"))
    result = stand_in.bootstrap(
        "--url", git_server.http_url("fleet-http"), "--path", "clusters/staging",
        "--username", USERNAME, "--password", PASSWORD, "--allow-insecure-http",
        "--timeout", "3m",
    )  # fmt: skip
    assert git_server.head("fleet-http") == before
    assert '✔ "main" already holds these manifests; no commit' in result.stderr
    assert "✔ Kustomization reconciled successfully" in result.stderr
    # The install and the Kustomization applying the same components from Git do not fight:
    # re-installing leaves the CRD the Kustomization applied exactly as it was.
    after = json.loads(plane.kubectl("get", "crd", CRD, "-o", "json"))
    assert after["metadata"]["labels"] == crd["metadata"]["labels"]
    assert after["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "flux-system"
    assert after["metadata"]["resourceVersion"] == crd["metadata"]["resourceVersion"]


def test_bootstrap_over_ssh_with_a_private_key_stores_identity_and_pinned_host_key(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer, tmp_path: Path
) -> None:
    git_server.create_empty_repo("fleet-ssh")
    private, public = git_server.client_key()
    key_file = tmp_path / "identity"
    key_file.write_text(private)
    url = git_server.ssh_url("fleet-ssh")
    result = stand_in.bootstrap(
        "--url", url, "--branch", "main", "--path", "clusters/production",
        "--private-key-file", str(key_file), "--silent", "--timeout", "3m",
    )  # fmt: skip
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    head = git_server.head("fleet-ssh")
    assert f"✔ public key: {public.strip()}" in result.stderr

    data = secret_data(plane)
    assert sorted(data) == ["identity", "identity.pub", "known_hosts"]
    assert data["identity"] == private
    assert data["identity.pub"].split()[:2] == public.split()[:2]
    assert data["identity.pub"] == public_key(private.encode())
    host_key = git_server.known_hosts.split()[1:3]
    assert any(line.split()[1:3] == host_key for line in data["known_hosts"].splitlines())

    source = get(plane, "gitrepository")
    assert source["spec"]["url"] == url
    assert source["status"]["artifact"]["revision"] == f"main@sha1:{head}"
    assert get(plane, "kustomization")["status"]["lastAppliedRevision"] == f"main@sha1:{head}"


def test_ssh_bootstrap_without_silent_asks_before_touching_the_repository(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer, tmp_path: Path
) -> None:
    git_server.create_empty_repo("fleet-unconfirmed")
    key_file = tmp_path / "identity"
    key_file.write_text(git_server.client_key()[0])
    result = stand_in.bootstrap(
        "--url", git_server.ssh_url("fleet-unconfirmed"), "--private-key-file", str(key_file),
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Please give the key access to your repository" in result.stderr
    with pytest.raises(Exception, match="no ref"):
        git_server.head("fleet-unconfirmed")


def test_wrong_password_fails_naming_the_refusal_without_showing_it(
    plane: ControlPlane, stand_in: StandIn, git_server: GitServer
) -> None:
    wrong = "not-the-pa55word"
    result = stand_in.bootstrap(
        "--url", git_server.http_url("fleet-http"), "--username", USERNAME, "--password", wrong,
        "--allow-insecure-http", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert wrong not in result.stdout + result.stderr
    assert "✗" in result.stderr and "401" in result.stderr


def test_http_url_needs_allow_insecure_http(stand_in: StandIn, git_server: GitServer) -> None:
    result = stand_in.bootstrap("--url", git_server.http_url("fleet-http"), check=False)
    assert result.returncode == 2
    assert "--allow-insecure-http" in result.stderr
