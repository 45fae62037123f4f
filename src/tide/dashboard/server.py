"""``tide dashboard``'s HTTP server: the page, its JSON, a live stream, and the actions.

Everything the browser loads comes from here (``static/`` is package data): no CDN, no build.
The page asks ``/api/...`` for JSON and listens on ``/api/stream`` (server-sent events) for a
change in the read model, then asks again — no manual refresh. A request about one object
names its context (``?context=``, or ``context`` in an action's JSON); a read naming none means
the default (current) context, an action naming none is refused when several are served.

Served to the local machine only by default (``127.0.0.1``), and guarded as such a server must
be: requests naming another ``Host`` are refused (DNS rebinding), and actions need a
``POST`` with the header ``X-Tide-Dashboard`` (a cross-site form cannot set it) and, when the
browser sends one, an ``Origin`` of this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import resources as package_files
from typing import Any

from aiohttp import web

from tide.api.kinds import KINDS
from tide.dashboard.actions import ActionRefused
from tide.dashboard.clusters import Fleet, UnknownContext
from tide.dashboard.pages import Dashboard
from tide.kube.errors import KubeError
from tide.runtime.servers import Endpoint, listen

__all__ = ["running"]

_STATIC = package_files.files("tide.dashboard") / "static"
_HEARTBEAT = 15.0
"""Seconds between comments on an idle stream, so proxies and browsers keep it open."""
_SETTLE = 0.25
"""Seconds a burst of changes is gathered into one notice to the page."""
_HAS_STATUS = {info.kind: info.has_status for info in KINDS}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def _app(dashboard: Dashboard, allowed_hosts: set[str]) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The probe path tells only that the process serves; the kubelet names the pod's IP.
        if request.path != _HEALTH and not _admits(allowed_hosts, request.host):
            raise web.HTTPMisdirectedRequest(text=f"this dashboard serves {sorted(allowed_hosts)}")
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if request.headers.get("X-Tide-Dashboard") != "1" or (
                origin is not None and origin.removeprefix("http://") != request.host
            ):
                raise web.HTTPForbidden(text="actions are taken from the dashboard's own page")
        return await handler(request)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def index(_: web.Request) -> web.StreamResponse:
        return web.FileResponse(_STATIC / "index.html")  # type: ignore[arg-type]

    async def overview(_: web.Request) -> web.Response:
        return _json(await dashboard.overview())

    async def contexts(_: web.Request) -> web.Response:
        return _json(await dashboard.contexts())

    async def kinds(_: web.Request) -> web.Response:
        return _json([{"kind": info.kind, "group": info.group} for info in KINDS])

    async def listing(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in _HAS_STATUS:
            return _json({"error": f"{kind!r} is not a Flux kind Tide serves"}, status=404)
        return _json(await dashboard.listing(kind))

    async def detail(request: web.Request) -> web.Response:
        kind, namespace, name = (request.match_info[k] for k in ("kind", "namespace", "name"))
        if kind not in _HAS_STATUS:
            return _json({"error": f"{kind!r} is not a Flux kind Tide serves"}, status=404)
        shown = await dashboard.detail(request.query.get("context"), kind, namespace, name)
        if shown is None:
            return _json({"error": f"{kind}/{namespace}/{name} not found"}, status=404)
        return _json(shown)

    async def changes(request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        return _json(await dashboard.diff(request.query.get("context"), namespace, name))

    async def svg(request: web.Request) -> web.Response:
        drawn = dashboard.graph_svg(request.query.get("context"))
        return web.Response(text=drawn, content_type="image/svg+xml")

    async def action(request: web.Request) -> web.Response:
        try:
            asked = await request.json()
            context = str(asked.get("context") or "")
            if not context and len(dashboard.fleet.names) > 1:
                # A page from before several contexts were served must not act on a namesake
                # in whichever cluster is the default: an action names its cluster.
                return _json(
                    {"error": "this dashboard serves several contexts: name the action's context"},
                    status=400,
                )
            cluster = dashboard.fleet.get(context)
            done = await cluster.actions.perform(
                str(asked["action"]),
                str(asked["kind"]),
                str(asked["name"]),
                str(asked["namespace"]),
            )
        except UnknownContext as error:
            return _json({"error": str(error)}, status=404)
        except (ValueError, KeyError, TypeError, AttributeError):
            return _json(
                {"error": "expected JSON {action, kind, namespace, name, context}"}, status=400
            )
        except ActionRefused as error:
            return _json({"error": str(error)}, status=409)
        except KubeError as error:
            return _json({"error": str(error)}, status=403 if "forbidden" in str(error) else 502)
        if len(dashboard.fleet.names) > 1:
            done = f"{done} in {cluster.name}"
        return _json({"done": done})

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        await response.write(b": connected\n\n")  # the page drew what is there; news only
        pulse = dashboard.fleet.pulse
        seen = pulse.version
        while True:
            version = await pulse.changed(seen, timeout=_HEARTBEAT)
            if version == seen:
                await response.write(b": idle\n\n")
                continue
            await asyncio.sleep(_SETTLE)
            seen = pulse.version
            await response.write(f"event: version\ndata: {seen}\n\n".encode())

    @web.middleware
    async def unknown_context(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except UnknownContext as error:
            return _json({"error": str(error)}, status=404)

    app = web.Application(middlewares=[guard, unknown_context])
    app.router.add_get("/", index)
    app.router.add_get(_HEALTH, healthz)
    app.router.add_static("/static", _STATIC)  # type: ignore[arg-type]
    app.router.add_get("/api/overview", overview)
    app.router.add_get("/api/contexts", contexts)
    app.router.add_get("/api/kinds", kinds)
    app.router.add_get("/api/list/{kind}", listing)
    app.router.add_get("/api/object/{kind}/{namespace}/{name}", detail)
    app.router.add_get("/api/diff/{namespace}/{name}", changes)
    app.router.add_get("/api/graph.svg", svg)
    app.router.add_get("/api/stream", stream)
    app.router.add_post("/api/action", action)
    return app


_ALL_INTERFACES = ("", "0.0.0.0", "::")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_HEALTH = "/healthz"
"""Answered whatever the ``Host``: the kubelet's probe names the pod's IP address."""


def _bracketed(name: str) -> str:
    """Write an IPv6 address as a ``Host`` header and a URL do (``[::1]``); others as given."""
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return name
    return f"[{address}]" if address.version == 6 else str(address)


def _hosts(host: str, port: int, extra: Sequence[str] = ()) -> set[str]:
    """The ``Host`` values requests may name.

    The loopback names on the port listened on, or the name listened on, plus ``extra``
    (``--allowed-host``: a name on any port, or ``name:port``). Never "any": answering every
    ``Host`` would let a DNS-rebinding page act as the dashboard's own, so a dashboard on
    every interface answers other names only when ``--allowed-host`` names them. IPv6
    addresses are kept bracketed, as browsers send them (``[::1]:9080``).
    """
    loopback = host in (*_ALL_INTERFACES, *_LOOPBACK)
    names = {host, *_LOOPBACK} if loopback else {host}
    names -= set(_ALL_INTERFACES)
    return {f"{_bracketed(name)}:{port}" for name in names} | {_allowed(name) for name in extra}


def _allowed(name: str) -> str:
    """Normalise an ``--allowed-host``: an IPv6 address without a port gets its brackets."""
    if name.startswith("[") or name.count(":") <= 1:
        return name
    return _bracketed(name)


def _admits(allowed: set[str], host: str) -> bool:
    """Tell whether a request naming ``host`` (the ``Host`` header) is answered."""
    if host in allowed:
        return True
    name, colon, port = host.rpartition(":")
    return bool(colon) and port.isdigit() and name in allowed


@contextlib.asynccontextmanager
async def running(
    fleet: Fleet,
    endpoint: Endpoint,
    *,
    allowed_hosts: Sequence[str] = (),
) -> AsyncIterator[str]:
    """Serve the dashboard of ``fleet`` (the user's contexts) at ``endpoint``; yield its URL.

    The fleet is started here and stopped on the way out; its clients stay its owner's.

    Args:
        fleet: the contexts to serve; every read and action goes through their clients.
        endpoint: where to listen (port 0 picks a free one).
        allowed_hosts: more ``Host`` names to answer (``name`` on any port, or
            ``name:port``); given, they replace "any name" on every interface, so a dashboard
            in a cluster answers only its Service's names and loopback (a port-forward).

    Raises:
        CannotListen: the address could not be bound.
    """
    await fleet.start()
    allowed: set[str] = set()  # known once the port is bound
    runner = web.AppRunner(_app(Dashboard(fleet), allowed), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        port = await listen(runner, endpoint, what="the dashboard")
        allowed.update(_hosts(endpoint.host, port, allowed_hosts))
        shown = "127.0.0.1" if endpoint.host in _ALL_INTERFACES else _bracketed(endpoint.host)
        yield f"http://{shown}:{port}/"
    finally:
        await runner.cleanup()
        await fleet.stop()
