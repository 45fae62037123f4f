"""Resolve a GitRepository's ``spec.include`` entries to the artifacts of other GitRepositories."""

from __future__ import annotations

import asyncio
import hashlib

from tide.api import reasons
from tide.api.source import GitRepository
from tide.artifacts import Storage
from tide.kube.cache import WatchCache
from tide.source.git.build import IncludedArtifact

__all__ = ["IncludeError", "resolve_includes"]


class IncludeError(Exception):
    """An included GitRepository is missing or has no usable artifact yet."""

    reason = reasons.INCLUDE_UNAVAILABLE


async def resolve_includes(
    repo: GitRepository, cache: WatchCache, storage: Storage
) -> list[IncludedArtifact]:
    """Return each include's artifact, read from storage and checked against its digest."""
    namespace = repo.metadata.namespace or "default"
    found: list[IncludedArtifact] = []
    for index, include in enumerate(repo.spec.include or []):
        name = include.repository.name
        where = f"GitRepository '{namespace}/{name}' (spec.include[{index}])"
        other = cache.get(namespace, name)
        if other is None:
            raise IncludeError(f"{where} not found")
        artifact = (other.get("status") or {}).get("artifact")
        if not artifact or not storage.exists(artifact):
            raise IncludeError(f"{where} has no artifact yet")
        data = await asyncio.to_thread(storage.local_path(artifact["path"]).read_bytes)
        if f"sha256:{hashlib.sha256(data).hexdigest()}" != artifact["digest"]:
            raise IncludeError(f"{where}: artifact does not match its digest")
        found.append(IncludedArtifact(
            name=name,
            digest=artifact["digest"],
            from_path=include.from_path or "",
            to_path=include.to_path or name,
            archive=data,
            artifact=artifact,
        ))  # fmt: skip
    return found
