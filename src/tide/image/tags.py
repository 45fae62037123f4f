"""Where scanned tags live: one text file per ImageRepository, outside etcd and out of memory.

A repository can have tens of thousands of tags; in etcd they would bloat every watch of the
object, and in memory they would grow the controller with every repository it scans. So, as
Flux's file backend does, the tags of an ImageRepository are kept in
``<storage>/imagerepository/<namespace>/<name>/tags.txt``, one tag per line, keyed by object
(not by image: two repositories with different credentials may see different tags).

A scan streams the tags it receives page by page into a temporary file beside that one
(:class:`TagWriter`), keeping only a running digest, a count and the ten latest tags. The
revision is order-independent (the sum of the tags' SHA-256 values, so a registry that lists in
another order does not look changed). When the revision equals the stored one the temporary
file is dropped and the stored file is not touched; otherwise it replaces the stored file in
one ``rename``, so a policy reading it never sees half a list. Policies read the file line by
line (:meth:`TagStore.read`).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["LATEST_TAGS", "NoTags", "Scanned", "TagStore", "TagStoreError", "TagWriter"]

LATEST_TAGS = 10
"""How many tags ``status.lastScanResult.latestTags`` shows, as in Flux."""
_KIND_FOLDER = "imagerepository"
_FILE = "tags.txt"
_MODULUS = 1 << 256


class TagStoreError(OSError):
    """The tag file could not be written or read; the message names the file."""


class NoTags(LookupError):
    """No scan of this ImageRepository has been stored (yet) in this controller's storage."""


@dataclass(frozen=True)
class Scanned:
    """What a scan stored.

    Attributes:
        revision: order-independent digest of the tags, ``sha256:<hex>``.
        count: number of tags stored.
        latest: the ten latest tags, in Flux's order (descending by text).
        changed: whether the stored file was replaced (False: the same tags as before).
    """

    revision: str
    count: int
    latest: list[str]
    changed: bool


class TagWriter:
    """Collect one scan's tags into a temporary file; see :meth:`TagStore.writer`."""

    def __init__(self, target: Path) -> None:
        self._target = target
        self._sum = 0
        self._count = 0
        self._latest: list[str] = []
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=".scan-", suffix=".tmp")
        except OSError as error:
            raise TagStoreError(f"cannot write tags below '{target.parent}': {error}") from error
        self._temporary = Path(name)
        self._sink: IO[str] = os.fdopen(descriptor, "w", encoding="utf-8")

    def add(self, tags: Iterable[str]) -> None:
        """Append ``tags`` (one page); a tag with a line break cannot be a tag and is skipped."""
        lines = []
        for tag in tags:
            if not tag or "\n" in tag or "\r" in tag:
                continue
            self._count += 1
            self._sum = (self._sum + int.from_bytes(hashlib.sha256(tag.encode()).digest())) % (
                _MODULUS
            )
            if len(self._latest) < LATEST_TAGS:
                heapq.heappush(self._latest, tag)
            elif tag > self._latest[0]:
                heapq.heapreplace(self._latest, tag)
            lines.append(tag)
        try:
            self._sink.write("".join(f"{line}\n" for line in lines))
        except OSError as error:
            raise TagStoreError(f"cannot write '{self._temporary}': {error}") from error

    @property
    def revision(self) -> str:
        """Return the digest of the tags added so far."""
        summary = f"{self._count}:{self._sum:064x}".encode()
        return f"sha256:{hashlib.sha256(summary).hexdigest()}"

    def commit(self, previous_revision: str | None) -> Scanned:
        """Store the tags unless they are the ones of ``previous_revision`` (file present)."""
        revision = self.revision
        latest = sorted(self._latest, reverse=True)
        try:
            self._sink.close()
            if revision == previous_revision and self._target.is_file():
                self._temporary.unlink()
                return Scanned(revision, self._count, latest, changed=False)
            os.replace(self._temporary, self._target)
        except OSError as error:
            self.discard()
            raise TagStoreError(f"cannot store tags in '{self._target}': {error}") from error
        return Scanned(revision, self._count, latest, changed=True)

    def discard(self) -> None:
        """Drop the temporary file (a failed scan leaves the stored tags as they were)."""
        with contextlib.suppress(OSError):
            self._sink.close()
        with contextlib.suppress(OSError):
            self._temporary.unlink()


class TagStore:
    """The tag files of every ImageRepository, below ``root``.

    Args:
        root: the controller's storage path (``--storage-path``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, namespace: str, name: str) -> Path:
        """Return the tag file of ImageRepository ``namespace/name``."""
        return self.root / _KIND_FOLDER / namespace / name / _FILE

    def writer(self, namespace: str, name: str) -> TagWriter:
        """Start storing a scan of ``namespace/name``; ``commit`` or ``discard`` it.

        Raises:
            TagStoreError: the folder cannot be created or written.
        """
        return TagWriter(self.path(namespace, name))

    def exists(self, namespace: str, name: str) -> bool:
        """Tell whether a scan of ``namespace/name`` is stored."""
        return self.path(namespace, name).is_file()

    def read(self, namespace: str, name: str) -> Iterator[str]:
        """Yield the stored tags of ``namespace/name``, one at a time.

        Raises:
            NoTags: nothing stored for it (never scanned here, or storage was emptied).
            TagStoreError: the file exists but cannot be read.
        """
        path = self.path(namespace, name)
        try:
            source = path.open(encoding="utf-8")
        except FileNotFoundError:
            raise NoTags(f"no tags stored for ImageRepository '{namespace}/{name}'") from None
        except OSError as error:
            raise TagStoreError(f"cannot read '{path}': {error}") from error
        return _lines(source)

    def remove(self, namespace: str, name: str) -> None:
        """Delete what is stored for ``namespace/name`` (the object is being deleted)."""
        shutil.rmtree(self.path(namespace, name).parent, ignore_errors=True)


def _lines(source: IO[str]) -> Iterator[str]:
    with source:
        for line in source:
            tag = line.rstrip("\n")
            if tag:
                yield tag
