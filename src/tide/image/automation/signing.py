"""Sign automation commits with an OpenPGP key from a Secret, through Debian's ``gpg``.

Flux signs with an in-process OpenPGP library; Tide's commits are made by the real ``git``, which
signs by calling ``gpg``. The key (Secret key ``git.asc``, ASCII-armored) is imported into a
throwaway GnuPG home made for one commit and removed after it, with its agent stopped; a
``passphrase`` (same Secret) reaches ``gpg`` through a 0600 file and loopback pinentry, never a
command line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shlex
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Signer", "SigningError", "SigningKey", "gpg_signer"]


class SigningError(ValueError):
    """The key cannot be imported (not an armored secret key); the message says which Secret."""


@dataclass(frozen=True, repr=False)
class SigningKey:
    """An armored OpenPGP secret key and its passphrase, read from Secret data."""

    armored: bytes
    passphrase: str | None
    where: str

    def __repr__(self) -> str:
        return "SigningKey(<redacted>)"

    @classmethod
    def from_secret(cls, data: Mapping[str, str], *, where: str) -> SigningKey:
        """Read base64 Secret ``data``; ``where`` names the Secret in errors."""
        if "git.asc" not in data:
            raise SigningError(f"{where}: key 'git.asc' is missing")
        passphrase = data.get("passphrase")
        return cls(
            armored=base64.b64decode(data["git.asc"]),
            passphrase=base64.b64decode(passphrase).decode() if passphrase else None,
            where=where,
        )


@dataclass(frozen=True)
class Signer:
    """What ``git commit`` needs to sign: ``-c`` options and the key's fingerprint."""

    config_args: list[str]
    fingerprint: str


async def _gpg(home: Path, *args: str, stdin: bytes | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "gpg", "--homedir", str(home), "--batch", "--no-tty", *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _err = await asyncio.wait_for(process.communicate(stdin), 30)
    if process.returncode != 0:
        raise SigningError(f"gpg {args[0]} failed")
    return out.decode(errors="replace")


@contextlib.asynccontextmanager
async def gpg_signer(key: SigningKey) -> AsyncIterator[Signer]:
    """Import ``key`` into a private GnuPG home and yield how git signs with it.

    Raises:
        SigningError: ``git.asc`` holds no usable secret key.
    """
    home = Path(tempfile.mkdtemp(prefix="tide-gpg-"))  # mkdtemp makes it 0700
    try:
        try:
            await _gpg(home, "--import", stdin=key.armored)
            listing = await _gpg(home, "--with-colons", "--list-secret-keys")
        except SigningError as error:
            raise SigningError(f"{key.where}: 'git.asc' is not an armored OpenPGP key") from error
        fingerprints = [
            line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
        ]
        if not fingerprints:
            raise SigningError(f"{key.where}: 'git.asc' holds no secret key")
        program = home / "gpg-sign"
        options = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
        if key.passphrase is not None:
            secret = home / "passphrase"
            secret.write_text(key.passphrase)
            secret.chmod(0o600)
            options += ["--passphrase-file", str(secret)]
        program.write_text("#!/bin/sh\nexec " + shlex.join(options) + ' "$@"\n')
        program.chmod(0o700)
        yield Signer(["-c", f"gpg.program={program}"], fingerprints[0])
    finally:
        with contextlib.suppress(OSError):
            stop = await asyncio.create_subprocess_exec(
                "gpgconf", "--homedir", str(home), "--kill", "gpg-agent",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await stop.wait()
        shutil.rmtree(home, ignore_errors=True)
