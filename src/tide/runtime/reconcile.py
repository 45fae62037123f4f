"""The contract between a reconciler and the runtime that drives it; nothing about queues.

A reconciler answers one question: given the name of an object, bring the world in line with it.
The runtime decides when to ask (watch events, intervals, retries). Three outcomes, three shapes:

- Done, or waiting on something outside (a source, a dependency): return ``Result``, with
  ``requeue_after`` to look again later (and ``Ready=False`` + reason while waiting). The
  runtime forgets past failures and requeues after the delay, if one was given.
- Bad configuration that retrying cannot fix: set ``Stalled=True`` and raise ``TerminalError``.
  The runtime logs it and does not retry until the object changes.
- Transient failure (API error, network): raise any other exception. The runtime retries with
  exponential backoff, 750 ms doubling up to 15 min.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Reconciler", "Request", "Result", "TerminalError"]


@dataclass(frozen=True, order=True)
class Request:
    """Names the object to reconcile; the reconciler reads the object itself."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class Result:
    """What to do after a successful reconcile.

    Attributes:
        requeue_after: seconds until the object is looked at again (None: only on change).
        requeue: look again soon, with backoff, without counting it as an error.
    """

    requeue_after: float | None = None
    requeue: bool = False


class TerminalError(Exception):
    """A failure that retrying cannot fix until the object changes; never retried."""


class Reconciler(Protocol):
    """Brings the world in line with one object. See the module docstring for outcomes."""

    async def reconcile(self, request: Request) -> Result:
        """Reconcile the object ``request`` names."""
        ...
