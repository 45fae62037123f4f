"""Make a control plane's PKI, mint credentials from it, and write kubeconfigs that carry them.

Everything lives in the plane's data folder, so any process that can read the folder (``tide dev
env``, a test attaching to a running plane) can mint users, not just the one that started it:

    pki/ca.crt, client-ca.crt, client-ca.key, apiserver.*, admin.*, sa.*
    admin.kubeconfig, user-<name>.kubeconfig, sa-<namespace>-<name>.kubeconfig

Keeping ``client-ca.key`` on disk grants nothing new: ``admin.key`` beside it already holds
``system:masters``. Every private file is created with mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tide.testing import _certs

__all__ = ["Kubeconfigs", "token_request", "write_pki"]

_CLUSTER = "tide"


def write_pki(pki: Path) -> None:
    """Create the CAs, certificates and keys a control plane needs in the folder ``pki``.

    The serving CA's key is dropped once the serving certificate is issued; the client CA's key
    is saved so users can be minted later, from any process.
    """
    pki.mkdir(mode=0o700, parents=True, exist_ok=True)
    serving_ca = _certs.CertificateAuthority("tide-serving-ca")
    client_ca = _certs.CertificateAuthority("tide-client-ca")
    serving = serving_ca.issue(
        "kube-apiserver", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True
    )
    admin = client_ca.issue("admin", organizations=("system:masters",))
    service_accounts = _certs.service_account_keys()
    files = {
        "ca.crt": serving_ca.cert_pem,
        "client-ca.crt": client_ca.cert_pem,
        "client-ca.key": client_ca.key_pem,
        "apiserver.crt": serving.cert_pem,
        "apiserver.key": serving.key_pem,
        "admin.crt": admin.cert_pem,
        "admin.key": admin.key_pem,
        "sa.pub": service_accounts.cert_pem,
        "sa.key": service_accounts.key_pem,
    }
    for name, content in files.items():
        _write_private(pki / name, content)


def token_request(expiration_seconds: int) -> dict[str, Any]:
    """Return the TokenRequest body that asks for a ServiceAccount token."""
    return {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": expiration_seconds},
    }


@dataclass(frozen=True)
class Kubeconfigs:
    """Write kubeconfigs for the API server at ``server`` into ``folder`` (PKI in ``pki/``)."""

    folder: Path
    server: str

    @property
    def pki(self) -> Path:
        """Return the folder holding certificates and keys."""
        return self.folder / "pki"

    def admin(self) -> Path:
        """Write ``admin.kubeconfig`` (user ``admin`` in ``system:masters``) and return it."""
        return self._client_cert(
            "admin", (self.pki / "admin.crt").read_bytes(), (self.pki / "admin.key").read_bytes()
        )

    def user(self, name: str, *, groups: tuple[str, ...] = ()) -> Path:
        """Mint a client certificate for user ``name`` in ``groups``; return its kubeconfig.

        The client CA is read from ``pki/`` each time, so this works in any process.

        Raises:
            FileNotFoundError: the plane was made before the client-CA key was saved.
        """
        client_ca = _certs.CertificateAuthority.from_pem(
            (self.pki / "client-ca.crt").read_bytes(), (self.pki / "client-ca.key").read_bytes()
        )
        pair = client_ca.issue(name, organizations=groups)
        return self._client_cert(f"user-{name}", pair.cert_pem, pair.key_pem)

    def token(self, name: str, token: str) -> Path:
        """Write ``<name>.kubeconfig`` authenticating with a bearer ``token``; return it."""
        return self.write(name, user={"token": token})

    def write(self, name: str, *, user: dict[str, str]) -> Path:
        """Write ``<name>.kubeconfig`` for ``user`` (kubeconfig ``users[].user`` fields)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": _CLUSTER,
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": _b64((self.pki / "ca.crt").read_bytes()),
                    },
                }
            ],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": _CLUSTER, "user": name}}],
            "current-context": name,
        }
        path = self.folder / f"{name}.kubeconfig"
        _write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
        return path

    def _client_cert(self, name: str, cert_pem: bytes, key_pem: bytes) -> Path:
        return self.write(
            name,
            user={"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)},
        )


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` readable by the owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as sink:
        sink.write(content)
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
