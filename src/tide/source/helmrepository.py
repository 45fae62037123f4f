"""HelmRepository reconcile: credentials → fetch ``index.yaml`` → validate → store → collect.

``type: default`` repositories publish their index as the artifact: validated as Helm validates
it and stored in a normalised form (:mod:`tide.source.helm.index`), whose digest is the revision,
so an unchanged index is neither stored again nor written to the status. Each failure sets the
negative-polarity ``FetchFailed`` (or ``StorageOperationFailed``) condition with Flux's reason —
``AuthenticationFailed``, ``Failed``, ``IndexationFailed`` — and never touches
``status.artifact``: the previous index stays published and served.

``type: oci`` repositories are static objects in Flux: nothing is fetched, no artifact, no
status, no finalizer. A repository that was ``default`` before is migrated: its artifacts are
deleted, its status cleared and its finalizer removed, as Flux's ``migrationToStatic`` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from tide.api import kinds, reasons
from tide.api.keys import FINALIZER
from tide.api.source import HelmRepository
from tide.artifacts import Storage, StorageError
from tide.kube.resources import resource_type
from tide.runtime.controller import Controller
from tide.runtime.lifecycle import ObjectReconciler
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request, Result
from tide.runtime.status import StatusWriter
from tide.runtime.steps import Outcome, Progress, parse_object
from tide.source import _report
from tide.source.helm import remote
from tide.source.helm.index import MAX_INDEX_SIZE, IndexInvalid, parse_index

__all__ = [
    "COMPONENT",
    "HELM_REPOSITORY",
    "KIND",
    "HelmRepositoryPipeline",
    "HelmRepositoryReconciler",
    "register",
]

log = logging.getLogger(__name__)

KIND = "HelmRepository"
COMPONENT = kinds.SOURCE_CONTROLLER
"""Name in events and ``managedFields``, as Flux's controller."""
HELM_REPOSITORY = resource_type(KIND)
_DEFAULT_INTERVAL = 60.0
"""Seconds between index fetches when ``spec.interval`` is not set (Flux's ``1m``)."""


@dataclasses.dataclass(kw_only=True, eq=False)
class HelmRepositoryPipeline(_report.ArtifactPipeline):
    """Steps of a ``type: default`` HelmRepository reconcile."""

    kind = KIND
    workdir: Path
    """Scratch space (TLS key files while they are loaded, the index before storing)."""
    max_index_size: int = MAX_INDEX_SIZE
    """The largest index accepted, in bytes (default 50 MiB, as Flux)."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish the repository's current index as the artifact."""
        repo = parse_object(HelmRepository, obj)
        namespace, name = repo.metadata.namespace or "default", repo.metadata.name
        generation = repo.metadata.generation
        url = repo.spec.url
        if url.startswith("oci://"):
            message = (
                "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' "
                "HelmRepository type"
            )
            raise _report.fetch_failed(
                status, message, reason=reasons.URL_INVALID, generation=generation, stall=True
            )
        content = await self._fetch(repo, status)
        revision = f"sha256:{hashlib.sha256(content).hexdigest()}"
        current = status.get("artifact")
        event: tuple[str, str] | None = None
        if current and current.get("revision") == revision and self.storage.exists(current):
            current["url"] = f"{self.storage.base_url}/{current['path']}"
            status["url"] = current["url"]
        else:
            artifact = self._store(namespace, name, content, revision, status, generation)
            size = _human_size(artifact["size"])
            event = (
                reasons.NEW_ARTIFACT,
                f"stored fetched index of size {size} from '{remote.redact(url)}'",
            )
        message = f"stored artifact: revision '{revision}'"
        return _report.stored(
            status,
            failure_types=_report.FAILURE_TYPES,
            message=message,
            generation=generation,
            event=event,
        )

    async def _fetch(self, repo: HelmRepository, status: dict[str, Any]) -> bytes:
        """Download, validate and normalise the index; mark FetchFailed on failure."""
        generation = repo.metadata.generation
        index_url = f"{repo.spec.url.rstrip('/')}/index.yaml"
        try:
            with self.storage.writing("failed to write the repository's TLS files"):
                options = await remote.client_options(self.client, repo, workdir=self.workdir)
            data = await remote.download(
                options, index_url, limit=self.max_index_size, what="index"
            )
            index = await asyncio.to_thread(parse_index, data)
        except remote.FetchError as error:
            reason, message = error.reason, f"failed to fetch Helm repository index: {error}"
        except StorageError as error:
            raise _report.storage_failed(status, error, generation=generation) from error
        except IndexInvalid as error:
            reason = reasons.INDEXATION_FAILED
            message = f"failed to load Helm repository index from '{remote.redact(index_url)}': "
            message += str(error)
        else:
            for skipped in index.skipped:
                log.info("%s %s: skipped index entry %s", KIND, repo.metadata.name, skipped)
            return index.to_bytes()
        raise _report.fetch_failed(status, message, reason=reason, generation=generation)

    def _store(
        self,
        namespace: str,
        name: str,
        content: bytes,
        revision: str,
        status: dict[str, Any],
        generation: int | None,
    ) -> dict[str, Any]:
        try:
            with self.storage.writing(f"failed to store artifact for revision '{revision}'"):
                self.workdir.mkdir(parents=True, exist_ok=True)
                descriptor, scratch = tempfile.mkstemp(dir=self.workdir, prefix="index-")
                try:
                    with os.fdopen(descriptor, "wb") as sink:
                        sink.write(content)
                    artifact = _report.store_artifact(
                        self.storage,
                        KIND,
                        namespace,
                        name,
                        Path(scratch),
                        revision=revision,
                        filename="index-{digest}.yaml",
                    )
                finally:
                    Path(scratch).unlink(missing_ok=True)
        except StorageError as error:
            raise _report.storage_failed(status, error, generation=generation) from error
        status["artifact"] = artifact.to_status()
        status["url"] = artifact.url
        return status["artifact"]


