"""ArtifactGenerator reconcile: validate → observe sources → fetch → copy → publish → collect.

Each step fails with one reason, Flux's: ``ValidationFailed`` (stalled: the spec must change),
``AccessDenied`` (stalled: a cross-namespace source while those are off), ``SourceFetchFailed``
(a source missing, without an artifact, or not downloadable; retried), ``BuildFailed`` (a copy
operation cannot be carried out), ``ReconciliationFailed`` (an ExternalArtifact cannot be
written). When no source moved since the inventory was built and every ExternalArtifact still
carries its artifact, nothing is downloaded or written. Otherwise each artifact is rebuilt and
published only if its content (or its revision) changed.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import reasons
from tide.api.generator import ArtifactGenerator, OutputArtifact
from tide.artifacts import Storage, StorageError
from tide.kube.cache import WatchCache
from tide.kube.errors import KubeError
from tide.runtime.events import EventRecorder
from tide.runtime.steps import Outcome, Progress, Stalled, StepFailed, Succeeded, parse_object
from tide.source._report import storage_failed
from tide.source.generator import copy as copying
from tide.source.generator.external import ExternalArtifacts, OwnershipError, Published, archive
from tide.source.generator.sources import (
    ObservedSource,
    fetch_sources,
    observe_sources,
    revisions,
    sources_digest,
)
from tide.source.generator.validate import SpecError, validate

__all__ = ["ArtifactGeneratorPipeline"]


@dataclass(kw_only=True, eq=False)
class ArtifactGeneratorPipeline:
    """Steps of an ArtifactGenerator reconcile."""

    sources: Mapping[str, WatchCache]
    """Watch caches of the source kinds, by kind."""
    externals: ExternalArtifacts
    """Writes the generated ExternalArtifacts."""
    storage: Storage
    """Where the sources' artifacts are read from and the generated ones stored."""
    recorder: EventRecorder
    """Records one event per ExternalArtifact that got a new artifact."""
    workdir: Path
    """Scratch space for downloads and staging."""
    allow_cross_namespace: bool = True
    """Whether sources may live in other namespaces (default True, Flux's)."""
    retry_after: float = 5.0
    """Seconds before a generator waiting on a source looks again (default 5)."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Generate every artifact of ``obj`` from the current artifacts of its sources."""
        generator = parse_object(ArtifactGenerator, obj)
        try:
            plans = validate(generator.spec)
        except SpecError as error:
            raise Stalled(str(error), reason=reasons.VALIDATION_FAILED) from error
        observed = observe_sources(
            generator,
            self.sources,
            allow_cross_namespace=self.allow_cross_namespace,
            retry_after=self.retry_after,
        )
        digest = sources_digest(observed)
        if not self._up_to_date(obj, generator, status, digest):
            try:
                published = await self._generate(obj, generator, plans, observed)
                await self._collect_orphans(obj, {p.reference["name"] for p in published})
            except StorageError as error:  # read-only, full, denied: said in words, retried
                generation = generator.metadata.generation
                raise storage_failed(status, error, generation=generation) from error
            status["inventory"] = [p.reference for p in published]
            status["observedSourcesDigest"] = digest
            await self._report_new(obj, published)
        count = len(status.get("inventory") or [])
        return Succeeded(
            reason=reasons.SUCCEEDED,
            message=f"reconciliation succeeded, generated {count} artifact(s)",
        )

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Delete every ExternalArtifact the generator wrote, and their stored files."""
        namespace = obj["metadata"].get("namespace") or "default"
        names = {e["name"] for e in (obj.get("status") or {}).get("inventory") or []}
        names |= {e["metadata"]["name"] for e in self.externals.owned_by(obj)}
        for name in sorted(names):
            await self.externals.delete(namespace, name)

    def _up_to_date(
        self,
        obj: dict[str, Any],
        generator: ArtifactGenerator,
        status: dict[str, Any],
        digest: str,
    ) -> bool:
        """Tell whether the inventory was built from these sources for this generation."""
        if status.get("observedSourcesDigest") != digest:
            return False
        if status.get("observedGeneration") != generator.metadata.generation:
            return False
        inventory = {e["name"]: e for e in status.get("inventory") or []}
        if set(inventory) != {a.name for a in generator.spec.artifacts}:
            return False
        owned = {e["metadata"]["name"]: e for e in self.externals.owned_by(obj)}
        for name, entry in inventory.items():
            artifact = ((owned.get(name) or {}).get("status") or {}).get("artifact") or {}
            if artifact.get("digest") != entry["digest"] or not self.storage.exists(artifact):
                return False
        return True

    async def _generate(
        self,
        obj: dict[str, Any],
        generator: ArtifactGenerator,
        plans: dict[str, list[copying.CopyRule]],
        observed: dict[str, ObservedSource],
    ) -> list[Published]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.workdir, prefix="ag-") as scratch:
            root = Path(scratch)
            local = await fetch_sources(observed, root / "sources", retry_after=self.retry_after)
            published = []
            for output in generator.spec.artifacts:
                published.append(
                    await self._build_and_publish(
                        obj, output, plans[output.name], local, observed, root
                    )
                )
            return published

    async def _build_and_publish(
        self,
        obj: dict[str, Any],
        output: OutputArtifact,
        rules: list[copying.CopyRule],
        local: dict[str, Path],
        observed: dict[str, ObservedSource],
        root: Path,
    ) -> Published:
        staging = root / "artifacts" / output.name
        try:
            await asyncio.to_thread(copying.apply_rules, rules, local, staging)
        except copying.CopyError as error:
            raise StepFailed(
                f"{output.name} build failed: {error}", reason=reasons.BUILD_FAILED
            ) from error
        packed = root / f"{output.name}.tar.gz"
        try:
            with self.storage.writing(f"failed to pack artifact {output.name}"):
                digest = await archive(staging, packed)
            revision, metadata = revisions(output, observed, digest)
            return await self.externals.publish(
                obj, output.name, packed, digest, revision=revision, metadata=metadata
            )
        except OwnershipError as error:
            raise StepFailed(str(error), reason=reasons.RECONCILIATION_FAILED) from error
        except KubeError as error:
            raise StepFailed(
                f"{output.name} reconcile failed: {error}", reason=reasons.RECONCILIATION_FAILED
            ) from error

    async def _report_new(self, obj: dict[str, Any], published: list[Published]) -> None:
        """Record one event per ExternalArtifact that got a new artifact."""
        for item in published:
            if item.changed:
                ref = item.reference
                await self.recorder.record(
                    obj,
                    type="Normal",
                    reason=reasons.NEW_ARTIFACT,
                    message=f"ExternalArtifact/{ref['namespace']}/{ref['name']} reconciled "
                    f"with revision {item.revision}",
                )

    async def _collect_orphans(self, obj: dict[str, Any], keep: set[str]) -> None:
        """Delete ExternalArtifacts this generator wrote that its spec no longer lists."""
        namespace = obj["metadata"].get("namespace") or "default"
        listed = {e["name"] for e in (obj.get("status") or {}).get("inventory") or []}
        listed |= {e["metadata"]["name"] for e in self.externals.owned_by(obj)}
        for name in sorted(listed - keep):
            await self.externals.delete(namespace, name)
