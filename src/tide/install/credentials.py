"""The Git credentials a bootstrap clones with and stores as the ``flux-system`` Secret.

The Secret carries Flux's keys, so the source controller reads it like any GitRepository's
``secretRef``: ``username``/``password`` for HTTP(S), ``identity``/``identity.pub``/
``known_hosts`` for SSH (and ``ca.crt`` for a private CA). For SSH the host key is scanned with
``ssh-keyscan`` and trusted on first use, as ``flux bootstrap git`` does; it is then pinned in
the Secret, so the controllers never accept a different one.
"""

from __future__ import annotations

import asyncio
import base64
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from tide.source.git.auth import GitAuth

__all__ = [
    "CredentialsError",
    "GitCredentials",
    "public_key",
    "scan_host_key",
    "secret_manifest",
]

_SCAN_SECONDS = 10


class CredentialsError(ValueError):
    """The credentials do not fit the URL or cannot be read; the message names the flag."""


@dataclass(frozen=True, repr=False)
class GitCredentials:
    """What ``--username``/``--password``, ``--private-key-file`` and ``--ca-file`` gave.

    Attributes:
        username: HTTP(S) user name.
        password: HTTP(S) password or token.
        private_key: an SSH private key (OpenSSH or PEM), without passphrase.
        ca_cert: PEM CA certificate(s) that sign the HTTPS server's certificate.
    """

    username: str | None = None
    password: str | None = None
    private_key: bytes | None = None
    ca_cert: bytes | None = None

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return "GitCredentials(<redacted>)"

    @property
    def empty(self) -> bool:
        """Tell whether nothing was given: a public repository, no Secret."""
        return self.username is None and self.private_key is None and self.ca_cert is None

    async def resolve(self, url: str) -> tuple[GitAuth, dict[str, bytes]]:
        """Return the credentials for ``git`` and the Secret's data for the controllers.

        Raises:
            CredentialsError: an SSH URL without ``--private-key-file``, a key given for an
                HTTP URL, a password without a user name, an unreadable key, or an SSH server
                whose host key cannot be scanned.
        """
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme == "ssh":
            return await self._ssh(url)
        if scheme not in ("http", "https"):
            raise CredentialsError(f"--url {url!r}: expected an ssh://, https:// or http:// URL")
        if self.private_key is not None:
            raise CredentialsError("--private-key-file needs an ssh:// URL")
        if self.password is not None and self.username is None:
            raise CredentialsError("--password is set but --username is missing")
        data: dict[str, bytes] = {}
        if self.username is not None:
            data["username"] = self.username.encode()
            data["password"] = (self.password or "").encode()
        if self.ca_cert is not None:
            data["ca.crt"] = self.ca_cert
        auth = GitAuth(username=self.username, password=self.password, ca_cert=self.ca_cert)
        return auth, data

    async def _ssh(self, url: str) -> tuple[GitAuth, dict[str, bytes]]:
        if self.private_key is None:
            raise CredentialsError(f"--url {url!r} is SSH: give --private-key-file")
        if self.username is not None:
            raise CredentialsError("--username/--password are for HTTP(S) URLs, not ssh://")
        known_hosts = await scan_host_key(url)
        data = {
            "identity": self.private_key,
            "identity.pub": public_key(self.private_key).encode(),
            "known_hosts": known_hosts,
        }
        return GitAuth(identity=self.private_key, known_hosts=known_hosts), data


def public_key(private_key: bytes) -> str:
    """Return the OpenSSH public key line of ``private_key`` (OpenSSH or PEM format).

    Raises:
        CredentialsError: the key is not a private key, or is protected by a passphrase.
    """
    try:
        if b"OPENSSH PRIVATE KEY" in private_key:
            key = serialization.load_ssh_private_key(private_key, password=None)
        else:
            key = serialization.load_pem_private_key(private_key, password=None)
    except (ValueError, TypeError) as error:
        # The library's message may quote the key's bytes; say only what is wrong.
        raise CredentialsError(
            "--private-key-file: not an unencrypted SSH private key (OpenSSH or PEM)"
        ) from error
    line = key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return line.decode() + "\n"


async def scan_host_key(url: str) -> bytes:
    """Return ``known_hosts`` lines for the SSH server of ``url``, from ``ssh-keyscan``."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise CredentialsError(f"--url {url!r} names no host")
    process = await asyncio.create_subprocess_exec(
        "ssh-keyscan", "-T", str(_SCAN_SECONDS), "-p", str(parts.port or 22), parts.hostname,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    lines = [line for line in out.decode().splitlines() if line and not line.startswith("#")]
    if process.returncode != 0 or not lines:
        said = err.decode().strip().splitlines()[-1:] or ["no host key offered"]
        raise CredentialsError(f"cannot scan the SSH host key of {parts.hostname}: {said[0]}")
    return ("\n".join(lines) + "\n").encode()


def secret_manifest(name: str, namespace: str, data: dict[str, bytes]) -> dict[str, object]:
    """Return the Secret ``name`` holding ``data`` (base64-encoded, as the API stores it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {key: base64.b64encode(value).decode() for key, value in sorted(data.items())},
    }