@dataclasses.dataclass(kw_only=True, eq=False)
class HelmRepositoryReconciler:
    """Reconcile HelmRepositories: ``default`` ones through the pipeline, ``oci`` ones static."""

    inner: ObjectReconciler
    """The lifecycle around :class:`HelmRepositoryPipeline`; its client and watch cache serve
    the repositories turned static too."""
    storage: Storage
    """Artifacts of repositories turned static are deleted from it."""

    async def reconcile(self, request: Request) -> Result:
        """Run the pipeline for ``default`` repositories; make ``oci`` ones static."""
        obj = self.inner.cache.get(request.namespace, request.name)
        spec = (obj or {}).get("spec") or {}
        if obj is None or spec.get("type") != "oci":
            result = await self.inner.reconcile(request)
            if not spec.get("interval") and result.requeue_after is not None:
                # The lifecycle falls back to 10m without spec.interval; Flux's HelmRepository
                # default is 1m. Same ±5% jitter as the lifecycle's.
                result = dataclasses.replace(
                    result, requeue_after=_DEFAULT_INTERVAL * random.uniform(0.95, 1.05)
                )
            return result
        await self._make_static(obj)
        return Result()

    async def _make_static(self, obj: dict[str, Any]) -> None:
        """Drop what a ``default`` past left behind: artifacts, status, finalizer."""
        metadata = obj["metadata"]
        deleting = bool(metadata.get("deletionTimestamp"))
        if (obj.get("spec") or {}).get("suspend") and not deleting:
            return
        finalizers = metadata.get("finalizers") or []
        empty = _empty_status(obj.get("status"))
        if FINALIZER not in finalizers and empty:
            return
        self.storage.remove_all(KIND, metadata.get("namespace") or "default", metadata["name"])
        if not empty and not deleting:
            writer = StatusWriter(self.inner.client, HELM_REPOSITORY, obj, field_manager=COMPONENT)
            writer.status.clear()
            await writer.flush()
        if FINALIZER in finalizers:
            patch = {
                "metadata": {
                    "finalizers": [f for f in finalizers if f != FINALIZER],
                    "resourceVersion": metadata["resourceVersion"],
                }
            }
            await self.inner.client.patch_merge(
                HELM_REPOSITORY, metadata["name"], patch, namespace=metadata.get("namespace")
            )


def register(
    manager: Manager,
    storage: Storage,
    workdir: Path,
    *,
    max_index_size: int = MAX_INDEX_SIZE,
) -> Controller:
    """Wire the HelmRepository controller into ``manager``; return it.

    Args:
        manager: the manager that runs it.
        storage: the source controller's artifact storage (``source.setup(...).storage``).
        workdir: scratch space for this controller.
        max_index_size: the largest index accepted, in bytes (default 50 MiB).
    """
    cache = manager.cache_for(HELM_REPOSITORY)
    pipeline = HelmRepositoryPipeline(
        client=manager.client, storage=storage, workdir=workdir, max_index_size=max_index_size
    )
    inner = ObjectReconciler(
        rt=HELM_REPOSITORY,
        client=manager.client,
        cache=cache,
        recorder=manager.recorder(COMPONENT),
        pipeline=pipeline,
    )
    reconciler = HelmRepositoryReconciler(inner=inner, storage=storage)
    controller = Controller("helmrepository", reconciler, workers=manager.options.workers)
    manager.watch(HELM_REPOSITORY, controller)
    manager.add_controller(controller)
    return controller


def _empty_status(status: dict[str, Any] | None) -> bool:
    """Tell whether ``status`` is what a static object carries: nothing but the CRD default.

    The CRD defaults ``observedGeneration`` to -1 whenever a status exists, so a cleared status
    reads back as ``{observedGeneration: -1}`` (Flux's ``hasEmptyHelmRepositoryStatus``).
    """
    rest = {k: v for k, v in (status or {}).items() if k != "observedGeneration"}
    return not rest and (status or {}).get("observedGeneration", -1) == -1


def _human_size(size: int) -> str:
    """Format ``size`` as Docker's ``units.HumanSize`` does (``30.88kB``), as Flux's event."""
    value, units = float(size), ["B", "kB", "MB", "GB"]
    while value >= 1000 and len(units) > 1:
        value, units = value / 1000, units[1:]
    return f"{value:.4g}{units[0]}"
