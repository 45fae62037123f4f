"""Serve the artifact storage over plain HTTP, as Flux's source-controller does on ``:9090``."""

from __future__ import annotations

from aiohttp import web

from tide.artifacts.storage import Storage
from tide.runtime.servers import Endpoint, listen

__all__ = ["ArtifactServer"]


class ArtifactServer:
    """Serve ``storage.root`` read-only at ``host:port`` (port 0 picks a free one)."""

    def __init__(self, storage: Storage, *, host: str, port: int) -> None:
        self._storage = storage
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = port
        """The bound port (differs from the requested one when that was 0)."""

    async def start(self) -> None:
        """Start serving.

        Raises:
            CannotListen: the address is taken (the message says "for storage", after
                ``--storage-addr``).
        """
        app = web.Application()
        app.router.add_static("/", self._storage.root, show_index=False, follow_symlinks=False)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = await listen(self._runner, Endpoint(self._host, self._port), what="storage")

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
