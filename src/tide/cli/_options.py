"""The options several commands take alike, declared once so they read and fail alike.

``--username``/``--password`` (the password also from ``$TIDE_PASSWORD``, so a token can stay
out of the shell history and the process list) for ``create secret`` and ``bootstrap git``; the
TLS files of ``create secret helm`` and ``create secret tls``; and the reading of a file a flag
names, whose failure names the flag.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tide.cli._session import keyword_option, with_parameters

__all__ = [
    "CaFile",
    "CertFile",
    "KeyFile",
    "Password",
    "Username",
    "read_file",
    "read_text",
    "takes_tls_files",
]

Username = Annotated[str | None, typer.Option("--username", "-u", help="Basic auth user name.")]
Password = Annotated[
    str | None,
    typer.Option(
        "--password",
        "-p",
        envvar="TIDE_PASSWORD",
        show_envvar=True,
        help="Basic auth password (or $TIDE_PASSWORD, which keeps it off the command line).",
    ),
]
CaFile = Annotated[
    Path | None, typer.Option("--ca-crt-file", "--ca-file", help="CA certificate file (PEM).")
]
CertFile = Annotated[
    Path | None,
    typer.Option("--tls-crt-file", "--cert-file", help="Client certificate file (PEM)."),
]
KeyFile = Annotated[
    Path | None, typer.Option("--tls-key-file", "--key-file", help="Client key file (PEM).")
]


def read_file(path: Path | None, flag: str) -> bytes | None:
    """Return the content of the file ``flag`` names (None without one).

    Raises:
        typer.BadParameter: the file cannot be read, naming ``flag``.
    """
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error.strerror}", param_hint=flag) from None


def read_text(path: Path | None, flag: str) -> str | None:
    """:func:`read_file`, decoded (the values of ``stringData``)."""
    content = read_file(path, flag)
    return content.decode() if content is not None else None


def _tls_data(ca_file: Path | None, cert_file: Path | None, key_file: Path | None) -> dict:
    if (cert_file is None) != (key_file is None):
        raise typer.BadParameter("--tls-crt-file and --tls-key-file go together",
                                 param_hint="--tls-key-file")  # fmt: skip
    data = {
        "ca.crt": read_text(ca_file, "--ca-crt-file"),
        "tls.crt": read_text(cert_file, "--tls-crt-file"),
        "tls.key": read_text(key_file, "--tls-key-file"),
    }
    return {key: value for key, value in data.items() if value is not None}


def takes_tls_files(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the TLS file flags, read into ``tls``: a Secret's TLS keys.

    ``--ca-crt-file``, and ``--tls-crt-file`` with ``--tls-key-file``, as Flux's ``create secret
    helm|tls`` take them; ``tls`` holds ``ca.crt``, ``tls.crt`` and ``tls.key`` as given.
    """
    flags = [keyword_option("ca_file", CaFile, None), keyword_option("cert_file", CertFile, None),
             keyword_option("key_file", KeyFile, None)]  # fmt: skip

    def collect(values: dict[str, Any]) -> dict[str, Any]:
        return {"tls": _tls_data(values["ca_file"], values["cert_file"], values["key_file"])}

    return with_parameters(command, flags, collect, provides=("tls",))
