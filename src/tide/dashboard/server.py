"""``tide dashboard``'s HTTP server: the page, its JSON, a live stream, and the actions.

Everything the browser loads comes from here (``static/`` is package data): no CDN, no build.
The page asks ``/api/...`` for JSON and listens on ``/api/stream`` (server-sent events) for a
change in the read model, then asks again — no manual refresh.

Served to the local machine only by default (``127.0.0.1``), and guarded as such a server must
be: requests naming another ``Host`` are refused (DNS rebinding), and actions need a
``POST`` with the header ``X-Tide-Dashboard`` (a cross-site form cannot set it) and, when the
browser sends one, an ``Origin`` of this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from aiohttp import web

from tide.api.kinds import KINDS
from tide.artifacts import ArtifactFetchError, fetch_artifact
from tide.dashboard import graph, views
from tide.dashboard.access import Access
from tide.dashboard.actions import SOURCED, ActionRefused, Actions
from tide.dashboard.model import ReadModel
from tide.inspect import diff, inventory, requests, rows, why
from tide.inspect.local_build import LocalBuildError
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError
from tide.runtime.servers import Endpoint, listen

__all__ = ["Dashboard", "running"]

_STATIC = package_files.files("tide.dashboard") / "static"
_HEARTBEAT = 15.0
"""Seconds between comments on an idle stream, so proxies and browsers keep it open."""
_SETTLE = 0.25
"""Seconds a burst of changes is gathered into one notice to the page."""
_HAS_STATUS = {info.kind: info.has_status for info in KINDS}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Dashboard:
    """What the pages read and do, for one user."""

    client: KubeClient
    model: ReadModel
    access: Access
    actions: Actions
    dry_run: KubeClient
    """The user's credentials under the kustomize-controller's field manager, for the diff."""

    @classmethod
    def for_client(
        cls,
        client: KubeClient,
        *,
        namespace: str | None = None,
        dry_run: KubeClient | None = None,
    ) -> Dashboard:
        """Return a dashboard reading and acting through ``client`` (the user's)."""
        access = Access(client)
        model = ReadModel(client, namespace=namespace)
        return cls(client, model, access, Actions(client, access), dry_run or client)

    async def diff(self, namespace: str, name: str) -> dict[str, Any]:
        """Return what applying a Kustomization's current artifact would change, or why not.

        The artifact its source serves is fetched (digest checked) and built and dry-run as
        ``tide diff`` does (:func:`tide.inspect.diff.changes_for`), Secret values masked.
        """
        obj = self.model.get("Kustomization", name, namespace)
        if obj is None:
            return {"error": f"Kustomization/{namespace}/{name} not found"}
        source = requests.source_of("Kustomization", obj)
        source_obj = self.model.get(*source) if source is not None else None
        artifact = ((source_obj or {}).get("status") or {}).get("artifact") or {}
        if not artifact.get("url"):
            return {"error": "its source has no artifact yet"}
        with tempfile.TemporaryDirectory(prefix="tide-dashboard-") as scratch:
            root = Path(scratch) / "artifact"
            try:
                await fetch_artifact(artifact["url"], artifact.get("digest", ""), root)
                folder = root / str((obj.get("spec") or {}).get("path") or "./")
                changes = await diff.changes_for(self.dry_run, obj, folder, root=root)
            except (ArtifactFetchError, LocalBuildError, KubeError, OSError) as error:
                return {"error": str(error), "revision": artifact.get("revision", "")}
        return {"changes": changes, "revision": artifact.get("revision", "")}

    async def overview(self) -> dict[str, Any]:
        """Return every Flux object's row with its actions, and the counts per kind."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for info in KINDS:
            listed = by_kind.setdefault(info.kind, [])
            for obj in self.model.objects(info.kind):
                shown = views.row(info.kind, obj, has_status=info.has_status)
                shown["actions"] = await self.actions.offered(info.kind, obj)
                listed.append(shown)
        return {
            "user": await self.access.user(),
            "version": self.model.version,
            "syncing": self.model.syncing(),
            "summary": views.summary(by_kind),
            "rows": [each for listed in by_kind.values() for each in listed],
        }

    async def listing(self, kind: str) -> dict[str, Any]:
        """Return the rows of one kind with Flux's columns."""
        has_status = _HAS_STATUS[kind]
        listed = []
        for obj in self.model.objects(kind):
            shown = views.row(kind, obj, has_status=has_status)
            shown["actions"] = await self.actions.offered(kind, obj)
            listed.append(shown)
        columns = [c for c in rows.columns_for(kind) if c not in ("NAME", "SUSPENDED")]
        return {"kind": kind, "columns": columns, "rows": listed}

    async def _events(self, kind: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
        metadata = obj["metadata"]
        about = {"involvedObject.kind": kind, "involvedObject.name": metadata["name"]}
        try:
            listed, _ = await self.client.list(
                resources.EVENT, namespace=metadata["namespace"], fields=about
            )
        except KubeError:  # the user may not list events: the page shows none
            return []
        return listed

    async def detail(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Return one object's page, or None when it is not (or no longer) there."""
        obj = self.model.get(kind, name, namespace)
        if obj is None:
            return None
        consumer = kind in SOURCED
        source = requests.source_of(kind, obj) if consumer else None
        chain = views.chain_of(
            kind, obj, (*source, self.model.get(*source)) if source is not None else None
        )
        nodes = await inventory.tree_of(self.model.fetch, obj) if consumer else ()
        links = []
        if _HAS_STATUS[kind]:
            links = await why.explain(self.model.fetch, kind, name, namespace)
        shown = views.detail(
            kind, obj, events=await self._events(kind, obj), chain=chain, nodes=nodes, links=links
        )
        shown["row"]["actions"] = await self.actions.offered(kind, obj)
        shown["spec"] = obj.get("spec") or {}
        return shown

    def graph_svg(self) -> str:
        """Return the graph of sources, Kustomizations and HelmReleases as SVG."""
        drawn = graph.build({kind: self.model.objects(kind) for kind in graph.GRAPH_KINDS})
        graph.layout(drawn)
        return graph.render(drawn)


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
        shown = await dashboard.detail(kind, namespace, name)
        if shown is None:
            return _json({"error": f"{kind}/{namespace}/{name} not found"}, status=404)
        return _json(shown)

    async def changes(request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        return _json(await dashboard.diff(namespace, name))

    async def svg(_: web.Request) -> web.Response:
        return web.Response(text=dashboard.graph_svg(), content_type="image/svg+xml")

    async def action(request: web.Request) -> web.Response:
        try:
            asked = await request.json()
            done = await dashboard.actions.perform(
                str(asked["action"]),
                str(asked["kind"]),
                str(asked["name"]),
                str(asked["namespace"]),
            )
        except (ValueError, KeyError, TypeError):
            return _json({"error": "expected JSON {action, kind, namespace, name}"}, status=400)
        except ActionRefused as error:
            return _json({"error": str(error)}, status=409)
        except KubeError as error:
            return _json({"error": str(error)}, status=403 if "forbidden" in str(error) else 502)
        return _json({"done": done})

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        await response.write(b": connected\n\n")  # the page drew what is there; news only
        seen = dashboard.model.version
        while True:
            version = await dashboard.model.changed(seen, timeout=_HEARTBEAT)
            if version == seen:
                await response.write(b": idle\n\n")
                continue
            await asyncio.sleep(_SETTLE)
            seen = dashboard.model.version
            await response.write(f"event: version\ndata: {seen}\n\n".encode())

    app = web.Application(middlewares=[guard])
    app.router.add_get("/", index)
    app.router.add_get(_HEALTH, healthz)
    app.router.add_static("/static", _STATIC)  # type: ignore[arg-type]
    app.router.add_get("/api/overview", overview)
    app.router.add_get("/api/kinds", kinds)
    app.router.add_get("/api/list/{kind}", listing)
    app.router.add_get("/api/object/{kind}/{namespace}/{name}", detail)
    app.router.add_get("/api/diff/{namespace}/{name}", changes)
    app.router.add_get("/api/graph.svg", svg)
    app.router.add_get("/api/stream", stream)
    app.router.add_post("/api/action", action)
    return app


_ALL_INTERFACES = ("", "0.0.0.0", "::")
_HEALTH = "/healthz"
"""Answered whatever the ``Host``: the kubelet's probe names the pod's IP address."""


def _hosts(host: str, port: int, extra: Sequence[str] = ()) -> set[str]:
    """The ``Host`` values requests may name.

    The loopback names on the port listened on, or the name listened on, plus ``extra``
    (``--allowed-host``: a name on any port, or ``name:port``). Never "any": answering every
    ``Host`` would let a DNS-rebinding page act as the dashboard's own, so a dashboard on
    every interface answers other names only when ``--allowed-host`` names them.
    """
    loopback = host in (*_ALL_INTERFACES, "127.0.0.1", "localhost")
    names = {host, "localhost", "127.0.0.1"} if loopback else {host}
    names -= set(_ALL_INTERFACES)
    return {f"{name}:{port}" for name in names} | set(extra)


def _admits(allowed: set[str], host: str) -> bool:
    """Tell whether a request naming ``host`` (the ``Host`` header) is answered."""
    if host in allowed:
        return True
    name, colon, port = host.rpartition(":")
    return bool(colon) and port.isdigit() and name in allowed


@contextlib.asynccontextmanager
async def running(
    client: KubeClient,
    endpoint: Endpoint,
    *,
    namespace: str | None = None,
    dry_run: KubeClient | None = None,
    allowed_hosts: Sequence[str] = (),
) -> AsyncIterator[str]:
    """Serve the dashboard for ``client``'s user at ``endpoint``; yield its URL.

    Args:
        client: the user's client; every read and action goes through it.
        endpoint: where to listen (port 0 picks a free one).
        namespace: show only this namespace; every namespace by default.
        dry_run: the user's client with the kustomize-controller's field manager, for the
            diff's dry runs (field ownership judged as the controller's apply); ``client``
            by default.
        allowed_hosts: more ``Host`` names to answer (``name`` on any port, or
            ``name:port``); given, they replace "any name" on every interface, so a dashboard
            in a cluster answers only its Service's names and loopback (a port-forward).

    Raises:
        CannotListen: the address could not be bound.
    """
    dashboard = Dashboard.for_client(client, namespace=namespace, dry_run=dry_run)
    await dashboard.model.start()
    allowed: set[str] = set()  # known once the port is bound
    runner = web.AppRunner(_app(dashboard, allowed), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        port = await listen(runner, endpoint, what="the dashboard")
        allowed.update(_hosts(endpoint.host, port, allowed_hosts))
        shown = "127.0.0.1" if endpoint.host in _ALL_INTERFACES else endpoint.host
        yield f"http://{shown}:{port}/"
    finally:
        await runner.cleanup()
        await dashboard.model.stop()
