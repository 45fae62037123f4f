"""Choose the layer ``spec.layerSelector`` names and unpack it safely.

As in Flux: with no ``mediaType`` the first layer is used, otherwise the first layer of that
media type; ``extract`` (the default) unpacks the layer, which must be a gzip-compressed tar,
and ``copy`` keeps the blob as it is. Unpacking skips symbolic and hard links (Flux's
``tar.WithSkipSymlinks``), refuses entries that would land outside the destination and any
entry that is not a file or folder, and reads the layer from disk as a stream rather than into
memory, since a layer may be large.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path, PurePosixPath

from tide.artifacts import VOLUME_ERRNOS
from tide.source.oci.manifest import Descriptor, Manifest

__all__ = ["COPY", "EXTRACT", "LayerError", "extract_layer", "select_layer"]

EXTRACT = "extract"
"""Unpack the layer and re-archive its files (with the ignore rules)."""
COPY = "copy"
"""Store the layer blob unaltered."""


class LayerError(Exception):
    """The artifact has no usable layer, or the layer cannot be unpacked."""


def select_layer(manifest: Manifest, media_type: str | None) -> Descriptor:
    """Return the first layer, or the first one of ``media_type``.

    Raises:
        LayerError: no layers, or none of ``media_type``.
    """
    if not manifest.layers:
        raise LayerError("no layers found in artifact")
    if not media_type:
        return manifest.layers[0]
    for layer in manifest.layers:
        if layer.media_type == media_type:
            return layer
    raise LayerError(f"failed to find layer with media type '{media_type}' in artifact")


def _check(member: tarfile.TarInfo) -> bool:
    """Tell whether to unpack ``member``; raise for one that must not be in a layer."""
    parts = PurePosixPath(member.name).parts
    if member.name.startswith("/") or ".." in parts:
        raise LayerError(f"entry '{member.name}' would be written outside the destination")
    if member.issym() or member.islnk():
        return False
    if not (member.isfile() or member.isdir()):
        raise LayerError(f"entry '{member.name}' is not a regular file or a folder")
    return True


def extract_layer(blob: Path, destination: Path) -> int:
    """Unpack the gzip-compressed tar ``blob`` into ``destination``; return the files written.

    Raises:
        LayerError: not a gzip tar, or an entry that is unsafe or not a file, folder or link.
        OSError: the volume refused a write (read-only, full; :data:`VOLUME_ERRNOS`):
            storage's failure, not the layer's.
    """
    destination.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        with tarfile.open(blob, mode="r|gz") as archive:
            for member in archive:
                if not _check(member):
                    continue
                archive.extract(member, destination, filter="data")
                count += member.isfile()
    except (tarfile.TarError, zlib.error, EOFError, OSError) as error:
        if isinstance(error, OSError) and error.errno in VOLUME_ERRNOS:
            raise  # the volume refused (full, read-only), not the layer: the caller says so
        raise LayerError(f"not a valid tar+gzip layer: {error}") from error
    return count
