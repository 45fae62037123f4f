"""Talk to the kustomize build server: one long-lived process per controller, many builds.

A build used to be a ``kubectl kustomize`` process; starting one costs more CPU than most
builds do. :class:`BuildServer` starts Tide's server (``buildserver/``, kustomize's Go API)
on first use and sends it every build as a JSON line; answers come back in any order, matched
by id, so builds run concurrently in one process. The server is restarted when it dies. A build
that outlives its timeout cannot be stopped inside kustomize, so the server is killed and the
other builds it was running are sent again to a fresh one (up to :data:`_ATTEMPTS` times).
Once :meth:`BuildServer.close` ran (the controllers are stopping) no server starts again.

:func:`render_once` is the same protocol for one build from synchronous code (``tide build``,
Helm's post-renderer): one short-lived server, like the ``kubectl kustomize`` it replaces.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import os
import subprocess
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tide.kustomize.cancel import Cancellation
from tide.kustomize.paths import BuildError

__all__ = [
    "BuildServer",
    "KustomizeFailed",
    "close_shared",
    "find_program",
    "render_once",
    "shared",
]

log = logging.getLogger(__name__)

_START_TIMEOUT = 30.0
"""Seconds the server may take to say it is ready."""
_ATTEMPTS = 3
"""Servers a build is sent to when the one running it dies under it (killed for another
build's timeout, say) before the build fails."""
_LINE_LIMIT = 1 << 30
"""Longest answer line read (the rendered YAML of one build, JSON-quoted)."""
_STDERR_LINES = 20
_STOPPED = "kustomize build server was stopped: the controllers are stopping"


class KustomizeFailed(Exception):
    """Kustomize refused the build; ``str()`` is its own message, paths as it wrote them."""


class _ServerExited(Exception):
    """The server died with this build in flight."""


@dataclass
class _Connection:
    """One server process and the builds sent to it."""

    process: asyncio.subprocess.Process
    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    exited: str | None = None
    """How it ended, once its answers' reader saw it end; nothing is sent to it after."""


class BuildServer:
    """One build server process, started on first use and again whenever it has died.

    Args:
        program: the server binary (:func:`tide.kustomize.server_binary.find_server`).
    """

    def __init__(self, program: Path) -> None:
        self.program = program
        self.version = ""
        """The kustomize API version the running server reported (empty before it starts)."""
        self.starts = 0
        """Processes started so far; tests and benchmarks read it."""
        self._connection: _Connection | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The running server's process id, or ``None`` when none runs."""
        connection = self._connection
        return connection.process.pid if connection and connection.exited is None else None

    async def render(
        self, directory: Path, *, files: Mapping[str, str] | None = None, timeout: float
    ) -> str:
        """Build ``directory`` and return kustomize's YAML, byte for byte ``kubectl kustomize``'s.

        Args:
            directory: the folder to build (absolute).
            files: extra files, by absolute path, read as if they were on disk.
            timeout: seconds the build may take, the server's start included.

        Raises:
            KustomizeFailed: kustomize refused the build (its message, untouched).
            BuildError: the build timed out, or the server could not start or kept dying.
        """
        request = {"dir": str(directory), "files": dict(files or {})}
        deadline = asyncio.get_running_loop().time() + timeout
        for attempt in range(1, _ATTEMPTS + 1):
            # The connection this build runs on: a timeout kills that one only, never a fresh
            # server that replaced it meanwhile (and the healthy builds on it).
            connection: _Connection | None = None
            try:
                async with asyncio.timeout_at(deadline):
                    connection = await self._running()
                    answer = await self._ask(connection, request)
            except TimeoutError as error:
                if connection is not None:
                    await self._stop(connection)
                raise BuildError(f"kustomize build timed out after {timeout:g}s") from error
            except _ServerExited as error:
                if attempt == _ATTEMPTS:
                    raise BuildError(f"kustomize build server {error}") from error
                continue
            if "error" in answer:
                raise KustomizeFailed(answer["error"])
            return str(answer.get("yaml", ""))
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Stop the server for good: builds in flight on it, and later ones, fail.

        Closed means the controllers are stopping (:func:`close_shared`); starting a server
        again for their last builds would leave a process nothing stops.
        """
        self._closed = True
        if self._connection is not None:
            await self._stop(self._connection)

    async def _stop(self, connection: _Connection) -> None:
        """Kill ``connection``'s process; builds in flight on it are sent to the next server."""
        if self._connection is connection:
            self._connection = None
        await _kill(connection.process)

    async def _ask(self, connection: _Connection, request: dict[str, Any]) -> dict[str, Any]:
        if connection.exited is not None:
            raise _ServerExited(connection.exited)
        ident = str(next(self._ids))
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        connection.pending[ident] = answer
        try:
            line = json.dumps({"id": ident, **request}, separators=(",", ":")) + "\n"
            stdin = connection.process.stdin
            assert stdin is not None
            try:
                stdin.write(line.encode())
                await stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # it died: its reader fails ``answer``
            return await answer
        finally:
            connection.pending.pop(ident, None)

    async def _running(self) -> _Connection:
        async with self._lock:
            if self._closed:
                raise BuildError(_STOPPED)
            if self._connection is not None and self._connection.exited is None:
                return self._connection
            process = await asyncio.create_subprocess_exec(
                str(self.program),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
            )
            self.starts += 1
            self._stderr.clear()
            self._spawn(self._drain_stderr(process))
            try:
                hello = await self._hello(process)
            except BaseException:
                # Timed out or cancelled mid-start: the process is in no connection yet, so
                # nothing else would ever stop it.
                await _kill(process)
                raise
            if not hello.get("ready"):
                await _kill(process)
                raise BuildError(f"kustomize build server {self._exit_message(process)}")
            if self._closed:  # closed while it started
                await _kill(process)
                raise BuildError(_STOPPED)
            self.version = str(hello.get("kustomize", ""))
            log.info(
                "kustomize build server started (pid %d, kustomize api %s)",
                process.pid,
                self.version,
            )
            self._connection = _Connection(process)
            self._spawn(self._read_answers(self._connection))
            return self._connection

    @staticmethod
    async def _hello(process: asyncio.subprocess.Process) -> dict[str, Any]:
        """Read the server's ready line (``{}`` when it ends, garbles or is slow to say it)."""
        assert process.stdout is not None
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                hello = json.loads(await process.stdout.readline() or b"{}")
        except (TimeoutError, ValueError):
            return {}
        return hello if isinstance(hello, dict) else {}

    async def _read_answers(self, connection: _Connection) -> None:
        process = connection.process
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                answer = json.loads(line)
                waiter = connection.pending.get(str(answer.get("id")))
                if waiter is not None and not waiter.done():
                    waiter.set_result(answer)
        except (ValueError, asyncio.LimitOverrunError, asyncio.IncompleteReadError) as error:
            log.warning("kustomize build server: unreadable answer (%s); restarting it", error)
            process.kill()
        await process.wait()
        connection.exited = self._exit_message(process)
        if self._connection is connection:
            self._connection = None
        for waiter in connection.pending.values():
            if not waiter.done():
                waiter.set_exception(_ServerExited(connection.exited))

    async def _drain_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            log.debug("kustomize build server: %s", text)

    def _exit_message(self, process: asyncio.subprocess.Process) -> str:
        code = process.returncode
        if code is not None and code < 0:
            status = f"was killed (signal {-code})"
        elif code:
            status = f"exited with code {code}"
        else:
            status = "exited"
        said = "; ".join(line for line in self._stderr if line)
        return f"{status}: {said}" if said else status

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


def find_program() -> Path | None:
    """Return the server binary, or ``None`` (logged once per process) to use kubectl."""
    global _fallback_logged
    # Imported here: ``python -m tide.kustomize.server_binary`` must find it not yet loaded.
    from tide.kustomize import server_binary

    program = server_binary.find_server()
    if program is None and not _fallback_logged:
        _fallback_logged = True
        why = f"kustomize build server {server_binary.PROGRAM} not found (make kustomize-build)"
        if os.environ.get(server_binary.ENV) == "kubectl":
            why = f"{server_binary.ENV}=kubectl"
        log.warning("%s: building with kubectl kustomize, one process per build", why)
    return program


_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, BuildServer | None] = (
    weakref.WeakKeyDictionary()
)
_fallback_logged = False


