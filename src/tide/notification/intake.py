"""Flux's events endpoint: controllers POST their event JSON to ``/`` and it is dispatched.

Flux's controllers send every event to ``--events-addr`` of the notification-controller; this
server takes the same requests, so Flux's own controllers (or any tool speaking that JSON) can
alert through Tide. Tide's own controllers do not go through HTTP: they reach the dispatcher in
process. Bodies are bounded (413 past :data:`MAX_BODY`), malformed JSON is a 400 that says why,
and an accepted event is answered ``202 Accepted`` before it is matched or sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tide.runtime.servers import Endpoint, listen

__all__ = ["DEFAULT_EVENTS_ADDR", "MAX_BODY", "EventServer", "flux_metadata", "invalid_event"]

log = logging.getLogger(__name__)

DEFAULT_EVENTS_ADDR = ":9091"
"""Flux listens on ``:9090``, which Tide's artifact server takes in the same process; Flux
controllers are pointed here with ``--events-addr=http://<tide-service>:9091/``."""
MAX_BODY = 1 << 20
"""Largest event body accepted, in bytes (Flux's events are a few KiB)."""


def invalid_event(payload: Any) -> str | None:
    """Return what is wrong with ``payload`` as an event, or None when it is one."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    involved = payload.get("involvedObject")
    if not isinstance(involved, dict):
        return "field 'involvedObject' must be an object"
    for key in ("kind", "name", "namespace"):
        if not isinstance(involved.get(key), str) or not involved[key]:
            return f"field 'involvedObject.{key}' is required"
    if payload.get("severity") not in ("info", "error"):
        return "field 'severity' must be 'info' or 'error'"
    for key in ("message", "reason"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            return f"field '{key}' is required"
    metadata = payload.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        return "field 'metadata' must map strings to strings"
    return None


def flux_metadata(payload: Mapping[str, Any]) -> dict[str, str]:
    """Return the metadata Flux keeps from a posted event.

    Flux's controllers prefix their keys with the involved object's API group
    (``kustomize.toolkit.fluxcd.io/revision``); the notification-controller keeps only those,
    strips the prefix, and drops ``token``.
    """
    involved = payload.get("involvedObject") or {}
    group = str(involved.get("apiVersion") or "").rpartition("/")[0]
    prefix = f"{group}/"
    kept = {}
    for key, value in (payload.get("metadata") or {}).items():
        if group and key.startswith(prefix) and key != f"{prefix}token":
            kept[key.removeprefix(prefix)] = value
    return kept


class EventServer:
    """Serve Flux's events endpoint and hand each valid event to ``submit``.

    Args:
        endpoint: where to listen (``--events-addr``).
        submit: takes the event JSON; must not block (it queues).
    """

    def __init__(self, endpoint: Endpoint, submit: Callable[[dict[str, Any]], None]) -> None:
        self._endpoint = endpoint
        self._submit = submit
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The bound port (useful with port 0)."""

    async def start(self) -> None:
        """Start listening.

        Raises:
            CannotListen: the address is taken.
        """
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = await listen(self._runner, self._endpoint, what="notification events")

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text=f"event body larger than {MAX_BODY} bytes\n")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413, text=f"event body larger than {MAX_BODY} bytes\n")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            return web.Response(status=400, text=f"the body is not JSON: {error}\n")
        problem = invalid_event(payload)
        if problem is not None:
            return web.Response(status=400, text=f"not a Flux event: {problem}\n")
        payload["metadata"] = flux_metadata(payload)
        self._submit(payload)
        return web.Response(status=202)
