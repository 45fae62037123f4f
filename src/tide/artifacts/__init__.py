"""Artifacts: reproducible archives of sources, their storage, HTTP serving and verified fetch.

Producers (the source controllers) build an archive with :func:`build_archive`, store it with
:class:`Storage` and publish ``status.artifact``; consumers download it with
:func:`fetch_artifact`, which refuses bytes that do not match the published digest.
"""

from tide.artifacts.archive import ArchiveError, build_archive, extract_archive
from tide.artifacts.fetch import ArtifactFetchError, DigestMismatch, fetch_artifact
from tide.artifacts.ignore import DEFAULT_EXCLUSIONS, IgnoreRules, load_rules
from tide.artifacts.server import ArtifactServer
from tide.artifacts.storage import Artifact, Storage, sha256_file

__all__ = [
    "DEFAULT_EXCLUSIONS",
    "ArchiveError",
    "Artifact",
    "ArtifactFetchError",
    "ArtifactServer",
    "DigestMismatch",
    "IgnoreRules",
    "Storage",
    "build_archive",
    "extract_archive",
    "fetch_artifact",
    "load_rules",
    "sha256_file",
]
