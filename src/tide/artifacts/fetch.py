"""Download an artifact, check its digest, unpack it: what every artifact consumer does first.

The download streams to a file beside the destination, hashed on the way, so an artifact is
never held in memory whole; only bytes that match the published digest are unpacked, and
unpacking stops at a size and an entry count (see :mod:`tide.artifacts.archive`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import ssl
import tempfile
from pathlib import Path

import httpx

from tide.artifacts.archive import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_UNPACKED_SIZE,
    ArchiveError,
    ArchiveTooLarge,
    extract_archive,
)

__all__ = ["ArtifactFetchError", "ArtifactTooLarge", "DigestMismatch", "fetch_artifact"]

_CHUNK = 1 << 16


@functools.cache
def _tls() -> ssl.SSLContext:
    """The default certificate checks, built once per process.

    Building them loads the whole CA bundle: about 30 ms of CPU on the event loop's thread, which
    a client of its own per download paid every time (``bench/oci_apps.py``: 1000 apps, 1000
    downloads, 30 s). An ``SSLContext`` is safe to share between clients.
    """
    return httpx.create_ssl_context()


class ArtifactFetchError(Exception):
    """The artifact could not be downloaded or unpacked."""


class DigestMismatch(ArtifactFetchError):
    """The downloaded bytes do not match ``status.artifact.digest``."""


class ArtifactTooLarge(ArtifactFetchError):
    """The artifact is, or unpacks to, more than the consumer allows; not worth a retry soon."""


async def fetch_artifact(
    url: str,
    digest: str,
    destination: Path,
    *,
    timeout: float = 60.0,
    retries: int = 3,
    max_unpacked_size: int | None = DEFAULT_MAX_UNPACKED_SIZE,
    max_entries: int | None = DEFAULT_MAX_ENTRIES,
) -> None:
    """Download ``url``, check it against ``digest`` (``sha256:<hex>``), unpack it.

    Transient failures (connection errors, 5xx) are retried with a short growing delay; a digest
    mismatch is retried too, since the producer may have replaced the file between our read of
    its status and the download. ``destination`` must be missing or empty; after any failure it
    is as it was (nothing of a refused artifact is left on disk).

    Args:
        url: where the artifact is served (``status.artifact.url``).
        digest: ``status.artifact.digest``.
        destination: the folder to unpack into.
        timeout: seconds for each HTTP operation (default 60).
        retries: download attempts (default 3).
        max_unpacked_size: the most bytes the artifact's files may add up to, which also bounds
            the download (default 1 GiB, ``tide controller --artifact-max-unpacked-size``);
            None: no bound, as Flux.
        max_entries: the most files and folders it may hold (default 250 000); None: no bound.

    Raises:
        ArtifactTooLarge: the download or its files exceed ``max_unpacked_size``, or it has
            more than ``max_entries`` entries.
        DigestMismatch: the bytes never matched ``digest``.
        ArtifactFetchError: the download or unpacking failed.
    """
    algorithm, _, expected = digest.partition(":")
    if algorithm != "sha256" or not expected:
        raise ArtifactFetchError(f"unsupported artifact digest {digest!r}: expected sha256:<hex>")
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(
        dir=destination.parent, prefix=".artifact-", suffix=".tar.gz"
    )
    os.close(descriptor)
    download = Path(name)
    try:
        await _fetch_verified(url, digest, download, timeout, retries, max_unpacked_size)
        try:
            await asyncio.to_thread(
                extract_archive,
                download,
                destination,
                max_size=max_unpacked_size,
                max_entries=max_entries,
            )
        except ArchiveTooLarge as error:
            raise ArtifactTooLarge(f"artifact from {url} {error}") from error
        except ArchiveError as error:
            raise ArtifactFetchError(f"artifact from {url}: {error}") from error
    finally:
        await asyncio.to_thread(download.unlink, missing_ok=True)


async def _fetch_verified(
    url: str, digest: str, download: Path, timeout: float, retries: int, limit: int | None
) -> None:
    """Stream ``url`` into ``download`` until its bytes match ``digest``, or give up."""
    expected = digest.partition(":")[2]
    last: ArtifactFetchError | None = None
    async with httpx.AsyncClient(timeout=timeout, verify=_tls()) as http:
        for attempt in range(retries):
            if attempt:
                await asyncio.sleep(0.5 * 2 ** (attempt - 1))
            try:
                actual = await _stream(http, url, download, limit)
            except httpx.HTTPError as error:
                last = ArtifactFetchError(f"failed to download artifact from {url}: {error}")
                continue
            if actual == expected:
                return
            last = DigestMismatch(
                f"artifact from {url} has digest sha256:{actual}, expected {digest}"
            )
    assert last is not None
    raise last


async def _stream(http: httpx.AsyncClient, url: str, download: Path, limit: int | None) -> str:
    """Write the body of ``url`` to ``download`` chunk by chunk; return its sha256 hex."""
    hasher = hashlib.sha256()
    size = 0
    async with http.stream("GET", url) as response:
        response.raise_for_status()
        with download.open("wb") as sink:
            async for chunk in response.aiter_bytes(_CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise ArtifactTooLarge(
                        f"artifact from {url} is larger than {limit} bytes, more than it may "
                        "unpack to"
                    )
                hasher.update(chunk)
                sink.write(chunk)
    return hasher.hexdigest()
