"""What ``tide bootstrap git`` commits: Flux's layout and shapes, byte for byte the same twice."""

from __future__ import annotations

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tide.install import (
    CredentialsError,
    GitCredentials,
    InstallOptions,
    SyncOptions,
    normalise_path,
    public_key,
    render,
    render_files,
    render_sync,
)

pytestmark = pytest.mark.unit

URL = "https://git.example.com/fleet.git"


def test_sync_objects_have_flux_bootstrap_shape_with_secret_ref_only_when_credentials() -> None:
    source, kustomization = render_sync(SyncOptions(url=URL, path="clusters/prod"))
    assert source == {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {"interval": "1m0s", "ref": {"branch": "main"}, "url": URL},
    }
    assert kustomization["spec"] == {
        "interval": "10m0s",
        "path": "./clusters/prod",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    with_secret, _ = render_sync(SyncOptions(url=URL, secret_ref="flux-system"))
    assert with_secret["spec"]["secretRef"] == {"name": "flux-system"}


@pytest.mark.parametrize(
    ("given", "folder", "path"),
    [
        ("clusters/prod", "clusters/prod/flux-system", "./clusters/prod"),
        ("./clusters/prod/", "clusters/prod/flux-system", "./clusters/prod"),
        (".", "flux-system", "./"),
        ("", "flux-system", "./"),
    ],
)
def test_path_spellings_lead_to_one_layout(given: str, folder: str, path: str) -> None:
    files = render_files(render(InstallOptions()), SyncOptions(url=URL, path=given))
    assert sorted(files) == [
        f"{folder}/gotk-components.yaml",
        f"{folder}/gotk-sync.yaml",
        f"{folder}/kustomization.yaml",
    ]
    _, kustomization = yaml.safe_load_all(files[f"{folder}/gotk-sync.yaml"])
    assert kustomization["spec"]["path"] == path
    assert yaml.safe_load(files[f"{folder}/kustomization.yaml"]) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["gotk-components.yaml", "gotk-sync.yaml"],
    }


def test_components_file_is_the_install_rendering_and_the_same_each_time() -> None:
    options = InstallOptions(components_extra=("image-reflector-controller",))
    first = render_files(render(options), SyncOptions(url=URL, path="c"))
    again = render_files(render(options), SyncOptions(url=URL, path="c"))
    assert first == again
    assert list(yaml.safe_load_all(first["c/flux-system/gotk-components.yaml"])) == render(options)


@pytest.mark.parametrize("path", ["/abs", "../out", "a/../../b"])
def test_paths_outside_the_repository_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        normalise_path(path)


async def test_http_credentials_become_flux_secret_keys() -> None:
    credentials = GitCredentials(username="bot", password="s3cret", ca_cert=b"PEM")
    auth, data = await credentials.resolve(URL)
    assert data == {"username": b"bot", "password": b"s3cret", "ca.crt": b"PEM"}
    assert auth.username == "bot" and auth.password == "s3cret"
    assert "s3cret" not in repr(credentials) and "s3cret" not in repr(auth)


@pytest.mark.parametrize(
    ("credentials", "url", "message"),
    [
        (GitCredentials(), "ssh://git@example.com/fleet.git", "give --private-key-file"),
        (GitCredentials(private_key=b"k"), URL, "needs an ssh:// URL"),
        (GitCredentials(password="p"), URL, "--username is missing"),
        (GitCredentials(), "git.example.com:fleet.git", "expected an ssh://"),
    ],
)
async def test_credentials_that_do_not_fit_the_url_are_refused(
    credentials: GitCredentials, url: str, message: str
) -> None:
    with pytest.raises(CredentialsError, match=message):
        await credentials.resolve(url)


def test_public_key_is_derived_from_the_private_key_without_quoting_it() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    expected = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert public_key(private) == expected.decode() + "\n"
    with pytest.raises(CredentialsError) as raised:
        public_key(b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n")
    assert "not-a-key" not in str(raised.value)
