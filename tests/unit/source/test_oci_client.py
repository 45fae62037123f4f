"""The registry client authenticates, paginates and verifies as go-containerregistry does.

The network is replaced by ``httpx.MockTransport`` handlers that answer like distribution (and
like a token service); the real registry is exercised by the integration tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tide.source.oci.auth import RegistryCredentials
from tide.source.oci.client import (
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
)
from tide.source.oci.manifest import Descriptor
from tide.source.oci.refs import Repository

pytestmark = pytest.mark.unit

REPO = Repository("reg.example.com", "team/app")
LAYER = b"layer bytes"
LAYER_DIGEST = "sha256:" + hashlib.sha256(LAYER).hexdigest()
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "layers": [{"mediaType": "application/x-tar", "digest": LAYER_DIGEST, "size": len(LAYER)}],
    "annotations": {"org.opencontainers.image.revision": "main@sha1:abc"},
}).encode()  # fmt: skip
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
BASIC = "Basic " + base64.b64encode(b"flux:s3cret").decode()
CREDENTIALS = RegistryCredentials(username="flux", password="s3cret")

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **options: object) -> RegistryClient:
    return RegistryClient(REPO, transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def manifest_response(request: httpx.Request) -> httpx.Response:
    headers = {"Docker-Content-Digest": MANIFEST_DIGEST}
    return httpx.Response(200, content=MANIFEST, headers=headers)


async def test_a_bearer_challenge_is_answered_with_a_token_fetched_with_basic_credentials() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("Authorization")))
        if request.url.host == "auth.example.com":
            assert request.headers["Authorization"] == BASIC
            assert request.url.params["scope"] == "repository:team/app:pull"
            assert request.url.params["service"] == "reg"
            return httpx.Response(200, json={"token": "t0k"})
        if request.headers.get("Authorization") != "Bearer t0k":
            challenge = 'Bearer realm="https://auth.example.com/token",service="reg"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return manifest_response(request)

    async with client(handler, credentials=CREDENTIALS) as registry:
        assert await registry.resolve("v1") == MANIFEST_DIGEST
        assert await registry.resolve("v2") == MANIFEST_DIGEST
    # The token is fetched once and reused for the next call.
    assert [url for url, _ in seen] == [
        "https://reg.example.com/v2/team/app/manifests/v1",
        "https://auth.example.com/token?scope=repository%3Ateam%2Fapp%3Apull&service=reg",
        "https://reg.example.com/v2/team/app/manifests/v1",
        "https://reg.example.com/v2/team/app/manifests/v2",
    ]


async def test_a_basic_challenge_is_answered_with_the_username_and_password() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != BASIC:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        return manifest_response(request)

    async with client(handler, credentials=CREDENTIALS) as registry:
        assert await registry.resolve("v1") == MANIFEST_DIGEST


async def test_anonymous_access_to_a_private_registry_says_credentials_are_needed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    async with client(handler) as registry:
        with pytest.raises(RegistryAuthError, match="requires authentication and no credentials"):
            await registry.resolve("v1")


async def test_refused_credentials_are_reported_without_the_password() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    async with client(handler, credentials=CREDENTIALS) as registry:
        with pytest.raises(RegistryAuthError, match="refused the credentials") as caught:
            await registry.resolve("v1")
    assert "s3cret" not in str(caught.value)
    assert calls == 2  # one anonymous try, one with the credentials, no loop


async def test_a_token_service_that_refuses_the_credentials_is_an_auth_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            return httpx.Response(401)
        challenge = 'Bearer realm="https://auth.example.com/token"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    async with client(handler, credentials=CREDENTIALS) as registry:
        with pytest.raises(RegistryAuthError, match="refused the credentials"):
            await registry.list_tags()


async def test_a_head_without_a_digest_falls_back_to_get_and_hashes_the_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(200)
        return httpx.Response(200, content=MANIFEST)

    async with client(handler) as registry:
        assert await registry.resolve("v1") == MANIFEST_DIGEST


async def test_an_unknown_tag_is_not_found_with_the_registry_error_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
        return httpx.Response(404, json=body)

    async with client(handler) as registry:
        with pytest.raises(
            RegistryNotFound, match=r"tag 'nope' not found in 'reg\.example\.com/team/app'"
        ):
            await registry.resolve("nope")


async def test_tags_are_listed_across_link_pages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "last" not in request.url.params:
            link = '</v2/team/app/tags/list?last=b&n=2>; rel="next"'
            return httpx.Response(200, json={"tags": ["a", "b"]}, headers={"Link": link})
        return httpx.Response(200, json={"tags": ["c"]})

    async with client(handler) as registry:
        assert await registry.list_tags() == ["a", "b", "c"]


async def test_a_manifest_served_under_another_digest_is_refused() -> None:
    async with client(manifest_response) as registry:
        with pytest.raises(RegistryError, match="served with a different digest"):
            await registry.manifest("sha256:" + "0" * 64)
        manifest = await registry.manifest(MANIFEST_DIGEST)
    assert manifest.layers == (Descriptor("application/x-tar", LAYER_DIGEST, len(LAYER)),)
    assert manifest.annotations == {"org.opencontainers.image.revision": "main@sha1:abc"}


async def test_an_index_is_followed_to_its_linux_amd64_manifest() -> None:
    arm = {"os": "linux", "architecture": "arm64"}
    amd = {"os": "linux", "architecture": "amd64"}
    index = json.dumps({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"digest": "sha256:" + "1" * 64, "size": 1, "platform": arm},
            {"digest": MANIFEST_DIGEST, "size": len(MANIFEST), "platform": amd},
        ],
    }).encode()  # fmt: skip
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(index_digest):
            return httpx.Response(200, content=index)
        return manifest_response(request)

    async with client(handler) as registry:
        manifest = await registry.manifest(index_digest)
    assert manifest.digest == MANIFEST_DIGEST


@pytest.mark.parametrize(
    ("served", "message"),
    [
        (b"other bytes", "was served with digest"),
        (LAYER + b"more", "larger than the 11 bytes declared"),
    ],
)
async def test_a_blob_that_does_not_match_its_descriptor_is_refused(
    tmp_path: Path, served: bytes, message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served)

    blob = Descriptor("application/x-tar", LAYER_DIGEST, len(LAYER))
    async with client(handler) as registry:
        with pytest.raises(RegistryError, match=message):
            await registry.download(blob, tmp_path / "blob")


async def test_a_blob_is_written_when_it_matches(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/v2/team/app/blobs/{LAYER_DIGEST}"
        return httpx.Response(200, content=LAYER)

    async with client(handler) as registry:
        await registry.download(Descriptor("x", LAYER_DIGEST, len(LAYER)), tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == LAYER


async def test_an_insecure_registry_without_tls_is_reached_over_plain_http() -> None:
    schemes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        schemes.append(request.url.scheme)
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return manifest_response(request)

    async with client(handler, insecure=True) as registry:
        assert await registry.resolve("v1") == MANIFEST_DIGEST
        assert await registry.resolve("v2") == MANIFEST_DIGEST
    assert schemes == ["https", "http", "http"]  # the answer is remembered


async def test_a_secure_registry_is_never_tried_over_plain_http() -> None:
    schemes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        schemes.append(request.url.scheme)
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    async with client(handler) as registry:
        with pytest.raises(RegistryError, match=r"cannot connect to 'https://reg\.example\.com'"):
            await registry.resolve("v1")
    assert schemes == ["https"]
