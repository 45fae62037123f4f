"""Turn a GitRepository's ``secretRef`` data into settings for the ``git`` command.

Credentials never appear on a command line or in a URL (both show up in process listings and in
git's own error messages): HTTP credentials travel as an ``Authorization`` header set through
``GIT_CONFIG_*`` environment variables, and SSH keys and known hosts as 0600 files in a private
folder that is removed after the command.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitAuth", "GitAuthError", "git_environment"]


class GitAuthError(ValueError):
    """The Secret's content cannot be used for this URL; the message names the key."""


@dataclass(frozen=True, repr=False)
class GitAuth:
    """Credentials for one remote, read from a Flux-style Secret (keys as Flux documents them)."""

    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None
    ca_cert: bytes | None = None
    identity: bytes | None = None
    known_hosts: bytes | None = None

    def __repr__(self) -> str:  # never print secrets, even in a debugger or a traceback
        return "GitAuth(<redacted>)"

    @classmethod
    def from_secret(cls, data: Mapping[str, str], *, url: str, where: str) -> GitAuth:
        """Read base64 Secret ``data``; ``where`` names the Secret in error messages."""
        values = {k: base64.b64decode(v) for k, v in data.items()}

        def text(key: str) -> str | None:
            raw = values.get(key)
            return raw.decode() if raw is not None else None

        auth = cls(
            username=text("username"),
            password=text("password"),
            bearer_token=text("bearerToken"),
            ca_cert=values.get("ca.crt") or values.get("caFile"),
            identity=values.get("identity"),
            known_hosts=values.get("known_hosts"),
        )
        if url.startswith("ssh://"):
            if auth.identity is None:
                raise GitAuthError(f"{where}: key 'identity' is required for an SSH URL")
            if auth.known_hosts is None:
                raise GitAuthError(f"{where}: key 'known_hosts' is required for an SSH URL")
        elif auth.password is not None and auth.username is None:
            raise GitAuthError(f"{where}: key 'password' is set but 'username' is missing")
        return auth

    def fingerprint(self) -> str:
        """Return a digest of the credentials, to key caches per identity without keeping them."""
        digest = hashlib.sha256()
        for part in (self.username, self.password, self.bearer_token):
            digest.update((part or "").encode() + b"\0")
        for blob in (self.ca_cert, self.identity, self.known_hosts):
            digest.update((blob or b"") + b"\0")
        return digest.hexdigest()


ANONYMOUS = GitAuth()


@contextlib.contextmanager
def git_environment(auth: GitAuth | None) -> Iterator[dict[str, str]]:
    """Yield environment variables that make ``git`` use ``auth`` and never prompt."""
    auth = auth or ANONYMOUS
    folder = Path(tempfile.mkdtemp(prefix="tide-git-auth-"))
    folder.chmod(0o700)
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "HOME": str(folder),
    }
    config: list[tuple[str, str]] = [("protocol.version", "2"), ("advice.detachedHead", "false")]
    if auth.bearer_token:
        config.append(("http.extraHeader", f"Authorization: Bearer {auth.bearer_token}"))
    elif auth.username is not None:
        pair = f"{auth.username}:{auth.password or ''}".encode()
        config.append(
            ("http.extraHeader", f"Authorization: Basic {base64.b64encode(pair).decode()}")
        )
    if auth.ca_cert:
        ca = folder / "ca.crt"
        ca.write_bytes(auth.ca_cert)
        config.append(("http.sslCAInfo", str(ca)))
    ssh = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    if auth.identity:
        key = folder / "identity"
        key.write_bytes(auth.identity if auth.identity.endswith(b"\n") else auth.identity + b"\n")
        key.chmod(0o600)
        ssh += ["-i", str(key)]
    if auth.known_hosts:
        hosts = folder / "known_hosts"
        hosts.write_bytes(auth.known_hosts)
        ssh += ["-o", f"UserKnownHostsFile={hosts}", "-o", "StrictHostKeyChecking=yes"]
    else:
        ssh += ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null"]
    env["GIT_SSH_COMMAND"] = " ".join(ssh)
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key_name, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key_name
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    try:
        yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)
