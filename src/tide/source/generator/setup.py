"""Wire the ArtifactGenerator controller into a manager: its kind, its sources, its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tide.api.kinds import SOURCE_WATCHER
from tide.artifacts import Storage
from tide.kube.cache import object_key
from tide.kube.resources import resource_type
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request
from tide.source.generator.external import (
    ARTIFACT_GENERATOR,
    EXTERNAL_ARTIFACT,
    ExternalArtifacts,
)
from tide.source.generator.reconciler import ArtifactGeneratorPipeline

__all__ = ["COMPONENT", "SOURCE_KINDS", "register"]

COMPONENT = SOURCE_WATCHER
"""Name in events, ``managedFields`` and ``app.kubernetes.io/managed-by``, as Flux's controller."""
SOURCE_KINDS = (
    *(resource_type(kind) for kind in ("GitRepository", "OCIRepository", "Bucket", "HelmChart")),
    EXTERNAL_ARTIFACT,
)
"""Kinds a generator's ``spec.sources`` may name."""


def register(
    manager: Manager,
    storage: Storage,
    workdir: Path,
    *,
    allow_cross_namespace: bool = True,
    retry_after: float = 5.0,
) -> Controller:
    """Run the ArtifactGenerator controller in ``manager``; return it.

    It watches every source kind and reconciles the generators naming a source whose artifact
    changed, and the generator of an ExternalArtifact someone deleted.

    Args:
        manager: the manager that runs it.
        storage: the source controller's artifact storage (generated artifacts live beside
            the others, ``externalartifact/<namespace>/<name>/``, served by the same server).
        workdir: scratch space for downloads and staging.
        allow_cross_namespace: let generators read sources in other namespaces (default True,
            as Flux; False is Flux's ``--no-cross-namespace-refs``).
        retry_after: seconds before a generator waiting on a source looks again (default 5).
    """
    caches = {rt.kind: manager.cache_for(rt) for rt in SOURCE_KINDS}
    recorder = manager.recorder(COMPONENT)
    externals = ExternalArtifacts(
        client=manager.client,
        cache=caches[EXTERNAL_ARTIFACT.kind],
        storage=storage,
        component=COMPONENT,
    )
    pipeline = ArtifactGeneratorPipeline(
        sources=caches,
        externals=externals,
        storage=storage,
        recorder=recorder,
        workdir=workdir,
        allow_cross_namespace=allow_cross_namespace,
        retry_after=retry_after,
    )
    controller = manager.add_object_controller(
        ARTIFACT_GENERATOR, pipeline, sources=caches, refers=_reads
    )
    caches[EXTERNAL_ARTIFACT.kind].add_handler(_on_output_deleted(controller))
    return controller


def _reads(kind: str) -> Any:
    """Tell whether a generator's ``spec.sources`` name a ``kind`` source."""

    def refers(generator: dict[str, Any], source: dict[str, Any]) -> bool:
        namespace, name = object_key(source)
        own = generator["metadata"].get("namespace") or ""
        return any(
            ref.get("kind") == kind
            and ref.get("name") == name
            and (ref.get("namespace") or own) == namespace
            for ref in (generator.get("spec") or {}).get("sources") or []
        )

    return refers


def _on_output_deleted(controller: Controller) -> Any:
    """Reconcile the generator of an ExternalArtifact that was deleted, so it is put back."""

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is not None or old is None:
            return
        ref = (old.get("spec") or {}).get("sourceRef") or {}
        if ref.get("kind") == ARTIFACT_GENERATOR.kind and ref.get("name"):
            namespace = ref.get("namespace") or old["metadata"].get("namespace") or ""
            controller.enqueue(Request(namespace, ref["name"]))

    return handle
