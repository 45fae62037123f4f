"""GitRepository bad input: a reason, an event and a retry for each; the old artifact stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.helpers import assert_kstatus, eventually
from tests.integration.source.conftest import (
    PASSWORD,
    USER,
    condition,
    create_git_repository,
    create_secret,
    wait_condition,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY, SourceRuntime
from tide.testing import GitServer
from tide.testing._process import free_port

pytestmark = pytest.mark.integration


async def failing(
    kube: KubeClient,
    namespace: str,
    name: str,
    reason: str,
    *,
    fragment: str,
    first_generation: bool = True,
) -> dict[str, Any]:
    """Wait for Ready=False with ``reason``; check FetchFailed, the event and the message."""
    obj = await wait_condition(kube, namespace, name, status="False", reason=reason)
    ready = condition(obj, "Ready")
    assert fragment in ready["message"], ready["message"]
    failed = condition(obj, "FetchFailed") or condition(obj, "IncludeUnavailable")
    assert failed is not None and failed["status"] == "True" and failed["reason"] == reason
    if first_generation:  # still in progress for kstatus: it never succeeded
        assert condition(obj, "Reconciling")["reason"] == "ProgressingWithRetry"
    else:  # a settled generation failing later is just Ready=False, as in Flux
        assert condition(obj, "Reconciling") is None
    assert_kstatus(obj)

    async def warned() -> bool:  # the event is recorded just after the status write
        events, _ = await kube.list(resources.EVENT, namespace=namespace)
        return any(
            e["involvedObject"]["name"] == name and e["type"] == "Warning" and e["reason"] == reason
            for e in events
        )

    await eventually(warned, timeout=10, what=f"a Warning event with reason {reason}")
    return obj


async def test_unreachable_host(
    kube: KubeClient, namespace: str, source_controller: tuple[Manager, SourceRuntime]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/nothing.git"
    await create_git_repository(kube, namespace, "app", {"url": url})
    await failing(kube, namespace, "app", "GitOperationFailed", fragment="127.0.0.1")


async def test_timeout_is_reported_with_the_spec_value(
    kube: KubeClient,
    namespace: str,
    source_controller: tuple[Manager, SourceRuntime],
    silent_port: int,
) -> None:
    url = f"http://127.0.0.1:{silent_port}/slow.git"
    await create_git_repository(kube, namespace, "app", {"url": url, "timeout": "1s"})
    await failing(
        kube, namespace, "app", "GitOperationFailed", fragment="timed out after 1s (spec.timeout)"
    )


async def test_missing_secret(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"nosecret-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "absent"},
    })  # fmt: skip
    await failing(
        kube,
        namespace,
        "app",
        "AuthenticationFailed",
        fragment=f"Secret '{namespace}/absent' (spec.secretRef) not found",
    )


async def test_ssh_secret_without_identity_names_the_key(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    await create_secret(kube, namespace, "half", {"known_hosts": git_server.known_hosts})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.ssh_url("whatever"), "secretRef": {"name": "half"},
    })  # fmt: skip
    await failing(
        kube,
        namespace,
        "app",
        "AuthenticationFailed",
        fragment="key 'identity' is required for an SSH URL",
    )


async def test_wrong_password_keeps_the_previous_artifact_served(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"rotate-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
    })  # fmt: skip
    good = await wait_condition(kube, namespace, "app", status="True")
    artifact = good["status"]["artifact"]

    await kube.delete(resources.SECRET, "creds", namespace=namespace)
    await create_secret(
        kube, namespace, "creds", {"username": USER, "password": "Zq9-n0t-the-pa55"}
    )
    await kube.patch_merge(GIT_REPOSITORY, "app", {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "rotate"}}}, namespace=namespace)  # fmt: skip
    obj = await failing(
        kube,
        namespace,
        "app",
        "AuthenticationFailed",
        fragment="the server refused the credentials",
        first_generation=False,
    )
    assert obj["status"]["artifact"] == artifact
    async with httpx.AsyncClient() as http:
        assert (await http.get(artifact["url"])).status_code == 200
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    assert "Zq9-n0t-the-pa55" not in str(obj) + str(events)
    assert PASSWORD not in str(obj) + str(events)


async def test_unknown_branch(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"branchless-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
        "ref": {"branch": "nope"},
    })  # fmt: skip
    await failing(
        kube, namespace, "app", "GitOperationFailed", fragment="couldn't find remote branch 'nope'"
    )


async def test_no_ref_on_a_repository_without_master_names_the_branch(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"mainonly-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})  # only main, which HEAD names
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"}, "ref": None,
    })  # fmt: skip
    obj = await failing(
        kube,
        namespace,
        "app",
        "GitOperationFailed",
        fragment="couldn't find remote branch 'master'",
    )
    assert "set spec.ref.branch" in condition(obj, "Ready")["message"]


async def test_no_tag_matches_the_semver_range(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"semverless-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    git_server.tag(repo, "v1.0.0")
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
        "ref": {"semver": ">=2.0.0"},
    })  # fmt: skip
    await failing(
        kube,
        namespace,
        "app",
        "GitOperationFailed",
        fragment="no tag matches semver range '>=2.0.0'",
    )


async def test_invalid_semver_range_stalls_without_retrying(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"badrange-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
        "ref": {"semver": ">=>1"},
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="False", reason="InvalidConfig")
    assert condition(obj, "Stalled")["status"] == "True"
    assert condition(obj, "Reconciling") is None
    assert "invalid spec.ref.semver" in condition(obj, "Ready")["message"]


async def test_missing_include(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"incl-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a\n"})
    await create_secret(kube, namespace, "creds", {"username": USER, "password": PASSWORD})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "creds"},
        "include": [{"repository": {"name": "ghost"}}],
    })  # fmt: skip
    await failing(
        kube,
        namespace,
        "app",
        "IncludeUnavailable",
        fragment=f"GitRepository '{namespace}/ghost' (spec.include[0]) not found",
    )
