"""``tide create secret git|helm|oci|tls``: the credential Secrets Flux's sources read.

Flags and Secret keys are Flux's, so a Secret made here is one a Flux controller reads and the
other way round: ``username``/``password`` or ``bearerToken`` for HTTP(S), ``identity``,
``identity.pub`` and ``known_hosts`` for SSH, ``ca.crt``, ``tls.crt``, ``tls.key`` for TLS, and a
``kubernetes.io/dockerconfigjson`` Secret for a registry. Values are never printed, except by
``--export``, whose whole point is to print the Secret (to encrypt with SOPS and commit). An SSH
secret's public key is printed: it is what the user adds to the Git host as a deploy key.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tide.cli._options import (
    CaFile,
    Password,
    Username,
    read_file,
    read_text,
    takes_tls_files,
)
from tide.cli._session import (
    ClusterOptions,
    CommandError,
    cluster_command,
    err,
    print_yaml,
    run_command,
)
from tide.kube.resources import SECRET

__all__ = ["app", "generate_ssh_key", "scan_known_hosts"]

app = typer.Typer(help="Create or update Secrets with credentials for Flux's sources.",
                  no_args_is_help=True)  # fmt: skip

Name = Annotated[str, typer.Argument(help="The Secret's name.")]
Export = Annotated[bool, typer.Option("--export", help="Print the YAML (with the values).")]

_CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}


def generate_ssh_key(algorithm: str, *, rsa_bits: int = 2048, curve: str = "p384") -> bytes:
    """Return a new unencrypted private key in OpenSSH form, as Flux generates one.

    Args:
        algorithm: ``ecdsa`` (Flux's default), ``rsa`` or ``ed25519``.
        rsa_bits: the RSA modulus size (2048 by default, as Flux's).
        curve: the ECDSA curve, ``p256``, ``p384`` (default) or ``p521``.

    Raises:
        typer.BadParameter: an unknown algorithm or curve, or too few RSA bits.
    """
    key: Any
    if algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "rsa":
        if rsa_bits < 1024 or rsa_bits % 8:
            raise typer.BadParameter("expected a multiple of 8, at least 1024",
                                     param_hint="--ssh-rsa-bits")  # fmt: skip
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    elif algorithm == "ecdsa":
        if curve not in _CURVES:
            raise typer.BadParameter(f"expected one of {', '.join(_CURVES)}",
                                     param_hint="--ssh-ecdsa-curve")  # fmt: skip
        key = ec.generate_private_key(_CURVES[curve]())
    else:
        raise typer.BadParameter("expected rsa, ecdsa or ed25519", param_hint="--ssh-key-algorithm")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def _public_key(private: bytes, password: str | None) -> str:
    try:
        key = serialization.load_ssh_private_key(private, password.encode() if password else None)
    except ValueError:
        try:  # a PEM (PKCS#1, PKCS#8) key works for Git over SSH too
            key = serialization.load_pem_private_key(
                private, password.encode() if password else None
            )
        # The library's own messages are not repeated: they may quote bytes of the key.
        except (ValueError, TypeError):
            raise typer.BadParameter("not a private key, or the wrong password",
                                     param_hint="--private-key-file") from None  # fmt: skip
    except TypeError:  # encrypted and no password, or a password and not encrypted
        raise typer.BadParameter(
            "the key is encrypted and no --password was given, or a --password was given for "
            "a key that is not encrypted",
            param_hint="--private-key-file",
        ) from None
    except UnsupportedAlgorithm:  # an encrypted OpenSSH key needs the bcrypt package
        raise typer.BadParameter(
            "an encrypted OpenSSH key of an algorithm this machine cannot decrypt",
            param_hint="--private-key-file",
        ) from None
    public = key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def scan_known_hosts(host: str, port: int, *, timeout: float = 10.0) -> str:
    """Return the ``known_hosts`` lines of the SSH server at ``host:port``, as Flux records them.

    OpenSSH's ``ssh-keyscan`` does the SSH key exchange; Tide has no SSH library of its own and
    the scanner is on every machine that has an SSH client. The host keys are trusted on first
    use, as with ``flux create secret git``: check them against the Git host's published keys.

    Raises:
        CommandError: no ``ssh-keyscan``, or the host answered with no key.
    """
    scanner = shutil.which("ssh-keyscan")
    if scanner is None:
        raise CommandError("ssh-keyscan not found: install OpenSSH's client to scan the host keys")
    command = [scanner, "-p", str(port), "-T", str(int(timeout)), host]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 5)
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith("#")]
    if not lines:
        raise CommandError(f"no SSH host key from {host}:{port}: {done.stderr.strip() or 'none'}")
    return "\n".join(sorted(lines)) + "\n"


def _finish(
    name: str,
    data: Callable[[], dict[str, str]],
    export: bool,
    options: ClusterOptions,
    *,
    type_: str = "Opaque",
) -> None:
    """Make the Secret's values (scanning a host may fail as a command does), print or apply it."""

    async def work() -> None:
        values = data()
        document = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": options.namespace},
            "type": type_,
            "stringData": dict(sorted(values.items())),
        }
        if export:
            print_yaml(document)
            return
        async with options.client() as client:
            err.print(f"► applying Secret {name} in {options.namespace} namespace")
            await client.apply(SECRET, document)
            err.print("[green]✔[/] Secret created")
        if "identity.pub" in values:
            err.print(f"[green]✔[/] deploy key: {values['identity.pub'].strip()}")

    run_command(work())


def _ssh_data(
    url: urllib.parse.SplitResult, key: bytes, public: str, password: str | None
) -> dict[str, str]:
    if not url.hostname:
        raise typer.BadParameter("an ssh:// URL needs a host", param_hint="--url")
    try:
        port = url.port or 22
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--url") from None
    data = {"identity": key.decode(), "identity.pub": public,
            "known_hosts": scan_known_hosts(url.hostname, port)}  # fmt: skip
    if password:
        data["password"] = password
    return data


@app.command("git")
@cluster_command
def git(
    name: Name,
    url: Annotated[
        str, typer.Option("--url", help="The Git repository's URL (ssh:// or http(s)://).")
    ],
    username: Username = None,
    password: Password = None,
    bearer_token: Annotated[
        str | None, typer.Option("--bearer-token", help="Bearer token for HTTP(S).")
    ] = None,
    private_key_file: Annotated[
        Path | None, typer.Option("--private-key-file", help="SSH private key (else one is made).")
    ] = None,
    ssh_key_algorithm: Annotated[
        str, typer.Option("--ssh-key-algorithm", help="rsa, ecdsa or ed25519.")
    ] = "ecdsa",
    ssh_rsa_bits: Annotated[int, typer.Option("--ssh-rsa-bits", help="RSA key size.")] = 2048,
    ssh_ecdsa_curve: Annotated[
        str, typer.Option("--ssh-ecdsa-curve", help="p256, p384 or p521.")
    ] = "p384",
    ca_file: CaFile = None,
    export: Export = False,
    *,
    options: ClusterOptions,
) -> None:
    """Create or update a Secret for Git authentication (SSH keys and host keys, or HTTP auth).

    For an ssh:// URL the host's keys are scanned into known_hosts and, without
    --private-key-file, a new key pair is made; add the printed public key to the Git host.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "ssh":
        key = read_file(private_key_file, "--private-key-file")
        private = key if key is not None else generate_ssh_key(
            ssh_key_algorithm, rsa_bits=ssh_rsa_bits, curve=ssh_ecdsa_curve
        )  # fmt: skip
        public = _public_key(private, password)
        _finish(name, lambda: _ssh_data(parsed, private, public, password), export, options)
        return
    if parsed.scheme in ("http", "https"):
        if bearer_token and (username or password):
            raise typer.BadParameter("use basic auth or a bearer token, not both",
                                     param_hint="--bearer-token")  # fmt: skip
        if bool(username) != bool(password) and not bearer_token:
            raise typer.BadParameter("--username and --password go together",
                                     param_hint="--password")  # fmt: skip
        data = {"username": username, "password": password, "bearerToken": bearer_token,
                "ca.crt": read_text(ca_file, "--ca-crt-file")}  # fmt: skip
        data = {key: value for key, value in data.items() if value}
        _finish(name, lambda: data, export, options)
        return
    raise typer.BadParameter(f"expected an ssh, http or https URL, got {url!r}",
                             param_hint="--url")  # fmt: skip


@app.command("helm")
@cluster_command
@takes_tls_files
def helm(
    name: Name,
    username: Username = None,
    password: Password = None,
    export: Export = False,
    *,
    options: ClusterOptions,
    tls: dict[str, str],
) -> None:
    """Create or update a Secret for a HelmRepository (basic auth and TLS)."""
    if bool(username) != bool(password):
        raise typer.BadParameter("--username and --password go together", param_hint="--password")
    data = {"username": username or "", "password": password or ""}
    data = {key: value for key, value in data.items() if value}
    _finish(name, lambda: {**data, **tls}, export, options)


@app.command("oci")
@cluster_command
def oci(
    name: Name,
    url: Annotated[str, typer.Option("--url", help="The registry host, e.g. ghcr.io.")],
    username: Username = None,
    password: Password = None,
    export: Export = False,
    *,
    options: ClusterOptions,
) -> None:
    """Create or update a kubernetes.io/dockerconfigjson Secret for an OCI registry."""
    if not username or not password:
        raise typer.BadParameter("a registry Secret needs --username and --password",
                                 param_hint="--password")  # fmt: skip
    host = url.removeprefix("oci://").split("/", 1)[0]
    if not host:
        raise typer.BadParameter(f"expected a registry host, got {url!r}", param_hint="--url")
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = {"auths": {host: {"username": username, "password": password, "auth": auth}}}
    data = {".dockerconfigjson": json.dumps(config)}
    _finish(name, lambda: data, export, options, type_="kubernetes.io/dockerconfigjson")


@app.command("tls")
@cluster_command
@takes_tls_files
def tls(
    name: Name, export: Export = False, *, options: ClusterOptions, tls: dict[str, str]
) -> None:
    """Create or update a Secret with TLS certificates (a source's spec.certSecretRef)."""
    data = tls
    if not data:
        raise typer.BadParameter("expected --ca-crt-file, or --tls-crt-file with --tls-key-file")
    type_ = "kubernetes.io/tls" if "tls.key" in data else "Opaque"
    _finish(name, lambda: data, export, options, type_=type_)
