"""Bad input: an invalid template stalls with Go's error, a marker naming no policy is reported."""

# The shared fixtures are imported, and a test naming one as a parameter "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.helpers import events_for, eventually
from tests.integration.image.automation_common import (  # noqa: F401 (fixtures)
    IMAGE,
    controllers,
    create_automation,
    deployment,
    files,
    git_repository,
    git_server,
    given_automation,
    running,
    set_policy,
    wait_ready,
)
from tide.image.automation import IMAGE_UPDATE_AUTOMATION
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ControlPlane, GitServer

pytestmark = pytest.mark.integration


async def test_invalid_message_template_stalls_with_gos_error_and_commits_nothing(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"template-{namespace}"
    main = await given_automation(
        kube, namespace, git_server, repo, commit={"messageTemplate": "{{ .Changed | nope }}"}
    )
    obj = await wait_ready(kube, namespace, status="False")
    stalled = obj["status"]["conditions"][0]
    assert stalled["type"] == "Stalled" and stalled["reason"] == "InvalidTemplate"
    assert 'function "nope" not defined' in stalled["message"]
    assert git_server.head(repo) == main

    async def warned() -> bool:  # the event follows the status write
        events = await events_for(kube, namespace, "my-app")
        return any(e["type"] == "Warning" and e["reason"] == "InvalidTemplate" for e in events)

    await eventually(warned, what="a Warning event InvalidTemplate")


async def test_marker_naming_a_missing_policy_is_skipped_and_reported(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"missing-{namespace}"
    ghost = (
        "image:\n"
        f'  repository: ghcr.io/org/ghost # {{"$imagepolicy": "{namespace}:ghost:name"}}\n'
        f'  tag: "0.1" # {{"$imagepolicy": "{namespace}:pending:tag"}}\n'
    )
    git_server.create_repo(repo, {**files(namespace), "deploy/values.yaml": ghost})
    await git_repository(kube, namespace, git_server.http_url(repo))
    await set_policy(kube, namespace, "my-app", "1.0.1")
    await set_policy(kube, namespace, "pending", None)  # exists, has chosen nothing yet
    await create_automation(kube, namespace)
    obj = await wait_ready(kube, namespace, check=lambda o: o["status"].get("lastPushCommit"))
    message = obj["status"]["conditions"][0]["message"]
    assert message.startswith("repository up-to-date; skipped markers: ")
    assert f"values.yaml:2: ImagePolicy '{namespace}/ghost' not found" in message
    assert f"values.yaml:3: ImagePolicy '{namespace}/pending' has no latestRef yet" in message
    assert git_server.read(repo, "deploy/app.yaml") == deployment(namespace, "1.0.1")
    assert git_server.read(repo, "deploy/values.yaml") == ghost
    events = await events_for(kube, namespace, "my-app")
    assert any("ghost' not found" in e["message"] for e in events), events


def _stop_agent(home: Path) -> None:
    """Stop the agent gpg started for the keyring in ``home``: it must not outlive the test."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


def _gpg_key(home: Path, passphrase: str) -> str:
    """Make an ed25519 signing key in ``home``; return its armored secret key."""
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
    gpg += ["--passphrase", passphrase]
    subprocess.run([*gpg, "--quick-gen-key", "fluxcdbot <fluxcdbot@users.noreply.github.com>",
                    "ed25519", "sign", "never"], check=True, capture_output=True)  # fmt: skip
    exported = subprocess.run(
        [*gpg, "--armor", "--export-secret-keys"], check=True, capture_output=True
    )
    return exported.stdout.decode()


async def test_commits_are_signed_with_the_openpgp_key(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager, tmp_path: Path
) -> None:
    home = tmp_path / "gnupg"
    armored = _gpg_key(home, "s3cret")
    try:
        await _signed_commit_is_verified(kube, namespace, git_server, tmp_path, home, armored)
    finally:
        _stop_agent(home)


async def _signed_commit_is_verified(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    tmp_path: Path,
    home: Path,
    armored: str,
) -> None:
    await kube.create(resources.SECRET, {
        "metadata": {"name": "signing", "namespace": namespace},
        "data": {"git.asc": base64.b64encode(armored.encode()).decode(),
                 "passphrase": base64.b64encode(b"s3cret").decode()},
    })  # fmt: skip
    repo = f"signed-{namespace}"
    git_server.create_repo(repo, files(namespace))
    await git_repository(kube, namespace, git_server.http_url(repo))
    await set_policy(kube, namespace, "my-app", "1.0.1")
    await create_automation(
        kube, namespace, commit={"signingKey": {"secretRef": {"name": "signing"}}}
    )
    obj = await wait_ready(kube, namespace, check=lambda o: o["status"].get("lastPushCommit"))
    info = git_server.commit_info(repo)
    assert info["signed"] == "yes" and IMAGE in info["message"]
    verified = _verify(git_server.http_url(repo), obj["status"]["lastPushCommit"], tmp_path, home)
    assert verified.returncode == 0, verified.stderr
    assert "Good signature" in verified.stderr


def _verify(url: str, sha: str, tmp_path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Clone ``url`` and check ``sha``'s signature against the keyring in ``home``."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", url, str(clone)], check=True)
    return subprocess.run(
        ["git", "-C", str(clone), "verify-commit", sha],
        env={**os.environ, "GNUPGHOME": str(home)},
        capture_output=True,
        text=True,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def locked_down(
    control_plane: ControlPlane, crds: list[str], kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    """The controllers as ``--no-cross-namespace-refs`` sets them up."""
    async with running(
        control_plane, kube, namespace, tmp_path / "storage", no_cross_namespace_refs=True
    ) as manager:
        yield manager


async def test_source_in_another_namespace_is_refused_when_locked_down(
    kube: KubeClient, namespace: str, locked_down: Manager
) -> None:
    await kube.create(IMAGE_UPDATE_AUTOMATION, {
        "metadata": {"name": "my-app", "namespace": namespace},
        "spec": {
            "interval": "10m",
            "sourceRef": {"kind": "GitRepository", "name": "fleet", "namespace": "tenant-a"},
            "git": {"commit": {"author": {"email": "fluxcdbot@users.noreply.github.com"}}},
        },
    })  # fmt: skip
    obj = await wait_ready(kube, namespace, status="False")
    stalled = obj["status"]["conditions"][0]
    assert stalled["type"] == "Stalled" and stalled["reason"] == "AccessDenied"
    assert stalled["message"] == (
        "can't access 'GitRepository/tenant-a/fleet', cross-namespace references have been blocked"
    )
