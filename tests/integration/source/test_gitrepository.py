"""GitRepository against a real Git server and a real API server: every ref kind and credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.helpers import assert_kstatus, eventually, reconcile_count, settled
from tests.integration.source.conftest import (
    PASSWORD,
    TOKEN,
    USER,
    condition,
    create_git_repository,
    create_secret,
    wait_condition,
)
from tide.artifacts import fetch_artifact
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY, SourceRuntime
from tide.testing import GitServer

pytestmark = pytest.mark.integration

FILES = {
    "deploy/app.yaml": "kind: ConfigMap\n",
    "README.md": "# demo\n",
    ".github/workflows/ci.yaml": "on: push\n",
    "logo.png": b"\x89PNG",
    "docs/.sourceignore": "*.txt\n",
    "docs/notes.txt": "ignored by docs/.sourceignore\n",
    "docs/guide.md": "kept\n",
}


async def artifact_files(obj: dict[str, Any], tmp_path: Path) -> set[str]:
    """Download the published artifact (digest verified) and list its files."""
    artifact = obj["status"]["artifact"]
    destination = tmp_path / f"unpacked-{artifact['digest'][7:19]}"
    await fetch_artifact(artifact["url"], artifact["digest"], destination)
    return {p.relative_to(destination).as_posix() for p in destination.rglob("*") if p.is_file()}


@pytest.fixture
async def basic_auth(kube: KubeClient, namespace: str) -> str:
    await create_secret(kube, namespace, "git-basic", {"username": USER, "password": PASSWORD})
    return "git-basic"


async def test_branch_over_http_with_basic_auth_publishes_a_verifiable_artifact(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
    tmp_path: Path,
) -> None:
    repo = f"app-{namespace[-8:]}"
    commit = git_server.create_repo(repo, FILES, message="first release")
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "ref": {"branch": "main"},
        "secretRef": {"name": basic_auth},
    })  # fmt: skip

    obj = await wait_condition(kube, namespace, "app", status="True", reason="Succeeded")
    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == f"main@sha1:{commit}"
    assert artifact["path"].startswith(f"gitrepository/{namespace}/app/")
    assert artifact["digest"].startswith("sha256:") and artifact["size"] > 0
    assert (
        condition(obj, "Ready")["message"] == f"stored artifact for revision 'main@sha1:{commit}'"
    )
    assert condition(obj, "ArtifactInStorage")["status"] == "True"
    assert_kstatus(obj)
    # Default exclusions and docs/.sourceignore apply (the ignore file itself is kept, as Flux
    # keeps it); everything else is there.
    assert await artifact_files(obj, tmp_path) == {
        "deploy/app.yaml", "README.md", "docs/guide.md", "docs/.sourceignore",
    }  # fmt: skip

    async def announced() -> list[dict[str, Any]]:  # recorded just after the status write
        events, _ = await kube.list(resources.EVENT, namespace=namespace)
        return [e for e in events if e["reason"] == "NewArtifact"]

    new = await eventually(announced, timeout=10, what="the NewArtifact event")
    assert new[0]["message"] == "stored artifact for commit 'first release'"
    events, _ = await kube.list(resources.EVENT, namespace=namespace)
    assert PASSWORD not in str(obj) + str(events)


async def test_a_pushed_commit_becomes_a_new_artifact_at_once_on_request(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
) -> None:
    _, runtime = source_controller
    repo = f"push-{namespace[-8:]}"
    git_server.create_repo(repo, {"a.yaml": "a: 1\n"})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth},
    })  # fmt: skip
    first = await wait_condition(kube, namespace, "app", status="True")
    old_url = first["status"]["artifact"]["url"]

    second_commit = git_server.commit(repo, {"a.yaml": "a: 2\n"}, message="bump")
    await kube.patch_merge(GIT_REPOSITORY, "app", {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "now-1"}}}, namespace=namespace)  # fmt: skip

    async def updated() -> dict[str, Any] | None:
        obj = await kube.get(GIT_REPOSITORY, "app", namespace=namespace)
        revision = obj["status"].get("artifact", {}).get("revision")
        return obj if revision == f"main@sha1:{second_commit}" else None

    obj = await eventually(updated, timeout=10, what="the new commit's artifact")
    assert obj["status"]["lastHandledReconcileAt"] == "now-1"
    # The previous artifact is retained (retention 2) for consumers still reading it.
    async with httpx.AsyncClient() as http:
        assert (await http.get(old_url)).status_code == 200
        assert (await http.get(obj["status"]["artifact"]["url"])).status_code == 200
    assert runtime.storage.exists(obj["status"]["artifact"])


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"branch": "release"}, "release@sha1:{release}"),
        ({"branch": "main", "tag": "v1.0.0"}, "v1.0.0@sha1:{v100}"),
        ({"tag": "v1.0.0", "semver": ">=1.0.0 <2.0.0"}, "v1.1.0@sha1:{v110}"),
        ({"semver": "^2.0.0", "name": "refs/heads/release"}, "refs/heads/release@sha1:{release}"),
        ({"name": "refs/tags/v1.0.0", "commit": "{first}"}, "sha1:{first}"),
        ({"branch": "main", "commit": "{first}"}, "main@sha1:{first}"),
    ],
    ids=[
        "branch",
        "tag-over-branch",
        "semver-over-tag",
        "name-over-semver",
        "commit-over-all",
        "branch-and-commit",
    ],
)
async def test_ref_follows_flux_precedence(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
    ref: dict[str, str],
    expected: str,
) -> None:
    repo = f"refs-{namespace[-8:]}"
    shas = {"first": git_server.create_repo(repo, {"v": "0\n"})}
    shas["v100"] = git_server.commit(repo, {"v": "1.0\n"})
    git_server.tag(repo, "v1.0.0", annotated=True)
    shas["v110"] = git_server.commit(repo, {"v": "1.1\n"})
    git_server.tag(repo, "v1.1.0")
    shas["main"] = git_server.commit(repo, {"v": "2.0-dev\n"})
    shas["release"] = git_server.commit(repo, {"v": "release\n"}, branch="release")
    spec_ref = {k: v.format(**shas) for k, v in ref.items()}
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth}, "ref": spec_ref,
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert obj["status"]["artifact"]["revision"] == expected.format(**shas)


async def test_no_ref_follows_master_as_flux_does_not_the_remote_head(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
) -> None:
    repo = f"heads-{namespace[-8:]}"
    git_server.create_repo(repo, {"v": "main\n"})  # the remote's HEAD names main
    master = git_server.commit(repo, {"v": "master\n"}, branch="master")
    main = git_server.commit(repo, {"v": "main, later\n"})
    assert master != main
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth}, "ref": None,
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert "ref" not in obj["spec"]
    assert obj["status"]["artifact"]["revision"] == f"master@sha1:{master}"
    assert condition(obj, "Ready")["message"] == (
        f"stored artifact for revision 'master@sha1:{master}'"
    )


async def test_ssh_with_identity_and_known_hosts(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"ssh-{namespace[-8:]}"
    commit = git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    private_key, _ = git_server.client_key()
    await create_secret(
        kube, namespace, "git-ssh", {"identity": private_key, "known_hosts": git_server.known_hosts}
    )
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.ssh_url(repo), "secretRef": {"name": "git-ssh"},
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert obj["status"]["artifact"]["revision"] == f"main@sha1:{commit}"


async def test_ssh_with_an_unknown_host_key_is_refused(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"sshbad-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    private_key, _ = git_server.client_key()
    wrong = git_server.known_hosts.rsplit(" ", 1)[0] + " AAAAC3NzaC1lZDI1NTE5AAAAIOVIlN5TJ"
    wrong += "2Su7VtD1e1h+Tz3JvvJRL2y7o8hQh8f9QwQ"
    await create_secret(kube, namespace, "git-ssh", {"identity": private_key, "known_hosts": wrong})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.ssh_url(repo), "secretRef": {"name": "git-ssh"},
    })  # fmt: skip
    obj = await wait_condition(
        kube, namespace, "app", status="False", reason="AuthenticationFailed"
    )
    assert "Host key verification failed" in condition(obj, "Ready")["message"]
    assert private_key.strip().splitlines()[1] not in str(obj)


async def test_bearer_token(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    repo = f"token-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    await create_secret(kube, namespace, "git-token", {"bearerToken": TOKEN})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": "git-token"},
    })  # fmt: skip
    await wait_condition(kube, namespace, "app", status="True")


async def test_https_with_a_ca_from_the_secret(
    kube: KubeClient,
    namespace: str,
    source_controller: tuple[Manager, SourceRuntime],
) -> None:
    with GitServer(tls=True) as server:
        repo = f"tls-{namespace[-8:]}"
        server.create_repo(repo, {"app.yaml": "x: 1\n"})
        assert server.ca_pem is not None
        await create_git_repository(kube, namespace, "untrusted", {"url": server.http_url(repo)})
        await wait_condition(
            kube, namespace, "untrusted", status="False", reason="GitOperationFailed"
        )
        await create_secret(kube, namespace, "git-ca", {"ca.crt": server.ca_pem})
        await create_git_repository(kube, namespace, "trusted", {
            "url": server.http_url(repo), "secretRef": {"name": "git-ca"},
        })  # fmt: skip
        await wait_condition(kube, namespace, "trusted", status="True")


async def test_spec_ignore_overrides_defaults_and_sourceignore(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
    tmp_path: Path,
) -> None:
    repo = f"ignore-{namespace[-8:]}"
    git_server.create_repo(repo, FILES)
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth},
        "ignore": "/*\n!/deploy\n!/docs\n!*.txt\n",
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert await artifact_files(obj, tmp_path) == {
        "deploy/app.yaml", "docs/guide.md", "docs/notes.txt", "docs/.sourceignore",
    }  # fmt: skip
    assert obj["status"]["observedIgnore"] == "/*\n!/deploy\n!/docs\n!*.txt\n"


async def test_include_copies_another_repository_and_follows_its_changes(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
    tmp_path: Path,
) -> None:
    shared, app = f"shared-{namespace[-8:]}", f"main-{namespace[-8:]}"
    git_server.create_repo(shared, {"deploy/base/cm.yaml": "v: 1\n", "other.yaml": "o\n"})
    git_server.create_repo(app, {"app.yaml": "x: 1\n"})
    await create_git_repository(kube, namespace, "shared", {
        "url": git_server.http_url(shared), "secretRef": {"name": basic_auth},
    })  # fmt: skip
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(app), "secretRef": {"name": basic_auth},
        "include": [{"repository": {"name": "shared"}, "fromPath": "deploy", "toPath": "vendor"}],
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert await artifact_files(obj, tmp_path) == {"app.yaml", "vendor/base/cm.yaml"}
    first_digest = obj["status"]["artifact"]["digest"]
    assert obj["status"]["includedArtifacts"][0]["revision"].startswith("main@sha1:")

    git_server.commit(shared, {"deploy/base/cm.yaml": "v: 2\n"})
    await kube.patch_merge(GIT_REPOSITORY, "shared", {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "bump"}}}, namespace=namespace)  # fmt: skip

    async def rebuilt() -> dict[str, Any] | None:
        current = await kube.get(GIT_REPOSITORY, "app", namespace=namespace)
        return current if current["status"]["artifact"]["digest"] != first_digest else None

    obj = await eventually(rebuilt, timeout=15, what="the including repository to rebuild")
    destination = tmp_path / "after"
    artifact = obj["status"]["artifact"]
    await fetch_artifact(artifact["url"], artifact["digest"], destination)
    assert (destination / "vendor/base/cm.yaml").read_text() == "v: 2\n"


async def test_recurse_submodules(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
    tmp_path: Path,
) -> None:
    lib, app = f"lib-{namespace[-8:]}", f"sub-{namespace[-8:]}"
    git_server.create_repo(lib, {"lib.yaml": "lib: true\n"})
    git_server.create_repo(app, {"app.yaml": "x: 1\n"})
    git_server.add_submodule(app, "vendor/lib", lib)
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(app), "secretRef": {"name": basic_auth},
        "recurseSubmodules": True,
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    assert await artifact_files(obj, tmp_path) == {"app.yaml", "vendor/lib/lib.yaml"}
    assert obj["status"]["observedRecurseSubmodules"] is True


async def test_unchanged_revision_clones_nothing_and_writes_nothing(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
) -> None:
    manager, runtime = source_controller
    repo = f"idle-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth}, "interval": "1s",
    })  # fmt: skip
    await wait_condition(kube, namespace, "app", status="True")
    quiet = await settled(kube, manager, GIT_REPOSITORY, namespace, "app")
    writes = manager.client.total_writes(namespace=namespace)
    fetches = runtime.remotes.calls["fetch"]
    checks = runtime.remotes.calls["ls-remote"]
    reconciles = reconcile_count("GitRepository", namespace, "app")

    async def two_more() -> bool:
        return reconcile_count("GitRepository", namespace, "app") >= reconciles + 2

    await eventually(two_more, timeout=20, what="two interval reconciles")
    after = await settled(kube, manager, GIT_REPOSITORY, namespace, "app")
    assert runtime.remotes.calls["ls-remote"] > checks  # it did look at the remote
    assert runtime.remotes.calls["fetch"] == fetches
    assert manager.client.total_writes(namespace=namespace) == writes, manager.client.writes
    assert after["metadata"]["resourceVersion"] == quiet["metadata"]["resourceVersion"]


async def test_many_objects_on_one_repository_share_one_clone(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
) -> None:
    _, runtime = source_controller
    repo = f"shared-clone-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    fetches, builds = runtime.remotes.calls["fetch"], runtime.archives.builds
    for index in range(8):
        await create_git_repository(kube, namespace, f"app-{index}", {
            "url": git_server.http_url(repo), "secretRef": {"name": basic_auth},
        })  # fmt: skip
    for index in range(8):
        await wait_condition(kube, namespace, f"app-{index}", status="True")
    assert runtime.remotes.calls["fetch"] == fetches + 1
    assert runtime.archives.builds == builds + 1


async def test_deleting_the_object_removes_its_artifacts(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    source_controller: tuple[Manager, SourceRuntime],
    basic_auth: str,
) -> None:
    _, runtime = source_controller
    repo = f"gone-{namespace[-8:]}"
    git_server.create_repo(repo, {"app.yaml": "x: 1\n"})
    await create_git_repository(kube, namespace, "app", {
        "url": git_server.http_url(repo), "secretRef": {"name": basic_auth},
    })  # fmt: skip
    obj = await wait_condition(kube, namespace, "app", status="True")
    stored = runtime.storage.local_path(obj["status"]["artifact"]["path"])
    assert stored.is_file()
    await kube.delete(GIT_REPOSITORY, "app", namespace=namespace)

    async def removed() -> bool:
        return (
            not stored.exists()
            and await kube.get_or_none(GIT_REPOSITORY, "app", namespace=namespace) is None
        )

    await eventually(removed, what="the artifact and the object to be gone")
