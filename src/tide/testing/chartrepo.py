"""A Helm chart repository over HTTP(S) on loopback, in a process of its own.

Flux's HelmRepository (type ``default``) reads ``index.yaml`` and ``<name>-<version>.tgz`` from a
plain web server, optionally behind basic auth or TLS with a private CA. ``ChartRepository`` is
that server for tests: charts are packaged and indexed by Helm's own SDK (see
:mod:`tide.testing._charts`) into a temp folder, which a small ``http.server`` serves.

The server runs as a separate process (``python -m tide.testing.chartrepo serve …``), not as a
thread of the test process: the code under test runs an asyncio loop in the test process, and a
server thread there would share its GIL time and hide blocking calls. The child writes its bound
port to a ready file (no probe request, so :attr:`ChartRepository.request_count` starts at 0),
logs one line per request it receives, and exits by itself if the process that started it dies.

Example::

    with ChartRepository(username="u", password="p") as repo:
        repo.add_chart("podinfo", "6.5.0", values={"replicaCount": 2})
        # point a HelmRepository at repo.url, with a Secret holding u/p
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import hmac
import http.server
import json
import os
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tide.testing import _charts
from tide.testing._process import ServerProcess
from tide.testing._server import LocalServer

__all__ = ["ChartRepository", "ChartRepositoryError"]

_START_TIMEOUT = 20.0
_REALM = "tide-charts"


class ChartRepositoryError(RuntimeError):
    """The chart server failed to start or is not running; the message carries its log tail."""


class ChartRepository(LocalServer):
    """A throwaway Helm chart repository served on ``127.0.0.1``.

    Args:
        username: require HTTP basic auth with this user name (default: no auth).
        password: the password for ``username``.
        tls: serve HTTPS with a certificate from a fresh CA, published as :attr:`ca_pem`
            (default: plain HTTP).

    The index always lists exactly the archives in the folder: :meth:`add_chart` and
    :meth:`remove_chart` regenerate it with Helm, which also replaces an index written by
    :meth:`write_index`.
    """

    _error = ChartRepositoryError
    _what = "chart repository"
    _prefix = "tide-charts-"

    _url = ""
    _final_count = 0
    """Requests served, read before the folder holding the request log is removed."""

    # -- lifecycle (start, stop and the context manager are LocalServer's) -------------------
    def _launch(self, root: Path) -> None:
        """Start with an empty index."""
        self.charts_dir.mkdir()
        _charts.index_directory(self.charts_dir)
        self._spawn()

    def _before_removal(self) -> None:
        self._final_count = self.request_count

    # -- what tests read ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Return the repository URL, ``http(s)://127.0.0.1:PORT`` (no trailing slash)."""
        if not self._url:
            raise ChartRepositoryError("chart repository not started")
        return self._url

    @property
    def charts_dir(self) -> Path:
        """Return the served folder: ``index.yaml`` and the ``.tgz`` archives."""
        if self._root is None:
            raise ChartRepositoryError("chart repository not started")
        return self._root / "charts"

    @property
    def request_count(self) -> int:
        """Return how many requests the server has received, refused ones (401, 404) included.

        A request is counted when it arrives, before it is answered, so the count is current as
        soon as a client has its response. After :meth:`stop` the last count stays readable.
        """
        if self._root is None:
            return self._final_count
        try:
            with (self._root / "requests.log").open("rb") as log:
                return sum(1 for _ in log)
        except FileNotFoundError:
            return 0

    # -- content ----------------------------------------------------------------------------
    def add_chart(
        self,
        name: str,
        version: str,
        *,
        app_version: str = "1.0.0",
        values: dict[str, Any] | None = None,
        templates: dict[str, str] | None = None,
    ) -> Path:
        """Package a chart with Helm, serve it, re-index; return the served ``.tgz``.

        See :func:`tide.testing.package_chart` for the chart's content and the defaults.
        """
        archive = _charts.package_chart(
            name,
            version,
            self.charts_dir,
            app_version=app_version,
            values=values,
            templates=templates,
        )
        _charts.index_directory(self.charts_dir)
        return archive

    def remove_chart(self, name: str, version: str) -> None:
        """Stop serving one chart version and re-index.

        Raises:
            FileNotFoundError: if that version was never added.
        """
        (self.charts_dir / f"{name}-{version}.tgz").unlink()
        _charts.index_directory(self.charts_dir)

    def write_index(self, text: str) -> None:
        """Serve ``text`` as ``index.yaml`` verbatim, e.g. a malformed index.

        The file is replaced atomically, so a client never reads half of it.
        """
        target = self.charts_dir / "index.yaml"
        scratch = target.with_name(".index.yaml.tmp")
        scratch.write_text(text)
        scratch.replace(target)

    # -- internals --------------------------------------------------------------------------
    def _spawn(self) -> None:
        assert self._root is not None
        ready_file = self._root / "ready"
        command = [
            sys.executable,
            # runpy warns that the package __init__ imported this module before it ran as main.
            "-W",
            "ignore::RuntimeWarning:runpy",
            "-m",
            "tide.testing.chartrepo",
            "serve",
            str(self.charts_dir),
            "0",
            "--ready-file",
            str(ready_file),
            "--request-log",
            str(self._root / "requests.log"),
            "--parent-pid",
            str(os.getpid()),
        ]
        if self.username is not None and self.password is not None:
            auth_file = self._root / "auth.json"
            auth_file.touch(mode=0o600)
            auth_file.write_text(json.dumps({"username": self.username, "password": self.password}))
            command += ["--auth-file", str(auth_file)]
        if self.tls:
            cert, key = self._write_tls(self._root, "tide-charts-ca")
            command += ["--cert", str(cert), "--key", str(key)]
        self._process = ServerProcess.start("chartrepo", command, log=self._root / "server.log")
        deadline = time.monotonic() + _START_TIMEOUT
        while not ready_file.exists():
            if not self._process.alive():
                raise ChartRepositoryError(
                    f"chart server exited during start:\n{self._process.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise ChartRepositoryError(
                    f"chart server not ready within {_START_TIMEOUT:.0f}s:\n"
                    f"{self._process.log_tail()}"
                )
            time.sleep(0.02)
        port = int(ready_file.read_text())
        self._url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"


