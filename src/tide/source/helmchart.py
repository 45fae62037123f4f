"""HelmChart reconcile: source → resolve the chart → fetch or package it → store → collect.

The chart comes from the ``sourceRef``: a HelmRepository's stored index (``type: default``), an
OCI registry (``type: oci``), or the chart folder at ``spec.chart`` inside a GitRepository's or
Bucket's artifact (:mod:`tide.source.helm.chartbuild`). While the source has no artifact the
HelmChart waits (``Ready=False``, ``NoSourceArtifact``, looked at again shortly, no backoff); a
watch on the source kinds reconciles it as soon as the source publishes a new artifact.

Failures set ``FetchFailed`` or ``BuildFailed`` with Flux's reason. Those retrying cannot fix —
no such chart or version, a missing values file, a version that takes no build metadata — stall
the object (``Stalled=True``) as in Flux, until the spec or the source changes; the others are
retried with backoff. ``status.artifact`` is never touched by a failure: the previous chart
stays served. When the resolved chart is the stored one, nothing is downloaded, packaged or
written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from tide.api import conditions, reasons
from tide.api.source import HelmChart, HelmRepository
from tide.artifacts import Storage, StorageError
from tide.kube.cache import WatchCache, object_key
from tide.kube.resources import resource_type
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.steps import (
    Outcome,
    Progress,
    Succeeded,
    Waiting,
    parse_object,
)
from tide.source import _report
from tide.source.helm.build import Build, BuildError
from tide.source.helm.chartbuild import ChartBuilder, Stored
from tide.source.helm.remote import FetchError
from tide.source.helmrepository import HELM_REPOSITORY

__all__ = [
    "HELM_CHART",
    "KIND",
    "SOURCE_RETRY",
    "HelmChartPipeline",
    "register",
]

KIND = "HelmChart"
HELM_CHART = resource_type(KIND)
SOURCE_RETRY = 5.0
"""Seconds before a HelmChart waiting for its source's artifact looks again (the source watch
usually wakes it sooner)."""
_FAILURE_TYPES = (*_report.FAILURE_TYPES, reasons.BUILD_FAILED)


@dataclass(kw_only=True, eq=False)
class HelmChartPipeline(_report.ArtifactPipeline):
    """Steps of a HelmChart reconcile (``client`` reads the HelmRepository's Secrets)."""

    kind = KIND
    workdir: Path
    """Scratch space for downloads and packaging."""
    sources: dict[str, WatchCache]
    """The watch caches of HelmRepository, GitRepository and Bucket, by kind."""
    source_retry: float = SOURCE_RETRY
    """Seconds before a chart waiting for its source looks again (default 5)."""

    def __post_init__(self) -> None:
        self._builder = ChartBuilder(client=self.client, storage=self.storage, workdir=self.workdir)

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish the chart the spec resolves to as the artifact."""
        chart = parse_object(HelmChart, obj)
        generation = chart.metadata.generation
        source, kind = self._source(chart, status)
        try:
            with self.storage.writing("failed to build chart"):
                self.workdir.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=self.workdir, prefix="helmchart-") as work:
                    build = await self._build(chart, source, kind, Path(work), status)
                    if isinstance(build, Waiting):
                        return build
                    event = self._publish(chart, build, status)
        except StorageError as error:
            raise _report.storage_failed(status, error, generation=generation) from error
        except (BuildError, FetchError) as error:
            _fail(status, error, generation)
        reason, message = _ready(status)
        return Succeeded(
            reason=reason,
            message=message,
            event_reason=event[0] if event else None,
            event_message=event[1] if event else None,
        )

    async def _build(
        self,
        chart: HelmChart,
        source: dict[str, Any],
        kind: str,
        work: Path,
        status: dict[str, Any],
    ) -> Build | Waiting:
        """Build (or find current) the chart from ``source``; wait while it has no artifact."""
        stored = self._stored(status)
        force = status.get("observedGeneration") != chart.metadata.generation
        if kind == HELM_REPOSITORY.kind and _is_oci(source):
            repo = HelmRepository.model_validate(source)
            return await self._builder.from_registry(chart, repo, work, stored=stored, force=force)
        artifact = (source.get("status") or {}).get("artifact")
        if not artifact or not self.storage.exists(artifact):
            return self._wait(chart, status)
        previous = status.get("observedSourceArtifactRevision")
        status["observedSourceArtifactRevision"] = artifact["revision"]
        if kind == HELM_REPOSITORY.kind:
            repo = HelmRepository.model_validate(source)
            return await self._builder.from_index(
                chart, repo, artifact, work, stored=stored, force=force
            )
        # Only a settled success vouches for the stored chart: after a failure, the same
        # source revision is built again.
        unchanged = previous == artifact["revision"] and conditions.is_true(status, reasons.READY)
        return await self._builder.from_archive(
            chart, kind, artifact, work, stored=stored, force=force, source_unchanged=unchanged
        )

    def _source(self, chart: HelmChart, status: dict[str, Any]) -> tuple[dict[str, Any], str]:
        ref = chart.spec.source_ref
        namespace = chart.metadata.namespace or "default"
        found = self.sources[ref.kind].get(namespace, ref.name)
        if found is None:
            message = f"failed to get source: {ref.kind} '{namespace}/{ref.name}' not found"
            raise _report.fetch_failed(
                status,
                message,
                reason=reasons.SOURCE_UNAVAILABLE,
                generation=chart.metadata.generation,
            )
        return found, ref.kind

    def _stored(self, status: dict[str, Any]) -> Stored | None:
        """The chart the current artifact holds, if that artifact is still in storage."""
        artifact, name = status.get("artifact"), status.get("observedChartName")
        if artifact and name and self.storage.exists(artifact):
            return Stored(name, artifact["revision"])
        return None

    def _wait(self, chart: HelmChart, status: dict[str, Any]) -> Waiting:
        ref = chart.spec.source_ref
        message = f"no artifact available for {ref.kind} source '{ref.name}'"
        conditions.mark_true(
            status,
            reasons.FETCH_FAILED,
            reason=reasons.NO_SOURCE_ARTIFACT,
            message=message,
            generation=chart.metadata.generation,
        )
        return Waiting(
            reason=reasons.NO_SOURCE_ARTIFACT, message=message, retry_after=self.source_retry
        )

    def _publish(
        self, chart: HelmChart, build: Build, status: dict[str, Any]
    ) -> tuple[str, str] | None:
        """Store a new build (or keep the stored one) and record it in ``status``."""
        namespace, name = chart.metadata.namespace or "default", chart.metadata.name
        generation = chart.metadata.generation
        current = status.get("artifact") or {}
        event = None
        reason, message = build.reason, build.summary()
        if build.path is None:
            current["url"] = f"{self.storage.base_url}/{current['path']}"
            status["url"] = current["url"]
            kept = conditions.find(status, reasons.ARTIFACT_IN_STORAGE)
            if kept and kept.get("status") == "True":
                reason, message = kept["reason"], kept["message"]
        else:
            artifact = _report.store_artifact(
                self.storage,
                KIND,
                namespace,
                name,
                build.path,
                revision=build.version,
                filename=build.path.name,
            )
            if artifact.digest != current.get("digest"):
                event = (reason, message)
            status["artifact"] = artifact.to_status()
            status["url"] = artifact.url
            if build.values_files:
                status["observedValuesFiles"] = list(build.values_files)
            else:
                status.pop("observedValuesFiles", None)
        status["observedChartName"] = build.name
        _report.mark_stored(
            status,
            failure_types=_FAILURE_TYPES,
            reason=reason,
            message=message,
            generation=generation,
        )
        return event


def register(
    manager: Manager,
    storage: Storage,
    workdir: Path,
    *,
    source_retry: float = SOURCE_RETRY,
) -> Controller:
    """Wire the HelmChart controller into ``manager``; return it.

    Besides HelmCharts, it watches HelmRepositories, GitRepositories and Buckets, and
    reconciles the HelmCharts whose source published an artifact they have not built from.

    Args:
        manager: the manager that runs it.
        storage: the source controller's artifact storage (``source.setup(...).storage``).
        workdir: scratch space for this controller.
        source_retry: seconds before a chart waiting for its source looks again (default 5).
    """
    source_kinds = (HELM_REPOSITORY, resource_type("GitRepository"), resource_type("Bucket"))
    sources = {rt.kind: manager.cache_for(rt) for rt in source_kinds}
    pipeline = HelmChartPipeline(
        client=manager.client,
        storage=storage,
        workdir=workdir,
        sources=sources,
        source_retry=source_retry,
    )
    return manager.add_object_controller(HELM_CHART, pipeline, sources=sources, refers=_built_from)


def _built_from(kind: str) -> Any:
    """Tell whether a HelmChart's ``sourceRef`` names a ``kind`` source and has not built its
    current artifact revision yet."""

    def refers(chart: dict[str, Any], source: dict[str, Any]) -> bool:
        namespace, name = object_key(source)
        ref = (chart.get("spec") or {}).get("sourceRef") or {}
        observed = (chart.get("status") or {}).get("observedSourceArtifactRevision")
        artifact = (source.get("status") or {}).get("artifact") or {}
        return (
            (chart["metadata"].get("namespace") or "") == namespace
            and ref.get("kind") == kind
            and ref.get("name") == name
            and observed != artifact.get("revision")
        )

    return refers


def _fail(
    status: dict[str, Any], error: BuildError | FetchError, generation: int | None
) -> NoReturn:
    """Mark the failure's condition, then stall (persistent) or fail (retried with backoff)."""
    kind = error.condition if isinstance(error, BuildError) else reasons.FETCH_FAILED
    for other in (reasons.FETCH_FAILED, reasons.BUILD_FAILED):
        if other != kind:
            conditions.delete(status, other)
    raise _report.fetch_failed(
        status,
        str(error),
        reason=error.reason,
        generation=generation,
        stall=isinstance(error, BuildError) and error.persistent,
        condition=kind,
    ) from error


def _ready(status: dict[str, Any]) -> tuple[str, str]:
    stored = conditions.find(status, reasons.ARTIFACT_IN_STORAGE) or {}
    return stored.get("reason", reasons.SUCCEEDED), stored.get("message", "")


def _is_oci(repository: dict[str, Any]) -> bool:
    return (repository.get("spec") or {}).get("type") == "oci"
