"""Provider settings: Secret keys override the spec; every problem names its field."""

from __future__ import annotations

import base64
import ssl
from typing import Any

import pytest

from tide.api import reasons
from tide.api.notification import Provider
from tide.notification.settings import ProviderConfigError, referenced_secrets, resolve
from tide.testing._certs import CertificateAuthority

pytestmark = pytest.mark.unit


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def provider(**spec: Any) -> Provider:
    return Provider.model_validate({
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": "Provider",
        "metadata": {"name": "hook", "namespace": "team-a"},
        "spec": {"type": "generic", **spec},
    })  # fmt: skip


def secrets(**by_name: dict[str, str]):
    def lookup(namespace: str, name: str) -> dict[str, Any] | None:
        if namespace != "team-a" or name not in by_name:
            return None
        return {"data": {k: b64(v) for k, v in by_name[name].items()}}

    return lookup


def test_secret_keys_override_the_spec_and_unknown_keys_are_extra() -> None:
    p = provider(address="http://spec.invalid/", username="spec", secretRef={"name": "creds"})
    lookup = secrets(creds={
        "address": "http://127.0.0.1:9/hook\n", "token": "t0k3n", "username": "bot",
        "password": "pw", "headers": "X-Team: a\nX-Count: 3\n", "githubAppID": "42",
    })  # fmt: skip

    settings = resolve(p, secret=lookup)

    assert settings.address == "http://127.0.0.1:9/hook"
    assert (settings.token, settings.username, settings.password) == ("t0k3n", "bot", "pw")
    assert settings.headers == {"X-Team": "a", "X-Count": "3"}
    assert settings.extra == {"githubAppID": "42"}
    assert settings.timeout == 15.0
    assert "t0k3n" not in repr(settings)


def test_spec_fields_are_used_without_a_secret() -> None:
    settings = resolve(provider(address="http://a/", channel="ops", timeout="3s"), secret=secrets())

    assert (settings.address, settings.channel, settings.timeout) == ("http://a/", "ops", 3.0)
    assert settings.name == "team-a/hook"


def test_a_missing_secret_names_the_field_and_the_secret() -> None:
    with pytest.raises(ProviderConfigError) as raised:
        resolve(provider(secretRef={"name": "gone"}), secret=secrets())

    assert str(raised.value) == (
        "Provider 'team-a/hook': spec.secretRef: Secret 'team-a/gone' not found"
    )
    assert raised.value.reason == reasons.SECRET_NOT_FOUND


def test_headers_that_are_not_a_map_name_the_key_not_the_value() -> None:
    with pytest.raises(ProviderConfigError, match="key 'headers' must be a map") as raised:
        resolve(provider(secretRef={"name": "c"}), secret=secrets(c={"headers": "- s3cret"}))

    assert "s3cret" not in str(raised.value)


def test_the_proxy_secret_wins_and_carries_its_credentials() -> None:
    p = provider(proxy="http://old:3128", proxySecretRef={"name": "proxy"})
    lookup = secrets(
        proxy={"address": "http://127.0.0.1:3128", "username": "u", "password": "p@ss"}
    )

    assert resolve(p, secret=lookup).proxy == "http://u:p%40ss@127.0.0.1:3128"


def test_a_proxy_secret_without_address_names_the_key() -> None:
    with pytest.raises(ProviderConfigError, match=r"spec\.proxySecretRef 'proxy'.*'address'"):
        resolve(provider(proxySecretRef={"name": "proxy"}), secret=secrets(proxy={"user": "x"}))


def test_cert_secret_gives_a_tls_context_and_bad_pem_names_the_field() -> None:
    ca = CertificateAuthority("notify-test")
    good = secrets(certs={"ca.crt": ca.cert_pem.decode()}, bad={"ca.crt": "not a pem"})

    context = resolve(provider(certSecretRef={"name": "certs"}), secret=good).tls

    assert isinstance(context, ssl.SSLContext)
    with pytest.raises(ProviderConfigError, match=r"spec\.certSecretRef Secret 'team-a/bad'"):
        resolve(provider(certSecretRef={"name": "bad"}), secret=good)


def test_referenced_secrets_are_the_three_refs() -> None:
    p = provider(secretRef={"name": "a"}, certSecretRef={"name": "b"}, proxySecretRef={"name": "c"})

    assert referenced_secrets(p) == {"a", "b", "c"}