# -- the server process -------------------------------------------------------------------------
class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    credentials: bytes | None = None
    request_log: Path

    def record(self, line: str) -> None:
        with self.request_log.open("a") as log:
            log.write(line + "\n")

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS handshakes refused by a client that does not trust the CA, and clients hanging
        # up, are what tests provoke on purpose: not worth a traceback in the log.
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError | ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serve files from one folder, no listings, basic auth when the server has credentials."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30
    extensions_map = {".tgz": "application/gzip", ".yaml": "application/x-yaml"}

    def setup(self) -> None:
        super().setup()
        # The listening socket defers TLS handshakes, so a stalled client blocks only its own
        # thread, not the accept loop.
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_GET(self) -> None:
        if self._admit():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._admit():
            super().do_HEAD()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not Found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _admit(self) -> bool:
        self.server.record(f"{self.command} {self.path}")
        if self._authorized():
            return True
        body = b"401 Unauthorized\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", f'Basic realm="{_REALM}"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    def _authorized(self) -> bool:
        expected = self.server.credentials
        if expected is None:
            return True
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            presented = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        # Constant-time, so the comparison says nothing about how much of a guess was right.
        return hmac.compare_digest(presented, expected)


def _exit_with_parent(parent_pid: int) -> None:
    """Exit when the process that started this server is gone, so no server is orphaned."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(0.5)


def serve(argv: list[str]) -> None:
    """Run the chart server until SIGTERM (or until its parent process dies)."""
    parser = argparse.ArgumentParser(prog="python -m tide.testing.chartrepo serve")
    parser.add_argument("directory", type=Path)
    parser.add_argument("port", type=int, help="0 picks a free port")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--request-log", type=Path, required=True)
    parser.add_argument("--auth-file", type=Path)
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)

    handler = functools.partial(_Handler, directory=str(args.directory))
    server = _Server(("127.0.0.1", args.port), handler)
    server.request_log = args.request_log
    if args.auth_file is not None:
        auth = json.loads(args.auth_file.read_text())
        server.credentials = f"{auth['username']}:{auth['password']}".encode()
    if args.cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    if args.parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    port = server.server_address[1]
    scratch = args.ready_file.with_name(args.ready_file.name + ".tmp")
    scratch.write_text(str(port))
    scratch.replace(args.ready_file)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: python -m tide.testing.chartrepo serve DIRECTORY PORT [options]")
    serve(sys.argv[2:])
