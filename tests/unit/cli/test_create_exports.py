"""``tide create secret|image … --export`` prints what Flux's CLI would, and checks its flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tide.cli.create_secret import generate_ssh_key
from tide.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner(env={"COLUMNS": "200"})  # usage errors unwrapped


def export(*args: str) -> dict:
    ran = runner.invoke(app, [*args, "--export", "-n", "apps"])
    assert ran.exit_code == 0, ran.output
    return yaml.safe_load(ran.stdout)


def test_a_git_https_secret_holds_basic_auth_and_the_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")

    secret = export("create", "secret", "git", "auth", "--url", "https://git.example.com/x",
                    "--username", "me", "--password", "pw", "--ca-crt-file", str(ca))  # fmt: skip

    assert secret == {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "auth", "namespace": "apps"},
        "type": "Opaque",
        "stringData": {"ca.crt": ca.read_text(), "password": "pw", "username": "me"},
    }  # fmt: skip


def test_a_git_bearer_token_secret_and_its_conflict_with_basic_auth() -> None:
    secret = export("create", "secret", "git", "t", "--url", "https://x/y", "--bearer-token", "b")
    assert secret["stringData"] == {"bearerToken": "b"}

    both = runner.invoke(app, ["create", "secret", "git", "t", "--url", "https://x/y",
                               "--bearer-token", "b", "--username", "u",
                               "--password", "p"])  # fmt: skip
    assert both.exit_code == 2
    assert "basic auth or a bearer token, not both" in both.output


def test_helm_and_tls_secrets_carry_flux_key_names(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("CERT\n")
    key.write_text("KEY\n")

    helm = export("create", "secret", "helm", "repo", "--username", "u", "--password", "p",
                  "--tls-crt-file", str(cert), "--tls-key-file", str(key))  # fmt: skip
    tls = export(
        "create", "secret", "tls", "certs", "--cert-file", str(cert), "--key-file", str(key)
    )

    assert helm["stringData"] == {"password": "p", "tls.crt": "CERT\n", "tls.key": "KEY\n",
                                  "username": "u"}  # fmt: skip
    assert tls["type"] == "kubernetes.io/tls"
    assert tls["stringData"] == {"tls.crt": "CERT\n", "tls.key": "KEY\n"}
    half = runner.invoke(app, ["create", "secret", "tls", "certs", "--cert-file", str(cert)])
    assert half.exit_code == 2 and "go together" in half.output


def test_an_oci_secret_is_a_dockerconfigjson_for_the_registry_host() -> None:
    secret = export("create", "secret", "oci", "pull", "--url", "oci://ghcr.io/org",
                    "--username", "u", "--password", "p")  # fmt: skip

    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(secret["stringData"][".dockerconfigjson"])
    assert config == {"auths": {"ghcr.io": {"username": "u", "password": "p", "auth": "dTpw"}}}


@pytest.mark.parametrize(("algorithm", "header"), [("ecdsa", b"ecdsa-sha2-nistp384"),
                                                   ("rsa", b"ssh-rsa"),
                                                   ("ed25519", b"ssh-ed25519")])  # fmt: skip
def test_generated_ssh_keys_are_openssh_keys_of_the_chosen_algorithm(
    algorithm: str, header: bytes
) -> None:
    from cryptography.hazmat.primitives import serialization

    private = generate_ssh_key(algorithm)
    public = serialization.load_ssh_private_key(private, None).public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert private.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert line.startswith(header)


def test_image_commands_write_flux_specs() -> None:
    repository = export("create", "image", "repository", "app", "--image", "ghcr.io/org/app",
                        "--secret-ref", "pull", "--interval", "5m")  # fmt: skip
    policy = export("create", "image", "policy", "app", "--image-ref", "app",
                    "--select-numeric", "desc", "--filter-regex", "^main-(?P<ts>[0-9]+)",
                    "--filter-extract", "$ts")  # fmt: skip
    update = export("create", "image", "update", "fleet", "--git-repo-ref", "fleet",
                    "--git-repo-path", "./clusters/prod", "--checkout-branch", "main",
                    "--push-branch", "image-updates", "--author-name", "bot",
                    "--author-email", "bot@example.com",
                    "--commit-template", "{{ .Changed }}")  # fmt: skip

    assert repository["spec"] == {"image": "ghcr.io/org/app", "interval": "5m",
                                  "secretRef": {"name": "pull"}}  # fmt: skip
    assert policy["spec"] == {
        "imageRepositoryRef": {"name": "app"},
        "policy": {"numerical": {"order": "desc"}},
        "filterTags": {"pattern": "^main-(?P<ts>[0-9]+)", "extract": "$ts"},
    }
    assert update["spec"] == {
        "interval": "1m",
        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
        "git": {
            "commit": {"author": {"name": "bot", "email": "bot@example.com"},
                       "messageTemplate": "{{ .Changed }}"},
            "checkout": {"ref": {"branch": "main"}},
            "push": {"branch": "image-updates"},
        },
        "update": {"strategy": "Setters", "path": "./clusters/prod"},
    }  # fmt: skip
