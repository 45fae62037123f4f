"""Download an artifact, check its digest, unpack it: what every artifact consumer does first."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx

from tide.artifacts.archive import ArchiveError, extract_archive

__all__ = ["ArtifactFetchError", "DigestMismatch", "fetch_artifact"]


class ArtifactFetchError(Exception):
    """The artifact could not be downloaded or unpacked."""


class DigestMismatch(ArtifactFetchError):
    """The downloaded bytes do not match ``status.artifact.digest``."""


async def fetch_artifact(
    url: str,
    digest: str,
    destination: Path,
    *,
    timeout: float = 60.0,
    retries: int = 3,
) -> None:
    """Download ``url``, check it against ``digest`` (``sha256:<hex>``), unpack it.

    Transient failures (connection errors, 5xx) are retried with a short growing delay; a digest
    mismatch is retried too, since the producer may have replaced the file between our read of
    its status and the download.

    Raises:
        DigestMismatch: the bytes never matched ``digest``.
        ArtifactFetchError: the download or unpacking failed.
    """
    algorithm, _, expected = digest.partition(":")
    if algorithm != "sha256" or not expected:
        raise ArtifactFetchError(f"unsupported artifact digest {digest!r}: expected sha256:<hex>")
    last: ArtifactFetchError | None = None
    async with httpx.AsyncClient(timeout=timeout) as http:
        for attempt in range(retries):
            if attempt:
                await asyncio.sleep(0.5 * 2 ** (attempt - 1))
            try:
                response = await http.get(url)
                response.raise_for_status()
            except httpx.HTTPError as error:
                last = ArtifactFetchError(f"failed to download artifact from {url}: {error}")
                continue
            actual = hashlib.sha256(response.content).hexdigest()
            if actual != expected:
                last = DigestMismatch(
                    f"artifact from {url} has digest sha256:{actual}, expected {digest}"
                )
                continue
            try:
                await asyncio.to_thread(extract_archive, response.content, destination)
            except ArchiveError as error:
                raise ArtifactFetchError(f"artifact from {url}: {error}") from error
            return
    assert last is not None
    raise last
