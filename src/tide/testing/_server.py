"""What the throwaway servers of :mod:`tide.testing` share: credentials, TLS, a folder, a process.

:class:`~tide.testing.chartrepo.ChartRepository` and :class:`~tide.testing.registry.Registry`
start the same way (refuse a second start, make a private folder, launch, clean up on any
failure) and stop the same way (stop the process, remove the folder); the atexit hook stops any
still running, so an aborted test run leaves no servers behind.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar, Self

from tide.testing import _certs
from tide.testing._process import ServerProcess

__all__ = ["LocalServer"]

_RUNNING: set[LocalServer] = set()


class LocalServer:
    """Base of a server on ``127.0.0.1`` run in a process of its own, optionally behind auth/TLS.

    Args:
        username: require HTTP basic auth with this user name (default: no auth).
        password: the password for ``username``.
        tls: serve HTTPS with a certificate from a fresh CA, published as :attr:`ca_pem`
            (default: plain HTTP).
    """

    _error: ClassVar[type[RuntimeError]] = RuntimeError
    """Raised for a second start, and by subclasses when the server fails."""
    _what: ClassVar[str] = "server"
    """What the server is, in messages ("registry")."""
    _prefix: ClassVar[str] = "tide-server-"
    """Prefix of its temporary folder."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_pem: bytes | None = None
        """The CA certificate (PEM) that signed the HTTPS certificate; ``None`` without TLS."""
        self._root: Path | None = None
        self._process: ServerProcess | None = None

    def start(self) -> Self:
        """Start the server and return once it accepts connections."""
        if self._process is not None:
            raise self._error(f"{self._what} already started")
        self._preflight()
        self._root = Path(tempfile.mkdtemp(prefix=self._prefix))
        _RUNNING.add(self)
        try:
            self._launch(self._root)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder with everything served from it."""
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._root is not None:
            self._before_removal()
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        self._stopped()
        _RUNNING.discard(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_tls(self, root: Path, ca_name: str) -> tuple[Path, Path]:
        """Issue a loopback serving certificate from a fresh CA; return (cert, key) files.

        The CA certificate is published as :attr:`ca_pem`; the key file is private to the user.
        """
        authority = _certs.CertificateAuthority(ca_name)
        serving = authority.issue(
            "127.0.0.1", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True
        )
        cert, key = root / "tls.crt", root / "tls.key"
        cert.write_bytes(serving.cert_pem)
        key.touch(mode=0o600)
        key.write_bytes(serving.key_pem)
        self.ca_pem = authority.cert_pem
        return cert, key

    # -- what subclasses provide ------------------------------------------------------------
    def _preflight(self) -> None:
        """Refuse to start when something the server needs is missing (default: nothing)."""

    def _launch(self, root: Path) -> None:
        """Fill ``root`` and start the process (set ``self._process``)."""
        raise NotImplementedError

    def _before_removal(self) -> None:
        """Read what must outlive the folder, before it is removed (default: nothing)."""

    def _stopped(self) -> None:
        """Forget what described the running server (default: nothing)."""


@atexit.register
def _stop_all() -> None:
    """Stop servers the process still runs, so an aborted test run leaves no servers."""
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop()
