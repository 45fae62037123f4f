"""webhook_path(): the path a Receiver listens on, computed as Flux computes it."""

from __future__ import annotations

import hashlib

import pytest

from tide.notification.receiver import webhook_path

pytestmark = pytest.mark.unit


def test_webhook_path_is_hook_prefix_and_sha256_of_token_name_and_namespace() -> None:
    expected = hashlib.sha256(b"s3cr3tgithub-receiverflux-system").hexdigest()

    assert webhook_path("s3cr3t", "github-receiver", "flux-system") == f"/hook/{expected}"


def test_webhook_path_for_non_ascii_token_hashes_its_utf8_bytes() -> None:
    expected = hashlib.sha256("tökenrecvdefault".encode()).hexdigest()

    assert webhook_path("töken", "recv", "default") == f"/hook/{expected}"


def test_webhook_path_is_stable_for_the_same_inputs() -> None:
    assert webhook_path("t", "n", "ns") == webhook_path("t", "n", "ns")


@pytest.mark.parametrize(
    ("token", "name", "namespace"),
    [
        ("other-token", "recv", "default"),
        ("token", "other-recv", "default"),
        ("token", "recv", "other-ns"),
    ],
    ids=["token", "name", "namespace"],
)
def test_webhook_path_changes_when_any_input_changes(token: str, name: str, namespace: str) -> None:
    assert webhook_path(token, name, namespace) != webhook_path("token", "recv", "default")
