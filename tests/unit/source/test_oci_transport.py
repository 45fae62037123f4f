"""TLS and proxy settings come from the Secrets Flux documents, with errors naming the key."""

from __future__ import annotations

import base64

import pytest

from tide.kube.transport import (
    ProxyConfigError,
    TLSConfigError,
    proxy_from_secret,
    tls_from_secret,
)

pytestmark = pytest.mark.unit


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tls.crt": b64("x")}, "'tls.crt' and 'tls.key' must be given together"),
        ({"other": b64("x")}, "must contain 'ca.crt', or 'tls.crt' and 'tls.key'"),
        ({"ca.crt": b64("not a pem")}, "the certificates do not load"),
        ({"ca.crt": "%%%"}, "a value is not base64"),
    ],
)
def test_an_unusable_cert_secret_names_the_problem(data: dict[str, str], message: str) -> None:
    with pytest.raises(TLSConfigError, match=message):
        tls_from_secret(data, where="Secret 'ns/tls'")


def test_a_proxy_secret_gives_the_address_and_its_credentials() -> None:
    proxy = proxy_from_secret(
        {"address": b64("http://proxy:3128"), "username": b64("u"), "password": b64("p")},
        where="Secret 'ns/proxy'",
    )
    assert str(proxy.url) == "http://proxy:3128"
    assert proxy.auth == ("u", "p")


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "key 'address' is required"), ({"address": b64("proxy:3128")}, "http:// or https://")],
)
def test_an_unusable_proxy_secret_names_the_problem(data: dict[str, str], message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        proxy_from_secret(data, where="Secret 'ns/proxy'")
