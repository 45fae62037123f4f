"""The automation clones and pushes through the GitRepository's proxy (``spec.proxySecretRef``)."""

# The shared fixtures are imported, and a test naming one as a parameter "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

import base64
import http.client
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.image.automation_common import (  # noqa: F401 (fixtures)
    controllers,
    create_automation,
    files,
    git_server,
    set_policy,
    wait_ready,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration

_CREDENTIALS = "Basic " + base64.b64encode(b"proxy-user:proxy-pass").decode()


class _ForwardProxy(ThreadingHTTPServer):
    """A plain-HTTP forward proxy that asks for Basic credentials and records what it forwards."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.forwarded: list[str] = []


class _Forward(BaseHTTPRequestHandler):
    server: _ForwardProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        if self.headers.get("Proxy-Authorization") != _CREDENTIALS:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(self.command, path, body=body or None, headers=headers)
        response = upstream.getresponse()
        content = response.read()
        self.server.forwarded.append(f"{self.command} {target.path}")
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()


@pytest.fixture
def forward_proxy() -> Iterator[_ForwardProxy]:
    server = _ForwardProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_clone_and_push_go_through_the_gitrepositorys_proxy(
    kube: KubeClient,
    namespace: str,
    git_server: GitServer,
    controllers: Manager,
    forward_proxy: _ForwardProxy,
) -> None:
    repo = f"proxy-{namespace}"
    git_server.create_repo(repo, files(namespace))
    address = f"http://127.0.0.1:{forward_proxy.server_address[1]}"
    data = {"address": address, "username": "proxy-user", "password": "proxy-pass"}
    await kube.create(resources.SECRET, {
        "metadata": {"name": "proxy", "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    })  # fmt: skip
    await kube.create(GIT_REPOSITORY, {
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {"interval": "10m", "url": git_server.http_url(repo), "ref": {"branch": "main"},
                 "proxySecretRef": {"name": "proxy"}},
    })  # fmt: skip
    await set_policy(kube, namespace, "my-app", "1.0.1")
    await create_automation(kube, namespace)
    obj = await wait_ready(kube, namespace, check=lambda o: o["status"].get("lastPushCommit"))
    assert git_server.head(repo) == obj["status"]["lastPushCommit"]
    assert f"POST /{repo}.git/git-upload-pack" in forward_proxy.forwarded
    assert f"POST /{repo}.git/git-receive-pack" in forward_proxy.forwarded
