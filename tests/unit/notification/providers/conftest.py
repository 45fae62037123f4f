"""A real HTTP server on 127.0.0.1 that records every request a provider type sends.

Each test gets a fresh :class:`Sink`: it answers ``200 {"ok": true}`` unless told otherwise
per path, and keeps method, path, query, headers and body of every request, so a test asserts
exactly what the service would have received. ``tls_sink`` serves HTTPS from a throwaway CA.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tide.notification.providers import Event, InvolvedObject, ProviderSettings, notifier_for
from tide.testing import _certs


@dataclass
class Captured:
    """One request as the server saw it."""

    method: str
    path: str
    """Decoded, as aiohttp gives it; ``raw_path`` keeps escapes such as ``%2F``."""
    raw_path: str
    query: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    """The recording server; ``respond`` sets what one path answers."""

    url: str = ""
    requests: list[Captured] = field(default_factory=list)
    responses: dict[str, tuple[int, str]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def respond(self, path: str, status: int, body: str = "") -> None:
        self.responses[path] = (status, body)

    @property
    def only(self) -> Captured:
        assert len(self.requests) == 1, [r.path for r in self.requests]
        return self.requests[0]

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Captured(
                method=request.method,
                path=request.path,
                raw_path=request.raw_path.split("?", 1)[0],
                query=request.query_string,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.read(),
            )
        )
        if request.path in self.hang:
            await self.released.wait()
        status, body = self.responses.get(request.path, (200, '{"ok": true}'))
        return web.Response(status=status, text=body, content_type="application/json")


async def _serve(sink: Sink, *, ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    sink.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    return runner


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    server = Sink()
    runner = await _serve(server)
    yield server
    server.released.set()
    await runner.cleanup()


@dataclass
class TlsSink:
    sink: Sink
    client_context: ssl.SSLContext
    """Trusts the sink's CA."""


def _server_context(pair: _certs.KeyPair) -> ssl.SSLContext:
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "tls.crt"), Path(folder, "tls.key")
        cert.write_bytes(pair.cert_pem)
        key.write_bytes(pair.key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def tls_sink() -> AsyncIterator[TlsSink]:
    ca = _certs.CertificateAuthority("tide-test-ca")
    pair = ca.issue("127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
    server_context = _server_context(pair)
    client_context = ssl.create_default_context(cadata=ca.cert_pem.decode())
    server = Sink()
    runner = await _serve(server, ssl_context=server_context)
    yield TlsSink(server, client_context)
    server.released.set()
    await runner.cleanup()


def make_event(**overrides: Any) -> Event:
    """Return a Kustomization event like kustomize-controller's, with ``overrides`` applied."""
    values: dict[str, Any] = {
        "involved_object": InvolvedObject(
            kind="Kustomization",
            name="webapp",
            namespace="apps",
            api_version="kustomize.toolkit.fluxcd.io/v1",
            uid="7d0cdc51-ddcf-4743-b223-83ca5c699632",
        ),
        "severity": "info",
        "timestamp": "2022-10-28T07:26:19Z",
        "message": "Reconciliation finished in 2s, next run in 5m",
        "reason": "ReconciliationSucceeded",
        "metadata": {"revision": "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"},
        "reporting_controller": "kustomize-controller",
        "reporting_instance": "kustomize-controller-7c7b47f5f-8bhrp",
    }
    values.update(overrides)
    return Event(**values)


def failed_event() -> Event:
    """Return a failed health check event with an Alert summary in its metadata."""
    return make_event(
        severity="error",
        reason="HealthCheckFailed",
        message="timeout waiting for rollout",
        metadata={"summary": "prod eu-1", "revision": "main@sha1:abc"},
    )


def settings(type_: str, **values: Any) -> ProviderSettings:
    """Return settings for a Provider ``apps/alerts`` of ``type_``."""
    return ProviderSettings(type=type_, name="apps/alerts", **values)


async def deliver(type_: str, *events: Event, **values: Any) -> None:
    """Build the Notifier for ``type_`` from ``values``, post ``events`` in order, close it."""
    notifier = notifier_for(settings(type_, **values))
    try:
        for event in events:
            await notifier.post(event)
    finally:
        await notifier.aclose()