def shared() -> BuildServer | None:
    """Return this process's build server (one per event loop), or ``None`` to use kubectl.

    The first call without a server binary logs, once, that builds fall back to
    ``kubectl kustomize``.
    """
    loop = asyncio.get_running_loop()
    if loop in _shared:
        return _shared[loop]
    program = find_program()
    server = BuildServer(program) if program is not None else None
    _shared[loop] = server
    return server


async def close_shared() -> None:
    """Stop this event loop's build server, if one was started (the controllers are stopping).

    Without this the server would outlive a manager stopped inside a longer-lived process (a
    test run, ``tide dev``) until that process ends and the server's stdin closes.
    """
    server = _shared.pop(asyncio.get_running_loop(), None)
    if server is not None:
        await server.close()


def render_once(
    program: Path,
    directory: Path,
    *,
    files: Mapping[str, str] | None = None,
    timeout: float,
    cancel: Cancellation | None = None,
) -> str:
    """Build ``directory`` with a server of its own that ends with the build (synchronous code).

    Raises:
        KustomizeFailed: kustomize refused the build.
        BuildError: the build timed out, or the server failed.
        tide.kustomize.cancel.BuildCancelled: ``cancel`` was cancelled first.
    """
    process = (cancel or Cancellation()).start([str(program), "-drain"], stdin=True)
    line = json.dumps({"id": "1", "dir": str(directory), "files": dict(files or {})})
    try:
        stdout, stderr = process.communicate(line + "\n", timeout=timeout)
    except subprocess.TimeoutExpired as error:
        process.kill()
        process.communicate()
        raise BuildError(f"kustomize build timed out after {timeout:g}s") from error
    answers = [json.loads(text) for text in stdout.splitlines() if text.strip()]
    answer = next((a for a in answers if a.get("id") == "1"), None)
    if answer is None:
        said = "; ".join(stderr.strip().splitlines()[-_STDERR_LINES:])
        raise BuildError(f"kustomize build server exited with code {process.returncode}: {said}")
    if "error" in answer:
        raise KustomizeFailed(answer["error"])
    return str(answer.get("yaml", ""))
