"""Find a generator's sources in the watch caches and download their artifacts.

Sources are read from the caches the controller already keeps (no GET per reconcile); the
digest of what was observed tells the reconcile whether anything it builds from moved.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tide.api import reasons
from tide.api.generator import ArtifactGenerator, OutputArtifact
from tide.api.keys import ORIGIN_REVISION
from tide.artifacts import ArtifactFetchError, fetch_artifact
from tide.kube.cache import WatchCache
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import StepFailed

__all__ = [
    "ObservedSource",
    "fetch_sources",
    "observe_sources",
    "revisions",
    "sources_digest",
]


@dataclass(frozen=True)
class ObservedSource:
    """One source's current artifact, as its status publishes it."""

    alias: str
    where: str
    """``<Kind> '<namespace>/<name>'``, for messages."""
    url: str
    digest: str
    revision: str
    origin_revision: str | None


def observe_sources(
    generator: ArtifactGenerator,
    caches: Mapping[str, WatchCache],
    *,
    allow_cross_namespace: bool,
    retry_after: float,
) -> dict[str, ObservedSource]:
    """Return each source's current artifact, by alias.

    Raises:
        Stalled: a source in another namespace while cross-namespace references are off
            (``AccessDenied``).
        StepFailed: a source is missing or has no artifact yet (``SourceFetchFailed``), retried
            after ``retry_after`` seconds; its watch also wakes the generator as soon as it
            publishes one.
    """
    own = generator.metadata.namespace or "default"
    observed: dict[str, ObservedSource] = {}
    policy = ReferencePolicy(no_cross_namespace_refs=not allow_cross_namespace)
    for index, ref in enumerate(generator.spec.sources):
        # The same rule and words as every other kind's references (AccessDenied, stalls).
        namespace = policy.resolve(own, kind=ref.kind, name=ref.name, namespace=ref.namespace)
        where = f"{ref.kind} '{namespace}/{ref.name}'"
        field = f"spec.sources[{index}] (alias '{ref.alias}')"
        cache = caches.get(ref.kind)
        source = cache.get(namespace, ref.name) if cache is not None else None
        if source is None:
            raise StepFailed(
                f"get sources failed: {where} ({field}) not found",
                reason=reasons.SOURCE_FETCH_FAILED,
                retry_after=retry_after,
            )
        artifact = (source.get("status") or {}).get("artifact")
        if not artifact or not artifact.get("digest"):
            raise StepFailed(
                f"get sources failed: {where} ({field}) is not ready: it has no artifact yet",
                reason=reasons.SOURCE_FETCH_FAILED,
                retry_after=retry_after,
            )
        observed[ref.alias] = ObservedSource(
            alias=ref.alias,
            where=where,
            url=artifact["url"],
            digest=artifact["digest"],
            revision=artifact["revision"],
            origin_revision=(artifact.get("metadata") or {}).get(ORIGIN_REVISION),
        )
    return observed


def sources_digest(observed: Mapping[str, ObservedSource]) -> str:
    """Return ``sha256:<hex>`` over every source's artifact (alias, digest, revisions)."""
    rows = sorted(
        (s.alias, s.where, s.digest, s.revision, s.origin_revision or "") for s in observed.values()
    )
    text = json.dumps(rows, separators=(",", ":"))
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"


async def fetch_sources(
    observed: Mapping[str, ObservedSource], workdir: Path, *, retry_after: float
) -> dict[str, Path]:
    """Download and unpack every source (digest checked) into ``workdir/<alias>``.

    Raises:
        StepFailed: a download failed or did not match its digest (``SourceFetchFailed``).
    """

    async def one(source: ObservedSource) -> tuple[str, Path]:
        folder = workdir / source.alias
        try:
            await fetch_artifact(source.url, source.digest, folder)
        except ArtifactFetchError as error:
            raise StepFailed(
                f"fetch sources failed: {source.where} (alias '{source.alias}'): {error}",
                reason=reasons.SOURCE_FETCH_FAILED,
                retry_after=retry_after,
            ) from error
        return source.alias, folder

    tasks: list[asyncio.Task[tuple[str, Path]]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(source)) for source in observed.values()]
    except BaseExceptionGroup as failed:
        # The other downloads were cancelled and awaited before the scratch folder goes;
        # the first failure is reported as itself.
        raise failed.exceptions[0] from None
    return dict(task.result() for task in tasks)


def revisions(
    output: OutputArtifact, observed: dict[str, ObservedSource], digest: str
) -> tuple[str, dict[str, str]]:
    """Return the artifact's revision and metadata, as ``revision``/``originRevision`` ask."""
    revision = f"latest@{digest}"
    if output.revision is not None:
        revision = observed[output.revision.removeprefix("@")].revision
    metadata: dict[str, str] = {}
    if output.origin_revision is not None:
        origin = observed[output.origin_revision.removeprefix("@")]
        metadata[ORIGIN_REVISION] = origin.origin_revision or origin.revision
    return revision, metadata
