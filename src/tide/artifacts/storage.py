"""Where artifacts live on disk, how they are named, kept and collected.

Layout: ``<root>/<kind>/<namespace>/<name>/<sha256-hex>.tar.gz``, kind in lower case, as Flux's
source-controller lays out its storage. Files are named by their content digest, so storing the
same content twice is free, and identical artifacts of many objects are hard links to one file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "VOLUME_ERRNOS",
    "Artifact",
    "Storage",
    "StorageError",
    "describe_write_error",
    "is_write_error",
    "sha256_file",
]

VOLUME_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT})
"""``errno`` values that only the volume itself causes (read-only, full, over quota): never the
content being written, never a remote."""
_WRITE_ERRNOS = frozenset({
    errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.ENOTDIR,
    errno.EISDIR, errno.EFBIG, errno.EEXIST,
})  # fmt: skip
"""``errno`` values that say the file system refused a write (not that a file was missing)."""

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Return ``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


class StorageError(Exception):
    """Storage (artifacts or the scratch space beside them) refused a write.

    The message says what failed and why in words a person can act on ("storage path /data is
    read-only"), never the bare ``OSError`` text.
    """


def is_write_error(error: BaseException) -> bool:
    """Tell whether ``error`` is the file system refusing a write (read-only, full, denied…)."""
    return isinstance(error, OSError) and error.errno in _WRITE_ERRNOS


def describe_write_error(error: OSError, *, storage_path: Path) -> str:
    """Say in a sentence why the file system refused a write under ``storage_path``.

    ``storage_path`` is the folder the operator configured (``--storage-path``): a full or
    read-only volume is named by it, since that is what they mount and size; a refused file or
    folder is named by its own path.
    """
    where = error.filename or storage_path
    if error.errno == errno.EROFS:
        return f"storage path {storage_path} is read-only"
    if error.errno == errno.ENOSPC:
        return f"no space left on device under {storage_path}"
    if error.errno == errno.EDQUOT:
        return f"disk quota exceeded under {storage_path}"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied writing {where}"
    if error.errno == errno.EFBIG:
        return f"file too large for the file system under {storage_path}: {where}"
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"cannot create {where}: a file stands where a folder must be"
    if error.errno == errno.EISDIR:
        return f"cannot write {where}: it is a folder"
    reason = error.strerror or type(error).__name__
    return f"cannot write under {storage_path} ({where}): {reason.lower()}"


@dataclass(frozen=True)
class Artifact:
    """One stored artifact, as ``status.artifact`` reports it."""

    path: str
    url: str
    revision: str
    digest: str
    size: int
    last_update_time: str
    metadata: dict[str, str] = field(default_factory=dict)

    def to_status(self) -> dict[str, Any]:
        """Return the ``status.artifact`` mapping (Flux's field names)."""
        status: dict[str, Any] = {
            "path": self.path,
            "url": self.url,
            "revision": self.revision,
            "digest": self.digest,
            "lastUpdateTime": self.last_update_time,
            "size": self.size,
        }
        if self.metadata:
            status["metadata"] = dict(self.metadata)
        return status


class Storage:
    """Artifact files under ``root``, served at ``base_url``.

    Args:
        root: the storage folder (created when missing; :class:`StorageError` if it cannot
            be).
        base_url: the advertised address consumers download from, e.g.
            ``http://source-controller.flux-system.svc.cluster.local.``.
        retention: how many artifacts to keep per object, the current one included (default 2,
            so a consumer that read the previous URL a moment ago can still download it).
        storage_path: the folder named in :class:`StorageError` messages, the one the operator
            configured (``--storage-path``), of which ``root`` may be a subfolder (default:
            ``root``).
    """

    def __init__(
        self,
        root: Path,
        *,
        base_url: str,
        retention: int = 2,
        storage_path: Path | None = None,
    ) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.retention = max(1, retention)
        self.storage_path = storage_path or root
        with self.writing("cannot create the artifact storage", any_os_error=True):
            root.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def writing(self, action: str, *, any_os_error: bool = False) -> Iterator[None]:
        """Turn the file system refusing a write inside the block into a :class:`StorageError`.

        The message reads ``<action>: <why>``, e.g. ``failed to store artifact for revision
        'main@sha1:…': storage path /data is read-only``.

        Args:
            action: what the block does, as the message's first half.
            any_os_error: turn every ``OSError`` into a :class:`StorageError` (for blocks that
                do nothing but file work). Default False: only the file system refusing a
                write (:func:`is_write_error`) is turned; other errors (a network failure, a
                file gone missing) pass through, so the block may hold more than file writes.
        """
        try:
            yield
        except StorageError:
            raise
        except OSError as error:
            if not (any_os_error or is_write_error(error)):
                raise
            why = describe_write_error(error, storage_path=self.storage_path)
            raise StorageError(f"{action}: {why}") from error

    def folder(self, kind: str, namespace: str, name: str) -> Path:
        """Return the folder of one object's artifacts."""
        return self.root / kind.lower() / namespace / name

    def local_path(self, artifact_path: str) -> Path:
        """Return the file behind a ``status.artifact.path``."""
        return self.root / artifact_path

    def exists(self, artifact: dict[str, Any] | None) -> bool:
        """Tell whether the file ``status.artifact`` points to is still in storage."""
        return bool(artifact) and self.local_path(artifact["path"]).is_file()

    def store(
        self,
        kind: str,
        namespace: str,
        name: str,
        source: Path,
        *,
        revision: str,
        metadata: dict[str, str] | None = None,
        filename: str = "{digest}.tar.gz",
    ) -> Artifact:
        """Put ``source`` into storage for one object and describe it.

        The file is linked (or copied across file systems); ``source`` is left in place so a
        shared build can be stored for several objects.

        Args:
            filename: the stored name; ``{digest}`` stands for the content's hex digest, so the
                default names files by content (Flux's Git and OCI artifacts). Helm artifacts
                use Flux's names instead (``index-{digest}.yaml``, ``<chart>-<version>.tgz``);
                a name reused for new content is replaced atomically.

        Raises:
            StorageError: the file system refused the write (read-only, full, permissions).
        """
        with self.writing(f"failed to store artifact for revision '{revision}'", any_os_error=True):
            digest = sha256_file(source)
            folder = self.folder(kind, namespace, name)
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / filename.format(digest=digest.removeprefix("sha256:"))
            if not target.exists() or sha256_file(target) != digest:
                _place(source, target)
            relative = target.relative_to(self.root).as_posix()
            size = target.stat().st_size
        return Artifact(
            path=relative,
            url=f"{self.base_url}/{relative}",
            revision=revision,
            digest=digest,
            size=size,
            last_update_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            metadata=dict(metadata or {}),
        )

    def collect_garbage(self, kind: str, namespace: str, name: str, *, current: str) -> int:
        """Delete all but the newest ``retention`` artifacts of an object; return how many.

        ``current`` (a ``status.artifact.path``) is never deleted, whatever its age.

        Raises:
            StorageError: the file system refused a deletion (read-only, permissions).
        """
        with self.writing("failed to garbage collect old artifacts", any_os_error=True):
            return self._collect_garbage(kind, namespace, name, current=current)

    def _collect_garbage(self, kind: str, namespace: str, name: str, *, current: str) -> int:
        folder = self.folder(kind, namespace, name)
        if not folder.is_dir():
            return 0
        keep = {self.local_path(current)}
        files = sorted(
            (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in files:
            if len(keep) >= self.retention:
                break
            keep.add(path)
        removed = 0
        for path in files:
            if path not in keep:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

    def remove_all(self, kind: str, namespace: str, name: str) -> None:
        """Delete every artifact of an object (when the object itself is deleted)."""
        shutil.rmtree(self.folder(kind, namespace, name), ignore_errors=True)


def _place(source: Path, target: Path) -> None:
    """Link ``source`` to ``target`` atomically; copy when they sit on different file systems."""
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".incoming-"))
    staged = scratch / target.name
    try:
        try:
            os.link(source, staged)
        except OSError:
            shutil.copyfile(source, staged)
        os.replace(staged, target)
        os.utime(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
