"""Start a server process in its own process group and stop it for sure, even when orphaned.

A server is known by more than its process id: :class:`ServerProcess` also keeps the process's
start time and executable, read from ``/proc`` right after the start. A state file read back
after a reboot, or long after the server died, may hold a pid the kernel has since given to an
unrelated program; every signal and every "is it alive?" first checks that the pid still names
the process we started, and a mismatch counts as "already gone".
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["ServerProcess", "free_port", "pid_alive"]

_PR_SET_PDEATHSIG = 1
"""``prctl`` option from ``<linux/prctl.h>``: the signal a process gets when its parent dies."""
_DELETED = " (deleted)"
"""What ``/proc/<pid>/exe`` appends once the executable was replaced on disk (a rebuild)."""


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
    stat = _stat(pid)
    return stat is None or stat[0] != "Z"


def _stat(pid: int) -> tuple[str, int] | None:
    """Return ``pid``'s state letter and start time (field 22 of ``/proc/<pid>/stat``).

    The start time counts clock ticks since boot, so together with the pid it names one process
    for the life of the machine. Fields are split after the last ``)``: the command name in
    field 2 may itself contain spaces and parentheses.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _exe(pid: int) -> str | None:
    """Return the path of ``pid``'s executable, or None when it cannot be read (or is a zombie)."""
    try:
        path = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return path.removesuffix(_DELETED)


@functools.cache
def _prctl() -> Callable[..., int]:
    """Resolve libc's ``prctl`` once, in the parent: a forked child must not ``dlopen``."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return libc.prctl


def _die_with_parent_hook() -> Callable[[], None]:
    """Return a ``preexec_fn`` that makes the child get SIGTERM when this process dies.

    The parent's pid is captured before the fork so the child can tell whether the parent died
    in the instant between ``fork`` and ``prctl``; it then exits instead of running on.
    """
    prctl = _prctl()
    parent = os.getpid()

    def hook() -> None:
        if prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:
            os._exit(1)

    return hook


@dataclass
class ServerProcess:
    """One running server: its name, process id, log file, and what proves the pid is still it.

    ``start_time`` (clock ticks since boot) and ``exe`` (the executable's path) are read when the
    server starts. A record without them, such as a state file from an older Tide, cannot be
    verified and is treated as gone: signalling a pid we cannot vouch for could hit anything.
    Start the server binary itself, not a wrapper that ``exec``s it later: the executable is
    read once, right after the start, and a later ``exec`` would make the server look gone.
    """

    name: str
    pid: int
    log: Path
    start_time: int | None = None
    exe: str | None = None

    @classmethod
    def start(
        cls,
        name: str,
        command: list[str],
        *,
        log: Path,
        die_with_parent: bool = False,
    ) -> ServerProcess:
        """Start ``command`` in a new session, output appended to ``log``.

        The new session makes the server its own process-group leader, so stopping it also stops
        anything it spawned, and a Ctrl-C meant for the caller does not reach it half-way.

        Args:
            name: what error messages and state files call the server.
            command: program and arguments.
            log: file the server's stdout and stderr are appended to.
            die_with_parent: have Linux send the server SIGTERM when its parent dies, even by
                SIGKILL, when no ``atexit`` handler runs (default False: the server outlives
                us, as ``tide dev up`` wants).

        Linux sends that signal when the *thread* that forked the server exits, not the whole
        process. Call this from a thread that lives as long as the server should, such as the
        main thread; from a short-lived worker thread the server would be stopped as soon as
        that thread ends.
        """
        preexec = _die_with_parent_hook() if die_with_parent else None
        with log.open("ab") as sink:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=preexec,
            )
        # Popen returns once exec succeeded, so /proc already shows the server's own executable.
        stat = _stat(process.pid)
        return cls(
            name=name,
            pid=process.pid,
            log=log,
            start_time=stat[1] if stat else None,
            exe=_exe(process.pid),
        )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ServerProcess:
        """Rebuild a process from :meth:`record` output (missing identity fields stay None)."""
        return cls(
            name=record["name"],
            pid=int(record["pid"]),
            log=Path(record["log"]),
            start_time=record.get("start_time"),
            exe=record.get("exe"),
        )

    def record(self) -> dict[str, Any]:
        """Return the process as JSON-ready data for a state file."""
        return {**asdict(self), "log": str(self.log)}

    def matches(self) -> bool:
        """Tell whether ``pid`` still names the process we started.

        The pid and its start time (clock ticks since boot) name one process for the life of the
        machine, so they decide. The executable is not compared: read while the child is still
        between fork and exec it names the parent's, and a false "not ours" would leave a live
        server behind. Without a recorded start time (an old state file) nothing is trusted.
        """
        if self.start_time is None:
            return False
        stat = _stat(self.pid)
        return stat is not None and stat[1] == self.start_time

    def alive(self) -> bool:
        """Tell whether the server still runs (a pid that now names another process does not).

        Our own exited child is reaped on the way; a reused pid is never waited for, so another
        child of this process that got the number (a ``kubectl`` run) is not reaped behind its
        owner's back.
        """
        if not self.matches():
            return False
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, os.WNOHANG)
        return pid_alive(self.pid) and self.matches()

    def log_tail(self, lines: int = 25) -> str:
        """Return the last lines the server wrote, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server and everything in its process group: SIGTERM, SIGKILL after ``timeout``.

        A pid that now names another process is left alone: ours is already gone.
        """
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self._signal_group(sig):
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self._gone():
                    return
                time.sleep(0.005)

    def _signal_group(self, sig: signal.Signals) -> bool:
        """Send ``sig`` to the server's process group; False when the pid is someone else's.

        When no process has the pid at all, the group may still hold the server's children, and
        the kernel does not hand out a pid still in use as a group id, so signalling it is safe.
        """
        if _stat(self.pid) is not None and not self.matches():
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)
        return True

    def _gone(self) -> bool:
        """Tell whether the server has exited for good.

        For our own child that means reaped: a multi-threaded server's leader turns zombie while
        its other threads still hold its sockets for a few milliseconds, and only once
        ``waitpid`` reaps it are all its files (the listening port included) closed. A process
        started by another process (``tide dev`` state) cannot be reaped here; its zombie state
        counts as gone.
        """
        if not self.matches():
            return True
        try:
            reaped, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return not pid_alive(self.pid)
        return reaped == self.pid
