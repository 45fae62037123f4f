"""Registry credentials are read as the kubelet reads pull secrets; challenges as RFC 7235 says."""

from __future__ import annotations

import base64
import json

import pytest

from tide.source.oci.auth import (
    Challenge,
    CredentialsError,
    RegistryCredentials,
    credentials_for,
    normalize_host,
    parse_challenges,
    parse_docker_config,
    read_pull_secret,
)

pytestmark = pytest.mark.unit

WHERE = "Secret 'ns/creds' (spec.secretRef)"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config(auths: dict[str, object], *, legacy: bool = False) -> bytes:
    return json.dumps(auths if legacy else {"auths": auths}).encode()


def test_a_bearer_challenge_keeps_commas_inside_quoted_values() -> None:
    header = (
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:team/app:pull,push"'
    )
    assert parse_challenges(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.example.com/token",
                "service": "registry.example.com",
                "scope": "repository:team/app:pull,push",
            },
        )
    ]


def test_several_challenges_in_one_header_are_kept_in_order() -> None:
    header = 'Basic realm="registry", Bearer realm="https://a/token", service=reg'
    challenges = parse_challenges(header)
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[1].params == {"realm": "https://a/token", "service": "reg"}


def test_escaped_quotes_and_parameter_case_are_normalised() -> None:
    (challenge,) = parse_challenges('BASIC Realm="say \\"hi\\""')
    assert challenge == Challenge("basic", {"realm": 'say "hi"'})


@pytest.mark.parametrize("header", [None, "", "   ", '="oops"'])
def test_no_or_garbage_header_means_no_challenge(header: str | None) -> None:
    assert parse_challenges(header) == []


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("ghcr.io", "ghcr.io"),
        ("https://ghcr.io/v2/", "ghcr.io"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("docker.io", "index.docker.io"),
        ("Registry-1.Docker.IO", "index.docker.io"),
    ],
)
def test_config_keys_name_hosts_however_they_are_spelled(key: str, host: str) -> None:
    assert normalize_host(key) == host


def test_username_and_password_are_read_from_auths() -> None:
    found = parse_docker_config(
        config({"https://reg.example.com/v1/": {"username": "u", "password": "p"}}), where=WHERE
    )
    assert found["reg.example.com"].basic == ("u", "p")


def test_the_auth_field_is_split_on_the_first_colon() -> None:
    found = parse_docker_config(config({"reg": {"auth": b64("user:pa:ss")}}), where=WHERE)
    assert found["reg"].basic == ("user", "pa:ss")


def test_a_legacy_dockercfg_without_auths_is_read_too() -> None:
    found = parse_docker_config(config({"reg": {"auth": b64("u:p")}}, legacy=True), where=WHERE)
    assert found["reg"].basic == ("u", "p")


def test_a_registry_token_is_kept_as_a_bearer_token() -> None:
    found = parse_docker_config(config({"reg": {"registrytoken": "tok"}}), where=WHERE)
    assert found["reg"].token == "tok"
    assert found["reg"].basic is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not a valid Docker config JSON document"),
        (b"[]", "must be an object"),
        (config({"reg": {"auth": "%%%"}}), "the 'auth' field for 'reg' is not base64"),
        (config({"reg": {"auth": b64("nocolon")}}), "'username:password'"),
        (config({"reg": {"identitytoken": "x"}}), "holds an 'identitytoken'"),
        (config({"reg": "text"}), "the entry for 'reg' is not an object"),
    ],
)
def test_unreadable_configs_name_the_secret_and_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(CredentialsError, match=message) as caught:
        parse_docker_config(raw, where=WHERE)
    assert str(caught.value).startswith(WHERE)


def test_a_secret_without_the_dockerconfigjson_key_says_which_key_is_needed() -> None:
    with pytest.raises(CredentialsError, match=r"key '\.dockerconfigjson' is required"):
        read_pull_secret({"data": {"username": b64("u")}}, where=WHERE)


def test_a_secret_is_decoded_from_base64() -> None:
    secret = {"data": {".dockerconfigjson": b64(config({"reg": {"auth": b64("u:p")}}).decode())}}
    assert read_pull_secret(secret, where=WHERE)["reg"].basic == ("u", "p")


def test_credentials_never_show_in_their_repr() -> None:
    credentials = RegistryCredentials(username="u", password="hunter2", token="tok")
    assert "hunter2" not in repr(credentials)
    assert "tok" not in repr(credentials)


def test_the_first_config_with_the_host_wins_and_other_hosts_are_anonymous() -> None:
    first = {"reg": RegistryCredentials("a", "1")}
    second = {"reg": RegistryCredentials("b", "2"), "other": RegistryCredentials("c", "3")}
    assert credentials_for("reg", [first, second]) == RegistryCredentials("a", "1")
    assert credentials_for("other", [first, second]) == RegistryCredentials("c", "3")
    assert credentials_for("unknown", [first, second]) is None
