"""Pack a tree into a reproducible ``.tar.gz`` and unpack one safely.

The same files always give the same bytes (sorted entries, zeroed times and owners, normalised
modes, a gzip header without a timestamp), so the artifact digest depends on content alone and an
unchanged source never produces a "new" artifact.

Unpacking streams the archive entry by entry and stops at a size and an entry count: a few
megabytes of gzip can hold gigabytes of zeros, and a consumer must not fill its disk because a
source (or whoever wrote to it) says so.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from tide.artifacts.ignore import IgnoreRules
from tide.artifacts.storage import VOLUME_ERRNOS

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_UNPACKED_SIZE",
    "ArchiveError",
    "ArchiveTooLarge",
    "build_archive",
    "extract_archive",
]

DEFAULT_MAX_UNPACKED_SIZE = 1 << 30
"""1 GiB: the default bound on the bytes an archive may unpack to.

Manifests, charts and their templates weigh kilobytes to a few hundred megabytes even in large
monorepos, and Flux itself sets no bound, so the default must refuse no real source; yet it
keeps a hostile archive (a gzip bomb) from filling a consumer's disk.
"""
DEFAULT_MAX_ENTRIES = 250_000
"""The default bound on the entries (files and folders) an archive may hold: more than any
source kustomize or Helm can usefully build, few enough that an archive of empty files cannot
exhaust a file system's inodes."""

_GZIP_LEVEL = 6
"""Close to gzip's best ratio for manifests at a fraction of level 9's time."""


class ArchiveError(Exception):
    """An archive could not be read, or holds a path that would escape its destination."""


class ArchiveTooLarge(ArchiveError):
    """An archive unpacks to more bytes, or holds more entries, than allowed."""


_MAX_HEADER = 1 << 20
"""1 MiB: the most a pax or GNU long-name header may hold. Real ones hold a path or a few
attributes (bytes to kilobytes); Python's tarfile reads such a header into memory whole before
the entry it describes is seen, so without this a few kilobytes of gzip could claim gigabytes."""
_EXTENDED_HEADERS = frozenset(
    {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE}
    | {tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK}
)


class _BoundedInfo(tarfile.TarInfo):
    """A tar header reader that refuses an extended header larger than :data:`_MAX_HEADER`.

    tarfile has no option for this; its ``tarinfo`` hook is the documented way to read headers
    differently, and this mirrors the stock ``fromtarfile`` with the size check added.
    """

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> tarfile.TarInfo:
        buf = archive.fileobj.read(tarfile.BLOCKSIZE)  # type: ignore[union-attr]
        obj = cls.frombuf(buf, archive.encoding, archive.errors)
        if obj.type in _EXTENDED_HEADERS and obj.size > _MAX_HEADER:
            raise ArchiveTooLarge(
                f"holds a {obj.size}-byte extended header (at most {_human(_MAX_HEADER)})"
            )
        obj.offset = archive.fileobj.tell() - tarfile.BLOCKSIZE  # type: ignore[union-attr]
        return obj._proc_member(archive)  # type: ignore[attr-defined]


def _entries(root: Path, rules: IgnoreRules) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        relative_base = base.relative_to(root).as_posix()
        prefix = "" if relative_base == "." else f"{relative_base}/"
        dirs[:] = sorted(
            d for d in dirs if d != ".git" and not rules.excludes(prefix + d, is_dir=True)
        )
        for name in sorted(files):
            path = base / name
            # Regular files only: symlinks could point outside the tree (Flux skips them too).
            # A submodule's ".git" is a file pointing at the parent's metadata: never content.
            if name == ".git" or path.is_symlink() or not path.is_file():
                continue
            if rules.excludes(prefix + name):
                continue
            found.append((prefix + name, path))
    return sorted(found)


