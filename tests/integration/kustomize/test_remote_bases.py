"""``--no-remote-bases``: a kustomization that fetches anything from outside the artifact is
refused before the build; without the flag remote resources are fetched as kustomize does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.helpers import events_for, eventually
from tests.integration.kustomize.common import (
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration

REMOTE_CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  from: http\n"
LOCAL_CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\ndata:\n  from: git\n"


@dataclass
class ManifestServer:
    """A loopback HTTP server with one manifest, remembering every path asked for."""

    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def manifest_server() -> Iterator[ManifestServer]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = REMOTE_CONFIG.encode()
            self.send_response(200 if self.path == "/remote.yaml" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ManifestServer(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def app_files(*references: str) -> dict[str, str]:
    listed = "".join(f"  - {reference}\n" for reference in ("local.yaml", *references))
    return {"app/kustomization.yaml": f"resources:\n{listed}", "app/local.yaml": LOCAL_CONFIG}


async def test_a_remote_resource_is_fetched_and_applied_without_the_flag(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    manifest_server: ManifestServer,
    controllers: Manager,
) -> None:
    repo = f"remote-{namespace[-8:]}"
    git_server.create_repo(repo, app_files(f"{manifest_server.url}/remote.yaml"))
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})

    await wait_for(kube, namespace, "app", status="True")
    remote = await kube.get(resources.CONFIG_MAP, "remote", namespace=namespace)
    assert remote["data"] == {"from": "http"}
    assert "/remote.yaml" in manifest_server.requests


async def test_remote_bases_are_refused_before_the_build_with_the_flag(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    manifest_server: ManifestServer,
    controllers_without_remote_bases: Manager,
) -> None:
    repo = f"noremote-{namespace[-8:]}"
    url = f"{manifest_server.url}/remote.yaml"
    git_server.create_repo(repo, app_files(url))
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "app", {"path": "./app"})

    failed = await wait_for(kube, namespace, "app", status="False", reason="BuildFailed")
    assert ready_condition(failed)["message"] == (
        f"app/kustomization.yaml: resources entry '{url}' is remote: "
        "remote bases are not allowed (--no-remote-bases)"
    )
    assert await kube.get_or_none(resources.CONFIG_MAP, "local", namespace=namespace) is None

    # A Git base over the same loopback server is refused just the same.
    git_base = f"git::{manifest_server.url}/org/repo.git//base?ref=main"
    git_server.commit(repo, app_files(git_base))
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "git-base")

    async def refused_git_base() -> str | None:
        obj = await wait_for(kube, namespace, "app", status="False", reason="BuildFailed")
        message = ready_condition(obj)["message"]
        return message if git_base in message else None

    message = await eventually(refused_git_base, what="the git:: base to be refused")
    assert message == (
        f"app/kustomization.yaml: resources entry '{git_base}' is remote: "
        "remote bases are not allowed (--no-remote-bases)"
    )
    # So is a patch kustomize would download.
    patch_url = f"{manifest_server.url}/patch.yaml"
    git_server.commit(repo, {
        **app_files(),
        "app/kustomization.yaml": f"resources:\n  - local.yaml\npatches:\n  - path: {patch_url}\n",
    })  # fmt: skip
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "remote-patch")

    async def refused_patch() -> str | None:
        obj = await wait_for(kube, namespace, "app", status="False", reason="BuildFailed")
        message = ready_condition(obj)["message"]
        return message if patch_url in message else None

    assert await eventually(refused_patch, what="the remote patch to be refused") == (
        f"app/kustomization.yaml: patches[].path entry '{patch_url}' is remote: "
        "remote bases are not allowed (--no-remote-bases)"
    )
    warnings = [e for e in await events_for(kube, namespace, "app") if e["type"] == "Warning"]
    assert any("remote bases are not allowed" in e["message"] for e in warnings)
    assert manifest_server.requests == []
    assert await kube.get_or_none(resources.CONFIG_MAP, "local", namespace=namespace) is None
