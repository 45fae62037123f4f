"""Run OpenSSH's sshd on loopback so Git clients fetch and push over SSH, as from a real host.

The daemon gets its own host key, config and authorized-keys file in a folder of the caller's, and
lets in one account only. Every session runs :data:`_GIT_COMMAND` (sshd's ``ForceCommand``), which
maps ``ssh://USER@127.0.0.1:PORT/<name>.git`` onto ``<repos>/<name>.git`` and hands it to
``git-shell``, so a key holder can fetch and push and do nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tide.testing._process import ServerProcess, free_port

__all__ = ["SSHD", "SshKeyPair", "Sshd", "descendants", "mint_key"]

SSHD = Path("/usr/sbin/sshd")
"""Debian's ``openssh-server`` daemon (``hack/install-test-deps.sh`` installs it)."""

_PRIVSEP_DIR = Path("/run/sshd")
"""sshd running as root refuses to start without it; /run is emptied at boot, so make it anew."""

_GIT_COMMAND = r"""#!/bin/sh
# Serve one Git fetch or push from the repository folder "$1"; refuse everything else.
cd "$1" || exit 128
case "$SSH_ORIGINAL_COMMAND" in
    "git-upload-pack '"* | "git upload-pack '"*) verb=git-upload-pack ;;
    "git-receive-pack '"* | "git receive-pack '"*) verb=git-receive-pack ;;
    "git-upload-archive '"* | "git upload-archive '"*) verb=git-upload-archive ;;
    *) echo "tide git server: only git fetch and push are served" >&2; exit 128 ;;
esac
path=${SSH_ORIGINAL_COMMAND#*\'}
path=${path%\'}
path=${path#/}
case "$path" in
    "" | -* | *..* | *\'* | *\\*) echo "tide git server: bad repository path" >&2; exit 128 ;;
esac
exec git-shell -c "$verb '$path'"
"""


@dataclass(frozen=True)
class SshKeyPair:
    """An ed25519 key pair in the two forms SSH tools and Flux secrets use."""

    private_key: str
    """OpenSSH private key text, unencrypted: a Flux ``identity`` or an ``ssh -i`` file."""
    public_key: str
    """One ``ssh-ed25519 AAAA…`` line, as in ``authorized_keys``."""


def mint_key() -> SshKeyPair:
    """Generate an ed25519 key pair in-process (what ``ssh-keygen -t ed25519 -N ""`` writes)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return SshKeyPair(private.decode(), public.decode())


class Sshd:
    """One sshd on a free port of 127.0.0.1 that serves the Git repositories under ``repos``.

    Args:
        folder: where config, host key, authorized keys and log go (created; must be reachable by
            ``user``, as sshd reads the authorized keys and runs the Git command as that user).
        repos: the folder holding ``<name>.git`` repositories.
        user: the one account that may log in; sshd only logs in accounts that exist.
    """

    def __init__(self, folder: Path, *, repos: Path, user: str) -> None:
        self.folder = folder
        self.repos = repos
        self.user = user
        self.port = 0
        self.host_key = mint_key()
        self._process: ServerProcess | None = None

    @property
    def known_hosts(self) -> str:
        """Return the ``known_hosts`` line that pins this daemon's host key."""
        algorithm, blob = self.host_key.public_key.split()[:2]
        return f"[127.0.0.1]:{self.port} {algorithm} {blob}\n"

    def authorize(self, public_key: str) -> None:
        """Let ``public_key`` log in; sshd reads the file at each login, so no restart."""
        with (self.folder / "authorized_keys").open("a") as keys:
            keys.write(public_key.strip() + "\n")

    def start(self, *, timeout: float = 15.0) -> None:
        """Start sshd and return once it listens.

        sshd writes its pid file right after it starts listening, so readiness is read from there
        rather than probed with a connection (which sshd would log as a failed key exchange).
        """
        if not SSHD.exists():
            raise FileNotFoundError(f"{SSHD} is missing; run hack/install-test-deps.sh")
        if os.geteuid() == 0:
            _PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self.folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        host_key = self.folder / "ssh_host_ed25519_key"
        host_key.touch(mode=0o600)
        host_key.write_text(self.host_key.private_key)
        (self.folder / "authorized_keys").touch(mode=0o644)
        command = self.folder / "git-command"
        command.write_text(_GIT_COMMAND)
        command.chmod(0o755)
        self.port = free_port()
        config = self.folder / "sshd_config"
        config.write_text(self._config(host_key, command))
        self._process = ServerProcess.start(
            "sshd", [str(SSHD), "-D", "-e", "-f", str(config)], log=self.folder / "sshd.log"
        )
        deadline = time.monotonic() + timeout
        pid_file = self.folder / "sshd.pid"
        while not pid_file.exists():
            if not self._process.alive():
                raise RuntimeError(f"sshd exited during start:\n{self._process.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd not up within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop sshd and every session it still serves.

        sshd puts each connection in a new session (``setsid``), out of reach of the process-group
        signal that stops the listener, so open connections are found by parent pid and killed.
        """
        if self._process is not None:
            sessions = descendants(self._process.pid)
            self._process.stop()
            for pid in sessions:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            self._process = None

    def log_tail(self) -> str:
        """Return the last lines sshd logged, for error messages."""
        return self._process.log_tail() if self._process is not None else ""

    def _config(self, host_key: Path, command: Path) -> str:
        # ForceCommand (rather than command="…" on each key) keeps authorized_keys plain key lines
        # that tests can append to, and no key can escape it. MaxStartups is raised so benchmark
        # bursts of parallel fetches are not dropped by sshd's default 10:30:100.
        return f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {self.folder / "sshd.pid"}
AuthorizedKeysFile {self.folder / "authorized_keys"}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {self.user}
ForceCommand {command} {self.repos}
AcceptEnv GIT_PROTOCOL
DisableForwarding yes
PermitTTY no
PermitUserRC no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100:30:200
LogLevel ERROR
"""


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below ``pid``, read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found += below
        pending += below
    return found
