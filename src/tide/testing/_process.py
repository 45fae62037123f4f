"""Start a server process in its own process group and stop it for sure, even when orphaned."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerProcess", "free_port", "pid_alive", "stop_pid"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Tell whether ``pid`` runs; a zombie counts as gone (nothing will reap it here)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _gone(pid: int) -> bool:
    """Tell whether ``pid`` has exited for good.

    For our own child that means reaped: a multi-threaded server's leader turns zombie while its
    other threads still hold its sockets for a few milliseconds, and only once ``waitpid`` reaps
    it are all its files (the listening port included) closed. A process started by another
    process (``tide dev`` state) cannot be reaped here; its zombie state counts as gone.
    """
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not pid_alive(pid)
    return reaped == pid


def stop_pid(pid: int, *, timeout: float = 10.0) -> None:
    """Send SIGTERM to ``pid``'s process group, then SIGKILL after ``timeout`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _gone(pid):
                return
            time.sleep(0.005)


@dataclass
class ServerProcess:
    """One running server: its name, process id and log file."""

    name: str
    pid: int
    log: Path

    @classmethod
    def start(cls, name: str, command: list[str], *, log: Path) -> ServerProcess:
        """Start ``command`` in a new session, output appended to ``log``.

        The new session makes the server its own process-group leader, so stopping it also stops
        anything it spawned, and a Ctrl-C meant for the caller does not reach it half-way.
        """
        with log.open("ab") as sink:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name=name, pid=process.pid, log=log)

    def alive(self) -> bool:
        """Tell whether the server still runs."""
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, os.WNOHANG)
        return pid_alive(self.pid)

    def log_tail(self, lines: int = 25) -> str:
        """Return the last lines the server wrote, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server and everything in its process group."""
        stop_pid(self.pid, timeout=timeout)
