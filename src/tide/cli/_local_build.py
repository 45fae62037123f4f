"""Build a local folder as the controller would, failing as a command fails.

The build itself is :mod:`tide.inspect.local_build` (the dashboard builds the same way); here
its :class:`~tide.inspect.local_build.LocalBuildError` becomes the one line a command prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tide.api.kustomize import Kustomization
from tide.cli._session import CommandError
from tide.inspect import local_build
from tide.kube.client import KubeClient

__all__ = ["build_folder", "parse_kustomization"]


def parse_kustomization(obj: dict[str, Any]) -> Kustomization:
    """Parse a Kustomization read from the cluster or a file, refusing it in one line."""
    try:
        return local_build.parse_kustomization(obj)
    except local_build.LocalBuildError as error:
        raise CommandError(str(error)) from None


async def build_folder(
    kustomization: Kustomization,
    folder: Path,
    *,
    client: KubeClient | None,
    root: Path | None = None,
) -> list[dict[str, Any]]:
    """Return the objects the controller would apply (:func:`tide.inspect.build_folder`)."""
    try:
        return await local_build.build_folder(kustomization, folder, client=client, root=root)
    except local_build.LocalBuildError as error:
        raise CommandError(str(error)) from None
