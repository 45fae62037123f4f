"""Unpack each artifact digest once and share it, read-only, among the builds that need it.

Many Kustomizations build different folders of one artifact (a monorepo's apps, one
Kustomization per cluster overlay). Each build used to download and unpack the whole artifact
into a private folder of its own, because the build wrote into it. On the build server nothing
is written into the artifact (:func:`tide.kustomize.build.build_async`), so one unpacked copy
per digest serves them all and each builds only its path. The copy is made read-only (a build
that tried to write into it would fail loudly rather than disturb another), kept for the next
builds of that digest, and removed when unused ones exceed the capacity, or at exit.

A build that decrypts files in place (SOPS keys), or that runs ``kubectl kustomize`` (which
needs the generated kustomization on disk), still gets a private copy of its own.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import os
import shutil
import stat
import tempfile
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tide.artifacts import DEFAULT_MAX_UNPACKED_SIZE, fetch_artifact
from tide.kustomize import server as kustomize_server
from tide.kustomize.build import BuildOptions, build_async
from tide.kustomize.decrypt import decrypt_files
from tide.runtime.singleflight import SingleFlight

__all__ = ["UnpackedArtifacts"]

Manifests = list[dict[str, Any]]


class UnpackedArtifacts:
    """Unpacked artifacts by digest, shared read-only while in use, least recently used dropped.

    Args:
        capacity: unused unpacked artifacts kept for later builds; default 8.
        max_unpacked_size: the most bytes an artifact's files may add up to (default 1 GiB);
            ``None``: no bound.
    """

    def __init__(
        self, capacity: int = 8, *, max_unpacked_size: int | None = DEFAULT_MAX_UNPACKED_SIZE
    ) -> None:
        self._capacity = capacity
        self._max_unpacked_size = max_unpacked_size
        self._base: Path | None = None
        self._entries: collections.OrderedDict[str, Path] = collections.OrderedDict()
        self._users: collections.Counter[str] = collections.Counter()
        self._inflight: SingleFlight[Path] = SingleFlight()
        self.unpacks = 0
        """Artifacts downloaded and unpacked so far (misses); tests and benchmarks read it."""

    async def fetch_and_build(
        self,
        artifact: dict[str, Any],
        options: BuildOptions,
        *,
        age_keys: Sequence[str] = (),
        fetched: Callable[[], Awaitable[None]] | None = None,
    ) -> Manifests:
        """Build ``options.path`` of ``artifact`` (``status.artifact``); ``fetched`` runs once it is
        unpacked.

        Raises:
            tide.artifacts.ArtifactFetchError: the artifact could not be fetched.
            BuildError: the build failed.
            DecryptionError: a file did not decrypt with ``age_keys``.
        """
        server = kustomize_server.shared()
        if server is not None and not age_keys:
            async with self.use(artifact["url"], artifact["digest"]) as root:
                if fetched is not None:
                    await fetched()
                return await build_async(root, options, server=server)
        with tempfile.TemporaryDirectory(prefix="tide-kustomization-") as scratch:
            root = Path(scratch)
            await fetch_artifact(
                artifact["url"],
                artifact["digest"],
                root,
                max_unpacked_size=self._max_unpacked_size,
            )
            if fetched is not None:
                await fetched()
            if age_keys:
                await asyncio.to_thread(decrypt_files, root, age_keys=age_keys)
            return await build_async(root, options, server=server)

    @asynccontextmanager
    async def use(self, url: str, digest: str) -> AsyncIterator[Path]:
        """Yield the artifact ``digest`` unpacked (from ``url`` unless it is already), read-only.

        It stays while any caller is inside; afterwards it may be dropped.
        """
        self._users[digest] += 1
        try:
            root = self._entries.get(digest)
            if root is None:
                root = await self._inflight.do(digest, lambda: self._unpack(url, digest))
            self._entries.move_to_end(digest)
            yield root
        finally:
            self._users[digest] -= 1
            if not self._users[digest]:
                del self._users[digest]
            self._evict()

    async def _unpack(self, url: str, digest: str) -> Path:
        if (root := self._entries.get(digest)) is not None:
            return root  # finished while this caller waited to lead
        if self._base is None:
            self._base = Path(tempfile.mkdtemp(prefix="tide-artifacts-"))
            weakref.finalize(self, _remove, self._base)
        # Named from the whole digest: any string gives a folder of its own (a digest with
        # no ``algorithm:`` part once named the base folder itself, and wiped every copy).
        root = self._base / hashlib.sha256(digest.encode()).hexdigest()[:32]
        _remove(root)  # a copy whose unpacking was cancelled half-way
        await fetch_artifact(url, digest, root, max_unpacked_size=self._max_unpacked_size)
        await asyncio.to_thread(_make_read_only, root)
        self.unpacks += 1
        self._entries[digest] = root
        return root

    def _evict(self) -> None:
        unused = [digest for digest in self._entries if digest not in self._users]
        for digest in unused[: max(0, len(unused) - self._capacity)]:
            _remove(self._entries.pop(digest))


_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _make_read_only(root: Path) -> None:
    """Take write permission off every file and folder under ``root`` (symlinks untouched)."""
    for current, folders, files in os.walk(root):
        for name in files:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & ~_WRITE)
        for name in folders:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & ~_WRITE)
    os.chmod(root, os.stat(root).st_mode & ~_WRITE)


def _remove(path: Path) -> None:
    """Remove ``path`` and everything under it, read-only folders included."""
    if not path.exists():
        return
    for current, folders, _ in os.walk(path):
        os.chmod(current, os.stat(current).st_mode | stat.S_IWUSR)
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(current, name))]
    shutil.rmtree(path, ignore_errors=True)
