"""A reverse proxy in front of a :class:`~tide.testing.Registry` that pages tag lists and counts.

Debian's docker-registry (distribution 2.8) returns every tag of a repository in one answer and
ignores ``n=``; GHCR, Docker Hub, Quay and distribution 3 page them, capping ``n`` and pointing
at the next page with ``Link: <…?n=…&last=…>; rel="next"``. :class:`RegistryProxy` adds that
paging to the real registry, the way those registries do it (tags in lexical order, ``last``
exclusive, a server-side cap on the page size), and forwards everything else untouched. It
also records every request it forwards, so a test or benchmark can count what a controller
asked of the registry.

It runs in the caller's event loop (aiohttp) on ``127.0.0.1``.

Example::

    proxy = RegistryProxy(registry.url, max_page=100)
    await proxy.start()
    ...  # an ImageRepository with image f"{proxy.host}/team/app", insecure: true
    assert proxy.count("/tags/list") == 3
    await proxy.stop()
"""

from __future__ import annotations

import bisect
import json
import re

import httpx
from aiohttp import web

__all__ = ["RegistryProxy"]

_TAGS = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class RegistryProxy:
    """Page tag lists of ``upstream`` and record every call.

    Args:
        upstream: the registry's base URL (``Registry.url``).
        max_page: the most tags one page holds, whatever ``n`` asks (default 100, Docker Hub's
            cap); a request without ``n`` gets pages of this size too.
    """

    def __init__(self, upstream: str, *, max_page: int = 100) -> None:
        self.upstream = upstream
        self.max_page = max_page
        self.calls: list[tuple[str, str]] = []
        """``(method, path with query)`` of every request, in order."""
        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None
        self.port = 0

    @property
    def host(self) -> str:
        """Return ``127.0.0.1:PORT``, the registry part of image names behind the proxy."""
        return f"127.0.0.1:{self.port}"

    def count(self, fragment: str = "") -> int:
        """Return how many recorded requests have ``fragment`` in their path."""
        return sum(1 for _, path in self.calls if fragment in path)

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._http = httpx.AsyncClient(timeout=30)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.aclose()

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path_qs))
        answer = await self._forward(request, request.path)
        match = _TAGS.match(request.path)
        if match is None or request.method != "GET" or answer.status_code != 200:
            return _relay(answer, answer.content)
        return self._page(request, match.group("name"), answer)

    async def _forward(self, request: web.Request, path: str) -> httpx.Response:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        query = "" if _TAGS.match(path) else request.query_string
        return await self._http.request(
            request.method,
            self.upstream + path + (f"?{query}" if query else ""),
            headers=headers,
            content=await request.read(),
        )

    def _page(self, request: web.Request, name: str, answer: httpx.Response) -> web.Response:
        tags = sorted(answer.json().get("tags") or [])
        try:
            wanted = int(request.query.get("n", self.max_page))
        except ValueError:
            return web.json_response(
                {"errors": [{"code": "PAGINATION_NUMBER_INVALID"}]}, status=400
            )
        size = max(1, min(wanted, self.max_page))
        start = bisect.bisect_right(tags, request.query["last"]) if "last" in request.query else 0
        page = tags[start : start + size]
        response = _relay(answer, json.dumps({"name": name, "tags": page}).encode())
        if start + size < len(tags):
            response.headers["Link"] = (
                f'</v2/{name}/tags/list?n={size}&last={page[-1]}>; rel="next"'
            )
        return response


def _relay(answer: httpx.Response, body: bytes) -> web.Response:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
    return web.Response(status=answer.status_code, headers=headers, body=body)
