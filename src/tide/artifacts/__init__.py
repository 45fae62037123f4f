"""Artifacts: reproducible archives of sources, their storage, HTTP serving and verified fetch.

Producers (the source controllers) build an archive with :func:`build_archive`, store it with
:class:`Storage` and publish ``status.artifact``; consumers download it with
:func:`fetch_artifact`, which refuses bytes that do not match the published digest.
"""

from tide.artifacts.archive import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_UNPACKED_SIZE,
    ArchiveError,
    ArchiveTooLarge,
    build_archive,
    extract_archive,
)
from tide.artifacts.fetch import (
    ArtifactFetchError,
    ArtifactTooLarge,
    DigestMismatch,
    fetch_artifact,
)
from tide.artifacts.ignore import DEFAULT_EXCLUSIONS, IgnoreRules, load_rules
from tide.artifacts.server import ArtifactServer
from tide.artifacts.storage import (
    VOLUME_ERRNOS,
    Artifact,
    Storage,
    StorageError,
    describe_write_error,
    is_write_error,
    sha256_file,
)

__all__ = [
    "DEFAULT_EXCLUSIONS",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_UNPACKED_SIZE",
    "VOLUME_ERRNOS",
    "ArchiveError",
    "ArchiveTooLarge",
    "Artifact",
    "ArtifactFetchError",
    "ArtifactServer",
    "ArtifactTooLarge",
    "DigestMismatch",
    "IgnoreRules",
    "Storage",
    "StorageError",
    "build_archive",
    "describe_write_error",
    "extract_archive",
    "fetch_artifact",
    "is_write_error",
    "load_rules",
    "sha256_file",
]
