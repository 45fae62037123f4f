"""Credentials reach git without touching argv, URLs or printed representations."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tide.source.git.auth import GitAuth, GitAuthError, git_environment
from tide.source.git.command import redact

pytestmark = pytest.mark.unit


def data(**values: str) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


def test_basic_auth_becomes_a_header_in_git_config_environment() -> None:
    secret = data(username="alice", password="hunter2")
    auth = GitAuth.from_secret(secret, url="https://h/r", where="S")
    with git_environment(auth) as env:
        header = base64.b64encode(b"alice:hunter2").decode()
        values = [env[k] for k in env if k.startswith("GIT_CONFIG_VALUE_")]
        assert f"Authorization: Basic {header}" in values
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert not any("hunter2" in value for value in env.values() if "Basic" not in value)
    assert "hunter2" not in repr(auth) and "alice" not in repr(auth)


def test_ssh_keys_are_private_files_removed_afterwards() -> None:
    auth = GitAuth.from_secret(
        data(identity="KEY", known_hosts="h ssh-ed25519 A"), url="ssh://git@h/r", where="S"
    )
    with git_environment(auth) as env:
        key = Path(env["GIT_SSH_COMMAND"].split("-i ")[1].split(" ")[0])
        assert key.read_text() == "KEY\n"
        assert oct(key.stat().st_mode & 0o777) == "0o600"
        assert "StrictHostKeyChecking=yes" in env["GIT_SSH_COMMAND"]
    assert not key.exists()


@pytest.mark.parametrize(
    ("values", "url", "message"),
    [
        ({"known_hosts": "x"}, "ssh://h/r", "key 'identity' is required"),
        ({"identity": "x"}, "ssh://h/r", "key 'known_hosts' is required"),
        ({"password": "x"}, "https://h/r", "'username' is missing"),
    ],
)
def test_incomplete_secrets_name_the_missing_key(
    values: dict[str, str], url: str, message: str
) -> None:
    with pytest.raises(GitAuthError, match=message):
        GitAuth.from_secret(data(**values), url=url, where="Secret 'ns/s'")


def test_fingerprint_differs_per_identity_and_hides_values() -> None:
    one = GitAuth(username="u", password="p1").fingerprint()
    two = GitAuth(username="u", password="p2").fingerprint()
    assert one != two and "p1" not in one


def test_redact_strips_credentials_from_urls() -> None:
    text = "fatal: unable to access 'https://user:hunter2@example.test/r.git/'"
    assert "hunter2" not in redact(text) and "https://example.test/r.git/" in redact(text)
