"""``tide create secret`` and ``tide create image``: what they make, sources and scans use.

Each Secret is proven by the controller that reads it: a GitRepository clones over SSH with the
keys and the scanned host key, an ImageRepository made by ``tide create image`` scans a private
registry with a ``tide create secret oci`` Secret and a policy picks its tag. Values appear only
in ``--export``'s output.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.cli.conftest import tide
from tests.integration.image.conftest import (  # noqa: F401 (fixtures)
    PASSWORD,
    USER,
    Running,
    private_registry,
    reflector,
    repo_path,
)
from tide.image.setup import IMAGE_POLICY
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import ControlPlane, GitServer, Registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ssh_git() -> Iterator[GitServer]:
    with GitServer(ssh=True) as server:
        yield server


def decoded(secret: dict) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


async def test_a_git_ssh_secret_holds_the_key_and_the_scanned_host_key_and_the_source_clones(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    ssh_git: GitServer,
    controllers: Manager,
    tmp_path: Path,
) -> None:
    repo = f"ssh-{namespace[-8:]}"
    ssh_git.create_repo(repo, {"app/readme.txt": "hello\n"})
    private, public = ssh_git.client_key()
    key_file = tmp_path / "identity"
    key_file.write_text(private)
    kubeconfig, scope = control_plane.kubeconfig, ("-n", namespace)

    made = await tide(kubeconfig, "create", "secret", "git", "creds", "--url",
                      ssh_git.ssh_url(repo), "--private-key-file", str(key_file),
                      *scope)  # fmt: skip

    assert made.code == 0, made.stderr
    assert made.stdout == ""
    assert f"✔ deploy key: {public.strip()}" in made.stderr
    assert "PRIVATE KEY" not in made.stderr
    data = decoded(await kube.get(resources.SECRET, "creds", namespace=namespace))
    assert sorted(data) == ["identity", "identity.pub", "known_hosts"]
    assert data["identity"] == private
    assert data["identity.pub"].split()[:2] == public.split()[:2]
    host_key = ssh_git.known_hosts.split()[1:3]
    assert [line.split()[1:3] for line in data["known_hosts"].splitlines()] == [host_key]

    source = await tide(kubeconfig, "create", "source", "git", "fleet", "--url",
                        ssh_git.ssh_url(repo), "--branch", "main", "--secret-ref", "creds",
                        *scope)  # fmt: skip
    assert source.code == 0, source.stderr
    assert "✔ GitRepository fleet is ready" in source.stderr
    fleet = await kube.get(GIT_REPOSITORY, "fleet", namespace=namespace)
    assert fleet["status"]["artifact"]["revision"].startswith("main@sha1:")


async def test_a_generated_key_is_exported_with_the_host_key_and_nothing_is_written(
    control_plane: ControlPlane, kube: KubeClient, namespace: str, ssh_git: GitServer
) -> None:
    exported = await tide(control_plane.kubeconfig, "create", "secret", "git", "made", "--url",
                          ssh_git.ssh_url("any"), "--ssh-key-algorithm", "ed25519", "--export",
                          "-n", namespace)  # fmt: skip

    assert exported.code == 0, exported.stderr
    secret = yaml.safe_load(exported.stdout)
    assert secret["metadata"] == {"name": "made", "namespace": namespace}
    values = secret["stringData"]
    assert sorted(values) == ["identity", "identity.pub", "known_hosts"]
    assert values["identity"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert values["identity.pub"].startswith("ssh-ed25519 ")
    assert values["known_hosts"].split()[1:3] == ssh_git.known_hosts.split()[1:3]
    assert await kube.get_or_none(resources.SECRET, "made", namespace=namespace) is None


async def test_an_oci_secret_and_image_objects_made_by_tide_scan_a_private_registry(
    control_plane: ControlPlane,
    kube: KubeClient,
    namespace: str,
    reflector: Running,  # noqa: F811
    private_registry: Registry,  # noqa: F811
) -> None:
    path = repo_path(namespace)
    private_registry.push_artifact(path, "1.2.0", {"a": "1"})
    private_registry.push_artifact(path, "1.10.0", {"a": "2"})
    host = private_registry.host
    kubeconfig, scope = control_plane.kubeconfig, ("-n", namespace)

    secret = await tide(kubeconfig, "create", "secret", "oci", "pull", "--url", host,
                        "--username", USER, "--password", PASSWORD, *scope)  # fmt: skip
    assert secret.code == 0, secret.stderr
    assert PASSWORD not in secret.stdout + secret.stderr
    stored = await kube.get(resources.SECRET, "pull", namespace=namespace)
    assert stored["type"] == "kubernetes.io/dockerconfigjson"

    repository = await tide(kubeconfig, "create", "image", "repository", "app", "--image",
                            f"{host}/{path}", "--secret-ref", "pull", "--insecure",
                            *scope)  # fmt: skip
    assert repository.code == 0, repository.stderr
    assert "✔ ImageRepository app is ready" in repository.stderr
    policy = await tide(kubeconfig, "create", "image", "policy", "app", "--image-ref", "app",
                        "--select-semver", ">=1.0.0", *scope)  # fmt: skip
    assert policy.code == 0, policy.stderr
    chosen = await kube.get(IMAGE_POLICY, "app", namespace=namespace)
    assert chosen["status"]["latestRef"]["tag"] == "1.10.0"

    both = await tide(kubeconfig, "create", "image", "policy", "x", "--image-ref", "app",
                      "--select-semver", ">=1", "--select-alpha", "asc", *scope)  # fmt: skip
    assert both.code == 2
    assert "give exactly one of --select-semver, --select-numeric, --select-alpha" in both.stderr
