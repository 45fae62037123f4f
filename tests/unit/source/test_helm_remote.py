"""Size limits, where credentials may go, and registry credentials from Secrets."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from tide.source.helm.chartbuild import revision_metadata
from tide.source.helm.oci import credentials_from_secret
from tide.source.helm.remote import ClientOptions, FetchError, read_limited, redact

pytestmark = pytest.mark.unit


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class Endless:
    """An endless body: read_limited must stop on its own."""

    def __init__(self) -> None:
        self.read = 0

    def __aiter__(self) -> Endless:
        return self

    async def __anext__(self) -> bytes:
        self.read += 1
        return b"x" * 1024


async def test_a_body_within_the_limit_is_returned_whole() -> None:
    assert await read_limited(chunks(b"ab", b"cd"), limit=4, message="too big") == b"abcd"


async def test_a_body_over_the_limit_fails_with_the_message() -> None:
    with pytest.raises(FetchError, match="index exceeds") as caught:
        await read_limited(chunks(b"ab", b"cde"), limit=4, message="index exceeds")

    assert caught.value.reason == "Failed"


async def test_reading_stops_at_the_limit_even_for_an_endless_body() -> None:
    body = Endless()

    with pytest.raises(FetchError):
        await read_limited(body, limit=10 * 1024, message="too big")

    assert body.read == 11


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("http://charts.example:8080/demo.tgz", True),
        ("http://charts.example:9090/demo.tgz", False),
        ("https://charts.example:8080/demo.tgz", False),
        ("http://cdn.example/demo.tgz", False),
    ],
)
def test_credentials_go_only_to_the_repository_host(url: str, sent: bool) -> None:
    options = ClientOptions(url="http://charts.example:8080/repo", username="u", password="p")

    assert (options.auth_for(url) is not None) == sent


def test_pass_credentials_sends_them_anywhere() -> None:
    options = ClientOptions(
        url="http://charts.example/repo", username="u", password="p", pass_credentials=True
    )

    assert options.auth_for("http://cdn.example/demo.tgz") is not None


def test_no_credentials_means_no_auth() -> None:
    assert ClientOptions(url="http://a/").auth_for("http://a/x") is None


def test_redact_drops_user_info() -> None:
    assert redact("https://u:p@charts.example/x") == "https://charts.example/x"
    assert redact("https://charts.example/x") == "https://charts.example/x"


def test_registry_credentials_from_username_and_password() -> None:
    found = credentials_from_secret(
        {"username": b"u", "password": b"p"}, host="reg:5000", where="Secret 'ns/s'"
    )

    assert found is not None and (found.username, found.password) == ("u", "p")
    assert "p" not in repr(found).replace("password", "")


def test_registry_credentials_from_a_dockerconfigjson_auth_entry() -> None:
    auth = base64.b64encode(b"u:p").decode()
    config = json.dumps({"auths": {"reg:5000": {"auth": auth}}}).encode()

    found = credentials_from_secret({".dockerconfigjson": config}, host="reg:5000", where="s")

    assert found is not None and (found.username, found.password) == ("u", "p")


def test_a_dockerconfigjson_without_the_host_is_an_authentication_failure() -> None:
    config = json.dumps({"auths": {"other:5000": {"username": "u", "password": "p"}}}).encode()

    with pytest.raises(FetchError, match="no entry for reg:5000") as caught:
        credentials_from_secret({".dockerconfigjson": config}, host="reg:5000", where="s")

    assert caught.value.reason == "AuthenticationFailed"


def test_half_a_basic_auth_pair_is_refused() -> None:
    with pytest.raises(FetchError, match="'username' and 'password' must both be set"):
        credentials_from_secret({"username": b"u"}, host="reg", where="s")


@pytest.mark.parametrize(
    ("kind", "revision", "metadata"),
    [
        ("GitRepository", "main@sha1:0123456789abcdef0123", "0123456789ab"),
        ("GitRepository", "sha1:0123456789abcdef0123", "0123456789ab"),
        ("Bucket", "sha256:fedcba9876543210fedc", "fedcba987654"),
    ],
)
def test_revision_strategy_uses_twelve_hex_characters_of_the_source_revision(
    kind: str, revision: str, metadata: str
) -> None:
    assert revision_metadata(kind, revision) == metadata
