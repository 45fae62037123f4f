"""Names Flux derives for a HelmRelease: its Helm release and its generated HelmChart."""

from __future__ import annotations

import hashlib

from tide.api.helm import HelmRelease

__all__ = [
    "MAX_RELEASE_NAME",
    "chart_name",
    "release_name",
    "shorten",
    "storage_namespace",
    "target_namespace",
]

MAX_RELEASE_NAME = 53
"""Helm's limit on a release name (it becomes part of Secret names and labels)."""
_HASH_LENGTH = 12


def shorten(name: str) -> str:
    """Return ``name`` if Helm accepts its length, else a stable 53-character form of it.

    The form Flux uses: the first 40 characters, ``-``, and the first 12 hex digits of the
    SHA-256 of the whole name, so two long names sharing a prefix still differ.
    """
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{name[: MAX_RELEASE_NAME - _HASH_LENGTH - 1]}-{digest}"


def release_name(release: HelmRelease) -> str:
    """The Helm release name: ``spec.releaseName``, else ``[<targetNamespace>-]<name>``."""
    spec = release.spec
    if spec.release_name:
        return spec.release_name
    name = release.metadata.name
    return shorten(f"{spec.target_namespace}-{name}" if spec.target_namespace else name)


def target_namespace(release: HelmRelease) -> str:
    """Where the chart's objects go: ``spec.targetNamespace``, else the HelmRelease's own."""
    return release.spec.target_namespace or release.metadata.namespace or "default"


def storage_namespace(release: HelmRelease) -> str:
    """Where Helm keeps the release's records (``sh.helm.release.v1.*`` Secrets).

    ``spec.storageNamespace``, else the target namespace. Flux's default is the HelmRelease's
    own namespace; Tide keeps the records with the objects unless told, as it always has, so
    that no release installed by an earlier Tide is moved (uninstalled and installed again).
    """
    return release.spec.storage_namespace or target_namespace(release)


def chart_name(release: HelmRelease) -> str:
    """Name of the HelmChart generated for ``chart.spec``: ``<namespace>-<name>``."""
    return f"{release.metadata.namespace or 'default'}-{release.metadata.name}"
