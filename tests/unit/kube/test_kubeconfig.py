"""A kubeConfig Secret may carry inline credentials only: nothing that runs or reads files."""

from __future__ import annotations

from typing import Any

import pytest

from tide.kube.kubeconfig import UnsafeKubeconfig, check

pytestmark = pytest.mark.unit


def kubeconfig(user: dict[str, Any], cluster: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {
            "server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }  # fmt: skip


@pytest.mark.parametrize(
    "user",
    [
        {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"},
        {"token": "abc"},
        {"username": "admin", "password": "secret"},
    ],
)
def test_inline_credentials_are_accepted(user: dict[str, Any]) -> None:
    check(kubeconfig(user))


@pytest.mark.parametrize(
    ("user", "field"),
    [
        ({"exec": {"command": "/bin/sh", "apiVersion": "client.authentication.k8s.io/v1"}}, "exec"),
        ({"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}, "tokenFile"),
        ({"auth-provider": {"name": "oidc"}}, "auth-provider"),
        (
            {"client-certificate": "/etc/tls.crt", "client-key": "/etc/tls.key"},
            "client-certificate",
        ),
    ],
)
def test_fields_that_run_programs_or_read_files_are_refused(user: dict, field: str) -> None:
    with pytest.raises(UnsafeKubeconfig, match=rf"users\[0\]\.user\.{field} is not allowed"):
        check(kubeconfig(user))


@pytest.mark.parametrize(
    ("cluster", "field"),
    [
        ({"server": "https://x", "insecure-skip-tls-verify": True}, "insecure-skip-tls-verify"),
        ({"server": "https://x", "certificate-authority": "/etc/ca.crt"}, "certificate-authority"),
    ],
)
def test_insecure_tls_and_file_paths_are_refused_for_clusters(cluster: dict, field: str) -> None:
    with pytest.raises(UnsafeKubeconfig, match=rf"clusters\[0\]\.cluster\.{field}"):
        check(kubeconfig({"token": "abc"}, cluster))


def test_insecure_tls_set_to_false_is_fine() -> None:
    check(kubeconfig({"token": "abc"}, {"server": "https://x", "insecure-skip-tls-verify": False}))
