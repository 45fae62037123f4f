"""Delete the objects an inventory names, unless they opted out or now belong to someone else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from tide.kube.discovery import UnknownKind
from tide.kube.errors import KubeError
from tide.kube.ssa.apply import CLUSTER_DEFINITIONS
from tide.kube.ssa.changeset import Action, ChangeSet, ChangeSetEntry, ObjectRef

if TYPE_CHECKING:
    from tide.kube.ssa.manager import ResourceManager

__all__ = ["delete_all", "deletion_order", "wait_deleted"]


def deletion_order(refs: Sequence[ObjectRef]) -> list[ObjectRef]:
    """Return refs in reverse staging order: custom resources before CRDs, Namespaces last."""

    def stage(ref: ObjectRef) -> int:
        if ref.kind in CLUSTER_DEFINITIONS:
            return 2
        return 1 if ref.kind.endswith("Class") else 0

    return sorted(refs, key=stage)


async def delete_all(
    manager: ResourceManager,
    entries: Sequence[Mapping[str, str]],
) -> ChangeSet:
    """Delete every inventory entry; see :meth:`ResourceManager.delete_all`."""
    versions = {entry["id"]: entry.get("v", "") for entry in entries}
    result = ChangeSet()
    for ref in deletion_order([ObjectRef.parse(entry["id"]) for entry in entries]):
        version = versions[ref.id]

        def outcome(action: Action, message: str = "", *, ref: ObjectRef = ref) -> ChangeSetEntry:
            return ChangeSetEntry(ref.id, ref.subject, action, versions[ref.id], message)

        api_version = f"{ref.group}/{version}" if ref.group else version
        try:
            rt = await manager.mapper.resource_type(api_version, ref.kind)
            namespace = ref.namespace or None
            live = await manager.client.get_or_none(rt, ref.name, namespace=namespace)
            if live is None:
                continue
            metadata = live.get("metadata") or {}
            key = manager.options.prune_annotation
            if key is not None and (metadata.get("annotations") or {}).get(key) == "disabled":
                result.add(outcome(Action.SKIPPED, f"{key}: disabled"))
                continue
            labels = metadata.get("labels") or {}
            if any(labels.get(k) != v for k, v in manager.owner_labels.items()):
                result.add(outcome(Action.SKIPPED, "owner labels do not match; not ours to delete"))
                continue
            await manager.client.delete(rt, ref.name, namespace=namespace)
        except UnknownKind:
            continue  # its CRD is gone, and with it every object of the kind
        except KubeError as error:
            result.add(outcome(Action.FAILED, f"{type(error).__name__}: {error}"))
            continue
        result.add(outcome(Action.DELETED))
    return result


async def wait_deleted(
    manager: ResourceManager, deleted: ChangeSet, *, timeout: float, interval: float = 0.5
) -> list[str]:
    """Wait until the objects ``deleted`` says were deleted are gone (their finalizers done).

    Returns the subjects still present when ``timeout`` passed; an empty list means all gone.
    """
    deadline = time.monotonic() + timeout
    pending = [entry for entry in deleted.entries if entry.action is Action.DELETED]
    while pending:
        still = []
        for entry in pending:
            ref = ObjectRef.parse(entry.id)
            api_version = f"{ref.group}/{entry.version}" if ref.group else entry.version
            try:
                rt = await manager.mapper.resource_type(api_version, ref.kind)
                namespace = ref.namespace or None
                live = await manager.client.get_or_none(rt, ref.name, namespace=namespace)
            except UnknownKind:
                continue
            except KubeError:
                live = {}  # unknown: look again
            if live is not None:
                still.append(entry)
        pending = still
        if not pending or time.monotonic() >= deadline:
            break
        await asyncio.sleep(interval)
    return [entry.subject for entry in pending]
