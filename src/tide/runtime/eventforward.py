"""Forward every recorded event to a notification controller in another process, over HTTP.

Installed, each component is its own Deployment, so the notification controller does not share
a process with the controllers whose events it alerts on. As Flux's controllers do with
``--events-addr=http://notification-controller.<ns>.svc.<domain>./``, the others then POST each
event as Flux's event JSON to that URL (served by :mod:`tide.notification.intake`).

A reconcile recording an event never waits on the network: :meth:`EventForwarder.submit` only
queues. One background task sends the queue in order, retrying a refused connection, a timeout,
429 or 5xx a few times with backoff; the queue is bounded and drops its oldest event (with a
warning) when the notification controller is gone long enough to fill it. The body is never
logged: the event itself is already in the controller's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["EventForwarder", "flux_event"]

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1000
"""Events queued at most while the notification controller cannot be reached."""


def flux_event(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``payload`` (a recorder's event) as the JSON a Flux controller POSTs.

    Flux's controllers prefix each metadata key with the involved object's API group
    (``kustomize.toolkit.fluxcd.io/revision``), and the notification controller keeps only keys
    so prefixed, stripping the prefix; keys recorded bare are prefixed here so they arrive.
    """
    involved = dict(payload.get("involvedObject") or {})
    group = str(involved.get("apiVersion") or "").rpartition("/")[0]
    metadata = {}
    for key, value in (payload.get("metadata") or {}).items():
        metadata[key if "/" in key or not group else f"{group}/{key}"] = str(value)
    return {**payload, "involvedObject": involved, "metadata": metadata}


class EventForwarder:
    """An :data:`~tide.runtime.events.EventSink` that POSTs events to ``url``.

    Args:
        url: the notification controller's events endpoint (``--events-addr``, an http(s) URL).
        capacity: events queued at most; the oldest is dropped past it.
        timeout: seconds one POST may take.
        attempts: POSTs of one event before it is dropped.
        backoff: seconds before the second attempt, doubling after each further failure.
        transport: for tests; default httpx's.
    """

    def __init__(
        self,
        url: str,
        *,
        capacity: int = DEFAULT_CAPACITY,
        timeout: float = 5.0,
        attempts: int = 4,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(capacity)
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        """Events given up on: the queue was full, or every attempt failed."""

    async def submit(self, payload: dict[str, Any]) -> None:
        """Queue one event; never waits. When the queue is full the oldest event goes."""
        event = flux_event(payload)
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                    self._queue.task_done()
                    self.dropped += 1
                    log.warning("event forwarding queue full; dropped the oldest event")

    async def start(self) -> None:
        """Start the sending task."""
        self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        self._task = asyncio.create_task(self._run(), name="event-forwarder")

    async def stop(self) -> None:
        """Stop sending (events still queued are dropped) and close the connections."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def settle(self) -> None:
        """Wait until every event queued so far is sent or given up on (for tests)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._send(event)
            finally:
                self._queue.task_done()

    async def _send(self, event: dict[str, Any]) -> None:
        assert self._client is not None
        delay = self._backoff
        problem = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.post(self.url, json=event)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}: {response.text.strip()[:200]}"
                if response.status_code != 429 and response.status_code < 500:
                    break  # the endpoint refuses this event; sending it again will not help
            if attempt < self._attempts:
                await asyncio.sleep(delay)
                delay *= 2
        self.dropped += 1
        involved = event.get("involvedObject") or {}
        log.warning(
            "could not forward the event %s of %s/%s/%s to the notification controller: %s",
            event.get("reason"),
            involved.get("kind"),
            involved.get("namespace"),
            involved.get("name"),
            problem,
        )
