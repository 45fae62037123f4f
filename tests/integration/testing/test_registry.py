"""The registry is real distribution: pushed artifacts and charts read back as Flux and Helm do."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import socket
import ssl
import tarfile
from collections.abc import Iterator
from pathlib import Path

import helm_python as helm
import httpx
import pytest
import yaml

from tide.testing import Registry, package_chart
from tide.testing._process import pid_alive

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def registry() -> Iterator[Registry]:
    server = Registry().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_registry() -> Iterator[Registry]:
    server = Registry(username="flux", password="s3cret").start()
    try:
        yield server
    finally:
        server.stop()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _client(registry: Registry) -> httpx.Client:
    auth = None
    if registry.username is not None and registry.password is not None:
        auth = httpx.BasicAuth(registry.username, registry.password)
    verify: ssl.SSLContext | bool = True
    if registry.ca_pem is not None:
        verify = ssl.create_default_context(cadata=registry.ca_pem.decode())
    return httpx.Client(base_url=registry.url, auth=auth, verify=verify, timeout=10.0)


def _fetch(registry: Registry, repository: str, tag: str) -> tuple[bytes, dict, bytes, bytes]:
    """Return the manifest bytes, the manifest, and its config and first layer blobs."""
    with _client(registry) as http:
        answer = http.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        answer.raise_for_status()
        manifest = answer.json()
        config = http.get(f"/v2/{repository}/blobs/{manifest['config']['digest']}")
        layer = http.get(f"/v2/{repository}/blobs/{manifest['layers'][0]['digest']}")
    return answer.content, manifest, config.content, layer.content


def test_a_pushed_artifact_reads_back_with_matching_digests(registry: Registry) -> None:
    files = {"deploy/app.yaml": "kind: ConfigMap\n", "kustomization.yaml": b"resources: []\n"}

    digest = registry.push_artifact(
        "manifests/app", "v1", files, annotations={"org.opencontainers.image.revision": "main@1"}
    )

    raw, manifest, config, layer = _fetch(registry, "manifests/app", "v1")
    assert _sha256(raw) == digest
    assert manifest["mediaType"] == OCI_MANIFEST
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.flux.config.v1+json"
    assert manifest["config"]["digest"] == _sha256(config)
    assert manifest["config"]["size"] == len(config)
    assert manifest["layers"][0]["mediaType"] == "application/vnd.cncf.flux.content.v1.tar+gzip"
    assert manifest["layers"][0]["digest"] == _sha256(layer)
    assert manifest["annotations"]["org.opencontainers.image.revision"] == "main@1"
    assert manifest["annotations"]["org.opencontainers.image.created"].endswith("Z")
    assert json.loads(config)["rootfs"]["diff_ids"] == [_sha256(gzip.decompress(layer))]
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:gz") as archive:
        assert archive.getnames() == ["deploy/app.yaml", "kustomization.yaml"]
        assert all(member.mtime == 0 for member in archive.getmembers())
        unpacked = archive.extractfile("deploy/app.yaml")
        assert unpacked is not None and unpacked.read() == b"kind: ConfigMap\n"


def test_the_same_files_always_make_the_same_layer(registry: Registry) -> None:
    files = {"b.yaml": "b: 1\n", "a.yaml": "a: 1\n"}
    registry.push_artifact("manifests/app", "v1", files)
    registry.push_artifact("manifests/app", "v2", dict(reversed(files.items())))

    first = _fetch(registry, "manifests/app", "v1")[1]
    second = _fetch(registry, "manifests/app", "v2")[1]

    assert first["layers"] == second["layers"]
    assert first["config"] == second["config"]


def test_tags_lists_every_pushed_tag(registry: Registry) -> None:
    assert registry.tags("manifests/app") == []

    for tag in ("v1", "v2", "latest"):
        registry.push_artifact("manifests/app", tag, {"app.yaml": f"tag: {tag}\n"})

    assert sorted(registry.tags("manifests/app")) == ["latest", "v1", "v2"]


def test_htpasswd_auth_refuses_anonymous_requests_and_accepts_the_credentials(
    private_registry: Registry,
) -> None:
    digest = private_registry.push_artifact("manifests/app", "v1", {"app.yaml": "a: 1\n"})

    anonymous = httpx.get(f"{private_registry.url}/v2/manifests/app/tags/list")
    wrong = httpx.get(f"{private_registry.url}/v2/", auth=("flux", "guess"))
    right = httpx.get(f"{private_registry.url}/v2/", auth=("flux", "s3cret"))

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert private_registry.tags("manifests/app") == ["v1"]
    assert _sha256(_fetch(private_registry, "manifests/app", "v1")[0]) == digest


def test_dockerconfigjson_carries_the_credentials_for_this_host(
    private_registry: Registry, registry: Registry
) -> None:
    config = json.loads(private_registry.dockerconfigjson())

    entry = config["auths"][private_registry.host]
    assert entry["username"] == "flux"
    assert entry["password"] == "s3cret"
    assert base64.b64decode(entry["auth"]) == b"flux:s3cret"
    assert json.loads(registry.dockerconfigjson()) == {"auths": {}}


def test_a_pushed_chart_pulls_and_loads_with_the_helm_sdk(
    private_registry: Registry, tmp_path: Path
) -> None:
    archive = package_chart("demo", "0.3.0", tmp_path / "src", values={"greeting": "salut"})

    digest = private_registry.push_chart("charts/demo", archive, "0.3.0")

    raw, manifest, _, layer = _fetch(private_registry, "charts/demo", "0.3.0")
    assert _sha256(raw) == digest
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert manifest["layers"][0]["mediaType"] == (
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    )
    assert layer == archive.read_bytes()
    (tmp_path / "pulled").mkdir()
    with helm.RegistryClient(
        plain_http=True, credentials_file=tmp_path / "helm-registry.json"
    ) as client:
        client.login(private_registry.host, "flux", "s3cret", plain_http=True)
        assert client.tags(f"oci://{private_registry.host}/charts/demo") == ["0.3.0"]
        client.pull(
            f"oci://{private_registry.host}/charts/demo",
            version="0.3.0",
            destination=tmp_path / "pulled",
            plain_http=True,
        )
    with helm.Chart.load(tmp_path / "pulled" / "demo-0.3.0.tgz") as chart:
        rendered = chart.render(name="web", namespace="apps")
    assert yaml.safe_load(rendered["demo/templates/configmap.yaml"])["data"]["greeting"] == "salut"


def test_push_chart_refuses_a_repository_or_version_helm_would_not_use(
    registry: Registry, tmp_path: Path
) -> None:
    archive = package_chart("demo", "0.3.0", tmp_path)

    with pytest.raises(ValueError, match="ending in 'demo'"):
        registry.push_chart("charts/other", archive, "0.3.0")
    with pytest.raises(ValueError, match=r"not 9\.9\.9"):
        registry.push_chart("charts/demo", archive, "9.9.9")


def test_tls_serves_clients_that_trust_the_ca_and_only_them(tmp_path: Path) -> None:
    server = Registry(username="flux", password="s3cret", tls=True).start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        digest = server.push_artifact("manifests/app", "v1", {"app.yaml": "a: 1\n"})
        archive = package_chart("demo", "0.1.0", tmp_path)
        server.push_chart("charts/demo", archive, "0.1.0")

        assert _sha256(_fetch(server, "manifests/app", "v1")[0]) == digest
        assert server.tags("charts/demo") == ["0.1.0"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{server.url}/v2/")
    finally:
        server.stop()


def test_stop_leaves_nothing_listening_and_nothing_on_disk() -> None:
    server = Registry().start()
    server.push_artifact("manifests/app", "v1", {"app.yaml": "a: 1\n"})
    port = int(server.host.rsplit(":", 1)[1])
    assert server._process is not None and server._root is not None
    pid, folder = server._process.pid, server._root

    server.stop()

    assert not pid_alive(pid)
    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