def build_archive(root: Path, destination: Path, rules: IgnoreRules) -> int:
    """Write ``root``'s included files to ``destination`` (tar.gz); return how many files."""
    entries = _entries(root, rules)
    with (
        destination.open("wb") as sink,
        # filename="" keeps the output path out of the gzip header, as mtime=0 keeps the time.
        gzip.GzipFile(
            filename="", fileobj=sink, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0
        ) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, path in entries:
            info = tarfile.TarInfo(name)
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as content:
                tar.addfile(info, content)
    return len(entries)


def extract_archive(
    source: bytes | Path,
    destination: Path,
    *,
    max_size: int | None = DEFAULT_MAX_UNPACKED_SIZE,
    max_entries: int | None = DEFAULT_MAX_ENTRIES,
) -> None:
    """Unpack a tar.gz (bytes, or a file read as a stream) into ``destination``.

    ``destination`` must be missing or empty (else ``ArchiveError``). Entries are checked and
    written one at a time, so an archive is never held in memory whole; on any failure,
    everything written is removed again (``destination`` too, when this call created it).

    Args:
        source: the archive's bytes, or the path of a file holding them.
        destination: the folder to unpack into.
        max_size: the most bytes the files may add up to (default 1 GiB); None: no bound.
        max_entries: the most files and folders (default 250 000); None: no bound.

    Raises:
        ArchiveTooLarge: the files add up to more than ``max_size`` bytes, or there are more
            than ``max_entries`` of them.
        ArchiveError: the data is not a tar.gz, or an entry is absolute, climbs out with ``..``,
            or is a link or device (a hostile artifact must not write outside ``destination``).
    """
    created = not destination.exists()
    if not created and any(destination.iterdir()):
        raise ArchiveError("cannot unpack: the destination folder is not empty")
    destination.mkdir(parents=True, exist_ok=True)
    try:
        if isinstance(source, bytes):
            _extract(io.BytesIO(source), destination, max_size, max_entries)
        else:
            with source.open("rb") as stream:
                _extract(stream, destination, max_size, max_entries)
    except BaseException:
        _clear(destination, remove=created)
        raise


def _extract(
    stream: IO[bytes], destination: Path, max_size: int | None, max_entries: int | None
) -> None:
    total = entries = 0
    try:
        # gzip.GzipFile rather than tarfile's own "r|gz": tarfile's stream reader misreads a gzip
        # header with an extra field, which Helm writes into every chart it packages.
        with (
            gzip.GzipFile(fileobj=stream, mode="rb") as unzipped,
            tarfile.open(fileobj=unzipped, mode="r|", tarinfo=_BoundedInfo) as tar,
        ):
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if member.name.startswith("/") or ".." in parts:
                    raise ArchiveError(f"archive entry {member.name!r} escapes the destination")
                if not (member.isfile() or member.isdir()):
                    raise ArchiveError(f"archive entry {member.name!r} is not a file or folder")
                entries += 1
                if max_entries is not None and entries > max_entries:
                    raise ArchiveTooLarge(f"holds more than {max_entries} entries")
                total += member.size
                if max_size is not None and total > max_size:
                    raise ArchiveTooLarge(
                        f"unpacks to more than {max_size} bytes ({_human(max_size)})"
                    )
                tar.extract(member, destination, filter="data")
    except (gzip.BadGzipFile, zlib.error) as error:  # before OSError: BadGzipFile is one
        raise ArchiveError(f"not a valid tar.gz archive: {error}") from error
    except OSError as error:
        if error.errno in VOLUME_ERRNOS:  # the disk's fault, not the archive's
            why = (error.strerror or "").lower()
            # No path in the message: it is a private scratch folder, of no use to a reader.
            raise ArchiveError(f"cannot unpack: {why}") from error
        why = error.strerror or type(error).__name__
        raise ArchiveError(f"not a valid tar.gz archive: {why}") from error
    except (tarfile.TarError, EOFError) as error:
        raise ArchiveError(f"not a valid tar.gz archive: {error}") from error


def _clear(destination: Path, *, remove: bool) -> None:
    """Remove what an unpacking wrote: ``destination`` itself, or (kept) only its contents."""
    if remove:
        shutil.rmtree(destination, ignore_errors=True)
        return
    for child in destination.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _human(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} B"
