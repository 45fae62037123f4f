"""HTTP endpoints every controller process serves: Prometheus metrics and health probes.

Metrics (``/metrics``) and probes (``/healthz``, ``/readyz``) listen on separate addresses, as in
Flux's Deployments (``:8080`` and ``:9440``), so a NetworkPolicy can expose one without the other.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CannotListen", "Endpoint", "ProbeServers", "listen", "parse_address"]


@dataclass(frozen=True)
class Endpoint:
    """A host and port to listen on; port 0 picks a free one (tests)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class CannotListen(RuntimeError):
    """A server could not bind its address (in use, not ours to bind, or no such host).

    The message is one line a user can act on, e.g. ``cannot listen on 127.0.0.1:8080 for
    metrics: address already in use``; ``tide controller`` prints it and exits with code 1.
    """

    def __init__(self, endpoint: Endpoint, what: str, reason: str) -> None:
        super().__init__(f"cannot listen on {endpoint} for {what}: {reason}")
        self.endpoint = endpoint
        self.what = what
        self.reason = reason


def _reason(error: OSError) -> str:
    """Return the system's short words for ``error`` ("address already in use").

    asyncio wraps bind errors in a long message of its own; the errno says it best. Name
    resolution errors carry negative codes that ``os.strerror`` does not know.
    """
    if isinstance(error, socket.gaierror) and error.strerror:
        text = error.strerror
    elif error.errno:
        text = os.strerror(error.errno)
    else:
        text = str(error)
    return text[:1].lower() + text[1:]


async def listen(runner: web.AppRunner, endpoint: Endpoint, *, what: str) -> int:
    """Serve ``runner`` (already set up) at ``endpoint``; return the bound port.

    Raises:
        CannotListen: the address could not be bound; ``what`` names the server in the message.
    """
    site = web.TCPSite(runner, endpoint.host, endpoint.port)
    try:
        await site.start()
    except OSError as error:
        raise CannotListen(endpoint, what, _reason(error)) from error
    sockets = site._server.sockets if site._server else ()  # type: ignore[union-attr]
    return sockets[0].getsockname()[1] if sockets else endpoint.port


def parse_address(text: str) -> Endpoint:
    """Parse ``host:port`` or ``:port`` (all interfaces), as Flux's ``--metrics-addr`` takes."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"address {text!r}: expected host:port or :port, port 0-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # "[::1]:8080", as Go's net.Listen takes IPv6 hosts
    return Endpoint(host or "0.0.0.0", int(port))


class ProbeServers:
    """Serve ``/metrics`` on one endpoint and ``/healthz`` + ``/readyz`` on another.

    Args:
        metrics: where ``/metrics`` listens.
        health: where the probes listen.
        ready: returns True once the process can do its work (caches synced).
    """

    def __init__(self, *, metrics: Endpoint, health: Endpoint, ready: Callable[[], bool]) -> None:
        self._metrics = metrics
        self._health = health
        self._ready = ready
        self._runners: list[web.AppRunner] = []
        self.bound: dict[str, int] = {}
        """Ports actually bound, by "metrics" and "health" (useful with port 0)."""

    async def start(self) -> None:
        """Start both servers.

        Raises:
            CannotListen: an address is taken (what the message names: metrics or health).
        """
        metrics_app = web.Application()
        metrics_app.router.add_get("/metrics", self._serve_metrics)
        health_app = web.Application()
        health_app.router.add_get("/healthz", self._serve_healthz)
        health_app.router.add_get("/readyz", self._serve_readyz)
        for name, app, endpoint in (
            ("metrics", metrics_app, self._metrics),
            ("health", health_app, self._health),
        ):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            self._runners.append(runner)  # cleaned up by stop() even when binding fails
            self.bound[name] = await listen(runner, endpoint, what=name)

    async def stop(self) -> None:
        """Stop both servers."""
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def _serve_metrics(self, _: web.Request) -> web.Response:
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _serve_healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _serve_readyz(self, _: web.Request) -> web.Response:
        if self._ready():
            return web.Response(text="ok")
        return web.Response(status=503, text="caches not synced")
