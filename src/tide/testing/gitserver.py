"""A real Git server on loopback: smart HTTP(S) with Basic or bearer auth, and SSH.

``GitServer`` serves bare repositories from a temp folder the way GitHub or Gitea would, so source
controllers are tested against real ``git`` protocol traffic. HTTP runs git's own
``git http-backend`` (CGI) behind a small ``ThreadingHTTPServer`` in a separate process: the
controllers under test share the test's event loop, and a server in the test process would block
it. SSH runs Debian's OpenSSH daemon (see :mod:`tide.testing._sshd`).

Example::

    with GitServer(username="flux", password="s3cret") as git:
        sha = git.create_repo("demo", {"deploy/cm.yaml": CONFIG_MAP})
        url = git.http_url("demo")  # http://127.0.0.1:PORT/demo.git

SSH logins are as the ``git`` account when the tests run as root and that account exists
(``hack/install-test-deps.sh`` creates it, as real Git hosts have one); the repositories then
belong to ``git`` and the HTTP server drops to it too, so HTTP and SSH pushes mix. Otherwise SSH
logs in as the current user, and :attr:`GitServer.ssh_user` names who that is.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import hmac
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tide.testing import _certs, _sshd
from tide.testing._process import ServerProcess, free_port

__all__ = ["GitServer", "GitServerError"]

HTTP_BACKEND = Path("/usr/lib/git-core/git-http-backend")
"""Git's smart-HTTP CGI program, shipped with Debian's ``git`` package."""

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")
_IDENTITY = {"name": "Tide Test", "email": "tide-test@example.invalid"}
_RUNNING: set[GitServer] = set()


class GitServerError(RuntimeError):
    """The Git server failed to start, or a repository operation failed; says why."""


class GitServer:
    """A throwaway Git server on 127.0.0.1, over smart HTTP(S) and optionally SSH.

    Args:
        username: Basic-auth user name; with ``password``, every HTTP request must carry them
            (default: none, the server is open).
        password: Basic-auth password.
        token: a bearer token accepted as ``Authorization: Bearer <token>`` (default: none). With
            both set, either credential is accepted.
        tls: serve HTTPS with a certificate from a fresh CA, published as :attr:`ca_pem`.
        ssh: also serve the repositories over SSH (needs ``/usr/sbin/sshd``).
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        tls: bool = False,
        ssh: bool = False,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.username = username
        self.password = password
        self.token = token
        self.tls = tls
        self.ssh = ssh
        self.ca_pem: bytes | None = None
        """The CA certificate that signed the HTTPS certificate (``tls=True`` only)."""
        self.startup_seconds = 0.0
        """Measured seconds from ``start()`` to every server answering."""
        self.ssh_user = _ssh_account(ssh).pw_name
        """The account SSH clients log in as: the user part of :meth:`ssh_url`."""
        self._root: Path | None = None
        self._http: ServerProcess | None = None
        self._sshd: _sshd.Sshd | None = None
        self._client_key: _sshd.SshKeyPair | None = None
        self._port = 0

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> GitServer:
        """Start the servers and return once each accepts connections."""
        began = time.monotonic()
        self._root = Path(tempfile.mkdtemp(prefix="tide-git-"))
        _RUNNING.add(self)
        try:
            self._repos.mkdir()
            if self._owner.pw_uid != os.geteuid():
                # The owner account must reach the repositories and the SSH folder.
                self._root.chmod(0o755)
                os.chown(self._repos, self._owner.pw_uid, self._owner.pw_gid)
            self._start_http()
            if self.ssh:
                self._sshd = _sshd.Sshd(self._root / "ssh", repos=self._repos, user=self.ssh_user)
                try:
                    self._sshd.start()
                except (OSError, RuntimeError) as error:
                    raise GitServerError(f"SSH server: {error}") from error
                self._client_key = _sshd.mint_key()
                self._sshd.authorize(self._client_key.public_key)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop the servers and remove every repository."""
        if self._sshd is not None:
            self._sshd.stop()
            self._sshd = None
        if self._http is not None:
            self._http.stop()
            self._http = None
            self._port = 0
        _RUNNING.discard(self)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> GitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and credentials ------------------------------------------------------------
    def http_url(self, name: str) -> str:
        """Return the clone URL of ``name`` over HTTP(S), without credentials."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._require_port()}/{_check_name(name)}.git"

    def ssh_url(self, name: str) -> str:
        """Return the clone URL of ``name`` over SSH, as ``ssh://USER@127.0.0.1:PORT/<name>.git``."""
        return (
            f"ssh://{self.ssh_user}@127.0.0.1:{self._require_sshd().port}/{_check_name(name)}.git"
        )

    def client_key(self) -> tuple[str, str]:
        """Return ``(private key, public key line)`` of an ed25519 key allowed to log in over SSH.

        The private key is OpenSSH text, as a Flux ``identity`` secret key holds it.
        """
        self._require_sshd()
        assert self._client_key is not None
        return self._client_key.private_key, self._client_key.public_key

    @property
    def known_hosts(self) -> str:
        """Return the ``known_hosts`` line that pins the SSH host key.

        One line, ``[127.0.0.1]:PORT ssh-ed25519 AAAA…``, as in a Flux ``known_hosts`` key.
        """
        return self._require_sshd().known_hosts

    @property
    def request_count(self) -> int:
        """Return how many HTTP requests reached git (401s excluded): clones, fetches, pushes.

        Each fetch is a few requests (ref advertisement, then one or more pack negotiations), so
        compare counts before and after rather than expecting exact numbers.
        """
        try:
            with (self._state / "requests.log").open("rb") as log:
                return sum(1 for _ in log)
        except FileNotFoundError:
            return 0

    # -- repositories ---------------------------------------------------------------------------
    def create_repo(
        self,
        name: str,
        files: Mapping[str, str | bytes],
        *,
        branch: str = "main",
        message: str = "initial",
    ) -> str:
        """Create bare repository ``<name>.git`` with one commit of ``files``; return its sha."""
        path = self.create_empty_repo(name, branch=branch)
        return self._fast_import(path, branch, message, files, parent=None)

    def create_empty_repo(self, name: str, *, branch: str = "main") -> Path:
        """Create bare repository ``<name>.git`` with no commit at all; return its folder.

        A new repository on a Git host starts like this (``tide bootstrap git`` pushes the
        first commit); ``HEAD`` names ``branch``, which does not exist until pushed.
        """
        path = self._repo(name, exist=False)
        path.mkdir(parents=True)
        if self._owner.pw_uid != os.geteuid():
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        self._git(path, "init", "--quiet", "--bare", f"--initial-branch={branch}")
        # Let clients fetch any reachable commit by sha, as Flux does for spec.ref.commit.
        self._git(path, "config", "uploadpack.allowReachableSHA1InWant", "true")
        # Accept `git push --push-option` and keep the last push's options for push_options().
        self._git(path, "config", "receive.advertisePushOptions", "true")
        self._hook(
            path,
            "post-receive",
            ": > push-options.log\n"
            "i=0\n"
            'while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do\n'
            '  eval "echo \\"\\$GIT_PUSH_OPTION_$i\\"" >> push-options.log\n'
            "  i=$((i + 1))\n"
            "done\n",
        )
        return path

    def commit(
        self,
        name: str,
        files: Mapping[str, str | bytes | None],
        *,
        branch: str = "main",
        message: str = "update",
    ) -> str:
        """Commit ``files`` on ``branch`` and return the new sha; ``None`` deletes a file.

        A new branch starts from the repository's default branch (the one ``create_repo`` made).
        """
        path = self._repo(name)
        parent = self._rev(path, f"refs/heads/{branch}") or self._rev(path, "HEAD")
        return self._fast_import(path, branch, message, files, parent=parent)

    def tag(self, name: str, tag: str, *, ref: str = "main", annotated: bool = False) -> str:
        """Tag ``ref`` as ``tag`` (annotated or lightweight); return the tagged commit's sha."""
        path = self._repo(name)
        sha = self.head(name, ref)
        options = ["-a", "-m", f"Release {tag}"] if annotated else []
        self._git(path, "tag", *options, tag, sha)
        return sha

    def head(self, name: str, ref: str = "main") -> str:
        """Return the commit sha a branch or tag points to now."""
        sha = self._rev(self._repo(name), ref)
        if sha is None:
            raise GitServerError(f"{name}: no ref {ref!r}")
        return sha

    def read(self, name: str, path: str, *, ref: str = "main") -> str:
        """Return the content of ``path`` at ``ref`` (what a push left there)."""
        return self._git(self._repo(name), "show", f"{ref}:{_check_path(path).decode()}")

    def commit_info(self, name: str, ref: str = "main") -> dict[str, str]:
        """Return ``ref``'s commit as ``{sha, author_name, author_email, committer_email,
        message, signed}`` (``signed``: ``yes`` when the commit carries a ``gpgsig`` header)."""
        fields = "%H%x00%an%x00%ae%x00%ce%x00%B"
        out = self._git(self._repo(name), "log", "-1", f"--format={fields}", ref)
        sha, author, email, committer, message = out.split("\0", 4)
        raw = self._git(self._repo(name), "cat-file", "commit", sha)
        header = raw.partition("\n\n")[0]
        signature = "yes" if "\ngpgsig " in f"\n{header}" else "no"
        return {
            "sha": sha,
            "author_name": author,
            "author_email": email,
            "committer_email": committer,
            "signed": signature,
            "message": message.rstrip("\n"),
        }

    def push_options(self, name: str) -> list[str]:
        """Return the ``--push-option`` values the last push to ``name`` sent, in order."""
        log = self._repo(name) / "push-options.log"
        return log.read_text().splitlines() if log.exists() else []

    def reject_pushes(self, name: str, *, ref: str, message: str) -> None:
        """Refuse every push that updates ``ref`` (a protected branch), saying ``message``.

        Installs a ``pre-receive`` hook, as Git hosts implement protected branches; the client
        sees ``[remote rejected] (pre-receive hook declined)`` and ``remote: <message>``.
        """
        self._hook(
            self._repo(name),
            "pre-receive",
            "while read old new ref; do\n"
            f'  if [ "$ref" = {_shell_quote(ref)} ]; then\n'
            f"    echo {_shell_quote(message)} >&2\n"
            "    exit 1\n"
            "  fi\n"
            "done\n",
        )

    def allow_pushes(self, name: str) -> None:
        """Remove what :meth:`reject_pushes` installed."""
        (self._repo(name) / "hooks" / "pre-receive").unlink(missing_ok=True)

    def add_submodule(
        self, name: str, path: str, sub_repo_name: str, *, branch: str = "main"
    ) -> str:
        """Commit a submodule at ``path`` pinned to ``sub_repo_name``'s default-branch head.

        ``.gitmodules`` records :meth:`http_url` of the sub-repository, which is what a clone with
        ``--recurse-submodules`` (Flux's ``recurseSubmodules``) follows. Returns the new sha.
        """
        repo = self._repo(name)
        sub_sha = self.head(sub_repo_name, "HEAD")
        current = self._git(
            repo, "cat-file", "blob", f"refs/heads/{branch}:.gitmodules", check=False
        )
        section = f'[submodule "{path}"]\n\tpath = {path}\n\turl = {self.http_url(sub_repo_name)}\n'
        parent = self.head(name, f"refs/heads/{branch}")
        return self._fast_import(
            repo,
            branch,
            f"add submodule {path}",
            {".gitmodules": current + section},
            parent=parent,
            gitlinks={path: sub_sha},
        )

    # -- internals ------------------------------------------------------------------------------
    @property
    def _state(self) -> Path:
        if self._root is None:
            raise GitServerError("git server not started")
        return self._root

    @property
    def _repos(self) -> Path:
        return self._state / "repos"

    @property
    def _owner(self) -> pwd.struct_passwd:
        """The account that owns the repositories: the SSH account, or the current user."""
        return pwd.getpwnam(self.ssh_user) if self.ssh else pwd.getpwuid(os.geteuid())

    def _require_port(self) -> int:
        if not self._port:
            raise GitServerError("git server not started")
        return self._port

    def _require_sshd(self) -> _sshd.Sshd:
        if self._sshd is None:
            raise GitServerError("SSH is off: construct GitServer(ssh=True) and start it")
        return self._sshd

    def _repo(self, name: str, *, exist: bool = True) -> Path:
        path = self._repos / f"{_check_name(name)}.git"
        if path.exists() != exist:
            raise GitServerError(f"repository {name!r} {'does not' if exist else 'already'} exist")
        return path

    def _start_http(self) -> None:
        state = self._state
        options = {"root": str(self._repos), "counter": str(state / "requests.log")}
        if self.tls:
            ca = _certs.CertificateAuthority("tide-git-ca")
            pair = ca.issue(
                "tide-git", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True
            )
            (state / "tls.crt").write_bytes(pair.cert_pem)
            (state / "tls.key").touch(mode=0o600)
            (state / "tls.key").write_bytes(pair.key_pem)
            self.ca_pem = ca.cert_pem
            options |= {"cert": str(state / "tls.crt"), "key": str(state / "tls.key")}
        if self._owner.pw_uid != os.geteuid():
            options["user"] = self._owner.pw_name
        credentials = {"username": self.username, "password": self.password, "token": self.token}
        secrets = state / "auth.json"
        secrets.touch(mode=0o600)
        secrets.write_text(json.dumps(credentials | {"options": options}))
        self._port = free_port()
        self._http = ServerProcess.start(
            "git-http",
            [sys.executable, "-c", _SERVE, "--port", str(self._port), "--config", str(secrets)],
            log=state / "git-http.log",
        )
        deadline = time.monotonic() + 30.0
        while not _accepts(self._port):
            if not self._http.alive():
                raise GitServerError(f"git HTTP server exited:\n{self._http.log_tail()}")
            if time.monotonic() > deadline:
                raise GitServerError(f"git HTTP server not up in 30s:\n{self._http.log_tail()}")
            time.sleep(0.02)

    def _git(self, repo: Path, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
        """Run git in ``repo`` as the owner account, with no user or system config."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self._owner.pw_dir,
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": _IDENTITY["name"],
            "GIT_AUTHOR_EMAIL": _IDENTITY["email"],
            "GIT_COMMITTER_NAME": _IDENTITY["name"],
            "GIT_COMMITTER_EMAIL": _IDENTITY["email"],
        }
        switch: dict[str, Any] = {}
        if self._owner.pw_uid != os.geteuid():
            switch = {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}
        completed = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=env,
            input=stdin,
            capture_output=True,
            check=False,
            **switch,
        )
        if check and completed.returncode != 0:
            error = completed.stderr.decode(errors="replace").strip()
            raise GitServerError(f"git {' '.join(args)} in {repo.name}: {error}")
        return completed.stdout.decode(errors="replace") if completed.returncode == 0 else ""

    def _hook(self, repo: Path, name: str, script: str) -> None:
        """Install hook ``name`` (a ``/bin/sh`` script) in ``repo``, owned by the owner account."""
        hook = repo / "hooks" / name
        hook.write_text("#!/bin/sh\n" + script)
        hook.chmod(0o755)
        if self._owner.pw_uid != os.geteuid():
            os.chown(hook, self._owner.pw_uid, self._owner.pw_gid)

    def _rev(self, repo: Path, ref: str) -> str | None:
        out = self._git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return out.strip() or None

    def _fast_import(
        self,
        repo: Path,
        branch: str,
        message: str,
        files: Mapping[str, str | bytes | None],
        *,
        parent: str | None,
        gitlinks: Mapping[str, str] | None = None,
    ) -> str:
        """Write one commit straight into the bare repository with ``git fast-import``.

        One process per commit, no worktree to clone and check out, and nothing written outside
        the repository, so ownership stays with the owner account.
        """
        when = f"{int(time.time())} +0000".encode()
        who = f"{_IDENTITY['name']} <{_IDENTITY['email']}> ".encode() + when
        stream = [f"commit refs/heads/{branch}\n".encode(), b"author " + who + b"\n"]
        stream += [b"committer " + who + b"\n", *_data(message.encode())]
        if parent is not None:
            stream.append(f"from {parent}\n".encode())
        for file, content in files.items():
            target = _check_path(file)
            if content is None:
                stream.append(b"D " + target + b"\n")
            else:
                raw = content.encode() if isinstance(content, str) else content
                stream += [b"M 100644 inline " + target + b"\n", *_data(raw)]
        for file, sha in (gitlinks or {}).items():
            stream.append(f"M 160000 {sha} ".encode() + _check_path(file) + b"\n")
        stream.append(b"done\n")
        self._git(repo, "fast-import", "--quiet", "--done", stdin=b"".join(stream))
        sha = self._rev(repo, f"refs/heads/{branch}")
        assert sha is not None, "fast-import succeeded, so the branch exists"
        return sha


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _data(raw: bytes) -> list[bytes]:
    return [f"data {len(raw)}\n".encode(), raw, b"\n"]


def _check_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name or name.endswith(".git"):
        raise ValueError(f"bad repository name {name!r}: letters, digits, '._-' and '/' only")
    return name


def _check_path(path: str) -> bytes:
    if not path or "\n" in path or path.startswith(('"', "/")):
        raise ValueError(f"bad file path {path!r}")
    return path.encode()


def _ssh_account(ssh: bool) -> pwd.struct_passwd:
    """Pick who SSH clients log in as: ``git`` when we are root and it exists, else ourselves."""
    if ssh and os.geteuid() == 0:
        try:
            return pwd.getpwnam("git")
        except KeyError:
            pass
    return pwd.getpwuid(os.geteuid())


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# -- the HTTP server process ----------------------------------------------------------------------
_SERVE = "import sys; from tide.testing import gitserver; sys.exit(gitserver.main(sys.argv[1:]))"
"""How the parent starts :func:`main`; ``-c``, as ``-m`` warns when the package imports us first."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    repos = ""
    credentials: dict[str, str | None] = {}
    counter = 0
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """Check credentials, then hand the request to ``git http-backend`` as a CGI request."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        body = self._read_body()
        if not self._authorized():
            self._reply("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="tide"')], b"")
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.repos,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.receivepack",
            "GIT_CONFIG_VALUE_0": "true",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": self.server.credentials.get("username") or "anonymous",
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if header in self.headers:
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        completed = subprocess.run(
            [str(HTTP_BACKEND)], input=body, env=env, capture_output=True, check=False
        )
        with self.server.lock:
            os.write(self.server.counter, f"{self.command} {self.path}\n".encode())
        if completed.stderr:
            sys.stderr.write(completed.stderr.decode(errors="replace"))
        head, content = _split_cgi(completed.stdout)
        status, headers = "200 OK", []
        for line in head.decode(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = value.strip()
            elif key:
                headers.append((key, value.strip()))
        self._reply(status, headers, content)

    do_POST = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorized(self) -> bool:
        credentials = self.server.credentials
        given = self.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if credentials.get("token") and scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip(), credentials["token"] or "")
        if credentials.get("username") and scheme.lower() == "basic":
            expected = f"{credentials['username']}:{credentials['password']}".encode()
            try:
                return hmac.compare_digest(base64.b64decode(value.strip()), expected)
            except ValueError:
                return False
        return not credentials.get("username") and not credentials.get("token")

    def _reply(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def _split_cgi(output: bytes) -> tuple[bytes, bytes]:
    """Split CGI output into header block and body at the first blank line (CRLF or LF)."""
    crlf, lf = output.find(b"\r\n\r\n"), output.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return output[:crlf], output[crlf + 4 :]
    if lf >= 0:
        return output[:lf], output[lf + 2 :]
    return output, b""


def main(argv: list[str]) -> int:
    """Serve ``git http-backend`` on 127.0.0.1 until terminated (the parent's child process)."""
    parser = argparse.ArgumentParser(description="Tide test Git HTTP server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    options = config.pop("options")
    server = _Server(("127.0.0.1", args.port), _Handler)
    server.repos = options["root"]
    server.credentials = config
    server.counter = os.open(options["counter"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if "cert" in options:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options["cert"], options["key"])
        # Handshake in the request's thread, so one stuck client cannot block accept().
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    if "user" in options:
        # Everything privileged (port, key, counter) is open; serve as the repositories' owner.
        account = pwd.getpwnam(options["user"])
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        os.environ["HOME"] = account.pw_dir
    server.serve_forever()
    return 0


@atexit.register
def _stop_all() -> None:
    """Stop Git servers the process still runs, so an aborted test run leaves no servers."""
    for server in list(_RUNNING):
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
