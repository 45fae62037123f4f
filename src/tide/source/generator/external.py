"""Publish one generated artifact as an ExternalArtifact, or delete one that is no longer wanted.

An artifact is published only when it differs from what its ExternalArtifact already
carries: the same digest, revision and metadata keys mean the object, its status and its
stored file are left exactly as they are (no write, no new ``lastUpdateTime``), so the
Kustomizations consuming it see nothing happen.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import conditions, reasons
from tide.api.generator import ExternalArtifact
from tide.api.keys import GENERATOR_LABEL, MANAGED_BY_LABEL
from tide.artifacts import IgnoreRules, Storage, build_archive, sha256_file
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type
from tide.source._report import store_artifact

__all__ = [
    "ARTIFACT_GENERATOR",
    "EXTERNAL_ARTIFACT",
    "ExternalArtifacts",
    "OwnershipError",
    "Published",
    "archive",
    "owner_reference",
]

EXTERNAL_ARTIFACT = resource_type("ExternalArtifact")
ARTIFACT_GENERATOR = resource_type("ArtifactGenerator")
_READY_MESSAGE = "Artifact is ready"
"""Message of a generated ExternalArtifact's Ready condition, as Flux writes it."""


class OwnershipError(Exception):
    """An ExternalArtifact of that name exists and another producer writes it."""


@dataclass(frozen=True)
class Published:
    """What publishing one artifact did."""

    reference: dict[str, str]
    """The inventory entry (name, namespace, digest, filename)."""
    revision: str
    changed: bool
    """Whether a new artifact was stored and its status written."""


async def archive(staging: Path, destination: Path) -> str:
    """Pack ``staging`` reproducibly into ``destination``; return its ``sha256:`` digest."""

    def pack() -> str:
        build_archive(staging, destination, IgnoreRules(()))
        return sha256_file(destination)

    return await asyncio.to_thread(pack)


def owner_reference(generator: dict[str, Any]) -> dict[str, Any]:
    """Return the reference naming ``generator`` as an ExternalArtifact's source."""
    metadata = generator["metadata"]
    return {
        "apiVersion": ARTIFACT_GENERATOR.api_version,
        "kind": ARTIFACT_GENERATOR.kind,
        "name": metadata["name"],
        "namespace": metadata.get("namespace") or "default",
    }


