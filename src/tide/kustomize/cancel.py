"""Stop a build running in a worker thread when the reconcile waiting for it is cancelled.

Synchronous builds (``tide build``, Helm's post-renderer, and the controller when it has no build
server) run one process — ``kubectl kustomize`` or a one-shot build server — from a worker
thread. Cancelling the asyncio task that awaits
the thread does not stop the thread, and the interpreter waits for every worker thread before
it exits: a controller told to stop with builds in flight would sit until each one finished.
A :class:`Cancellation` handed to the build lets the event loop kill the build's process (and
refuse to start one), so the thread returns at once.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["BuildCancelled", "Cancellation", "in_thread"]

T = TypeVar("T")


class BuildCancelled(RuntimeError):
    """The build was cancelled (the controller is stopping); nobody reads this result."""


class Cancellation:
    """The one subprocess of a build, killed on :meth:`cancel` from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._cancelled = False

    def start(self, command: Sequence[str], *, stdin: bool = False) -> subprocess.Popen[str]:
        """Start ``command`` with its output captured, unless the build was cancelled already.

        Args:
            command: the program and its arguments.
            stdin: give it a pipe to write its input into (default: no input).

        Raises:
            BuildCancelled: :meth:`cancel` was called before.
        """
        with self._lock:
            if self._cancelled:
                raise BuildCancelled("the build was cancelled")
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            return self._process

    def cancel(self) -> None:
        """Kill the running process, if any, and refuse any later :meth:`start`."""
        with self._lock:
            self._cancelled = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args, cancel=…)`` in a worker thread; cancelling the caller stops it."""
    cancellation = Cancellation()
    try:
        return await asyncio.to_thread(function, *args, cancel=cancellation)
    except asyncio.CancelledError:
        cancellation.cancel()
        raise