class ExternalArtifacts:
    """Writes the ExternalArtifacts of generators (objects, status, stored files).

    Args:
        client: writes the objects and their status.
        cache: the ExternalArtifact watch cache, read for what each object carries now.
        storage: the source controller's storage, shared with every other source kind.
        component: field manager and ``app.kubernetes.io/managed-by`` value.
    """

    def __init__(
        self, *, client: KubeClient, cache: WatchCache, storage: Storage, component: str
    ) -> None:
        self._client = client
        self._cache = cache
        self._storage = storage
        self._component = component

    def owned_by(self, generator: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the ExternalArtifacts ``generator`` wrote: in its namespace, marked as ours.

        A generator only ever writes into its own namespace, so an object elsewhere is never
        its own, whatever its ``sourceRef`` claims: otherwise a tenant could name another
        tenant's generator there and have that generator delete the other tenant's artifact of
        the same name. The ``managed-by`` label keeps objects other producers wrote out too.
        """
        wanted = owner_reference(generator)
        return [
            dict(obj)
            for obj in self._cache.scan()
            if obj["metadata"].get("namespace") == wanted["namespace"] and self._ours(obj, wanted)
        ]

    def _ours(self, obj: dict[str, Any], source_ref: dict[str, Any]) -> bool:
        labels = obj["metadata"].get("labels") or {}
        theirs = (obj.get("spec") or {}).get("sourceRef") or {}
        return (
            labels.get(MANAGED_BY_LABEL) == self._component
            and theirs.get("kind") == source_ref["kind"]
            and theirs.get("name") == source_ref["name"]
            and (theirs.get("namespace") or obj["metadata"].get("namespace"))
            == source_ref["namespace"]
        )

    async def publish(
        self,
        generator: dict[str, Any],
        name: str,
        archive_path: Path,
        digest: str,
        *,
        revision: str,
        metadata: dict[str, str],
    ) -> Published:
        """Make ExternalArtifact ``name`` carry the artifact in ``archive_path``.

        Raises:
            OwnershipError: an ExternalArtifact of that name is written by another producer.
            StorageError: the artifact could not be stored (read-only, full, denied).
            KubeError: the object or its status could not be written.
        """
        namespace = generator["metadata"].get("namespace") or "default"
        current = self._cache.get(namespace, name)
        source_ref = owner_reference(generator)
        if current is not None and not self._ours(current, source_ref):
            # Someone else's (another producer's, or one made by hand): never taken over.
            theirs = (current.get("spec") or {}).get("sourceRef") or {}
            producer = (
                f"{theirs.get('kind')} '{theirs.get('namespace') or namespace}/"
                f"{theirs.get('name')}'"
                if theirs
                else "another producer"
            )
            raise OwnershipError(
                f"ExternalArtifact '{namespace}/{name}' already exists and is produced by "
                f"{producer}"
            )
        stored = ((current or {}).get("status") or {}).get("artifact") or {}
        manifest = self._manifest(generator, name, namespace, source_ref)
        if current is not None and self._same(stored, digest, revision, metadata):
            if _labels(current) != _labels(manifest):  # a recreated generator (new UID)
                await self._client.apply(EXTERNAL_ARTIFACT, manifest)
            return Published(self._reference(namespace, name, stored), revision, changed=False)
        artifact = store_artifact(
            self._storage,
            ExternalArtifact.KIND,
            namespace,
            name,
            archive_path,
            revision=revision,
            metadata=metadata,
        )
        written = await self._client.apply(EXTERNAL_ARTIFACT, manifest)
        status = copy.deepcopy((current or {}).get("status") or {})
        status["artifact"] = artifact.to_status()
        conditions.mark_true(
            status,
            reasons.READY,
            reason=reasons.SUCCEEDED,
            message=_READY_MESSAGE,
            generation=written["metadata"].get("generation"),
        )
        await self._client.apply_status(
            EXTERNAL_ARTIFACT,
            {"metadata": written["metadata"], "status": status},
            field_manager=self._component,
        )
        return Published(
            self._reference(namespace, name, status["artifact"]), revision, changed=True
        )

    async def delete(self, namespace: str, name: str) -> None:
        """Delete ExternalArtifact ``name`` and its stored files (absent ones are fine)."""
        await self._client.delete(EXTERNAL_ARTIFACT, name, namespace=namespace)
        self._storage.remove_all(ExternalArtifact.KIND, namespace, name)

    def _same(
        self, stored: dict[str, Any], digest: str, revision: str, metadata: dict[str, str]
    ) -> bool:
        return (
            stored.get("digest") == digest
            and stored.get("revision") == revision
            and set(stored.get("metadata") or {}) == set(metadata)
            and self._storage.exists(stored)
        )

    def _manifest(
        self, generator: dict[str, Any], name: str, namespace: str, source_ref: dict[str, Any]
    ) -> dict[str, Any]:
        metadata = generator["metadata"]
        return {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    MANAGED_BY_LABEL: self._component,
                    GENERATOR_LABEL: metadata.get("uid", ""),
                },
                # Garbage collection deletes it with its generator even if our finalizer is
                # removed by hand; the finalizer still cleans up the stored files.
                "ownerReferences": [
                    {
                        "apiVersion": ARTIFACT_GENERATOR.api_version,
                        "kind": ARTIFACT_GENERATOR.kind,
                        "name": metadata["name"],
                        "uid": metadata.get("uid", ""),
                        "controller": True,
                    }
                ],
            },
            "spec": {"sourceRef": source_ref},
        }

    @staticmethod
    def _reference(namespace: str, name: str, artifact: dict[str, Any]) -> dict[str, str]:
        return {
            "name": name,
            "namespace": namespace,
            "digest": artifact.get("digest", ""),
            "filename": Path(artifact.get("path", "")).name,
        }


def _labels(obj: dict[str, Any]) -> tuple[Any, ...]:
    """What ties an ExternalArtifact to one generator: its labels and owner references."""
    metadata = obj.get("metadata") or {}
    owners = [(o.get("kind"), o.get("uid")) for o in metadata.get("ownerReferences") or []]
    labels = metadata.get("labels") or {}
    return labels.get(GENERATOR_LABEL), labels.get(MANAGED_BY_LABEL), owners
