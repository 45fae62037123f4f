"""Apply a set of manifests with server-side apply, in Flux's stages, writing only what changed.

Per object: resolve its kind (discovery), add the owner labels, dry-run apply, compare with the
live object (:mod:`tide.kube.ssa.diff`); only a ``created`` or ``configured`` object is applied for
real. Field ownership is always forced (Flux's ``ForceOwnership``), so ``kubectl edit`` drift is
put back; ``force`` means what it means in Flux: recreate an object whose immutable fields changed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tide.kube.discovery import UnknownKind
from tide.kube.errors import KubeError, KubeInvalid
from tide.kube.resources import ResourceType
from tide.kube.ssa import diff
from tide.kube.ssa.changeset import Action, ChangeSet, ChangeSetEntry, ObjectRef
from tide.kube.ssa.options import ManagerOptions
from tide.kube.ssa.wait import readiness

if TYPE_CHECKING:
    from tide.kube.ssa.manager import ResourceManager

__all__ = [
    "CLUSTER_DEFINITIONS",
    "apply_all",
    "stages",
]

log = logging.getLogger(__name__)

CLUSTER_DEFINITIONS = frozenset({"CustomResourceDefinition", "Namespace", "ClusterRole"})
"""Kinds Flux applies first, because the rest may live in them or be of their kinds."""

_APPLY_CONCURRENCY = 8
"""Requests in flight at once while applying one stage of one owner's objects."""
_ESTABLISH_TIMEOUT = 30.0
"""Seconds to wait for applied CRDs to be Established before applying their custom resources."""


def stages(objects: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Split manifests into Flux's stages, keeping their order within each.

    Cluster definitions (CRDs, Namespaces, ClusterRoles), then ``*Class`` kinds (StorageClass,
    IngressClass…, which the rest refer to), then everything else.
    """
    definitions, classes, rest = [], [], []
    for obj in objects:
        kind = obj.get("kind", "")
        if kind in CLUSTER_DEFINITIONS:
            definitions.append(obj)
        elif kind.endswith("Class"):
            classes.append(obj)
        else:
            rest.append(obj)
    return [definitions, classes, rest]


def _annotation(obj: Mapping[str, Any], key: str | None) -> str:
    """Return the value of annotation ``key`` ('' when absent or when ``key`` is None)."""
    if key is None:
        return ""
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(key, ""))


def _skipped(options: ManagerOptions, manifest: Mapping[str, Any]) -> str:
    """Why the object's annotations keep it from being applied at all ('' when they do not)."""
    if _annotation(manifest, options.reconcile_annotation) == "disabled":
        return "reconcile disabled by annotation"
    if _annotation(manifest, options.ssa_annotation) == "Ignore":
        return "ssa: Ignore"
    return ""


def _forced(options: ManagerOptions, manifest: Mapping[str, Any], *, force: bool) -> bool:
    """Whether the object is recreated when its immutable fields change."""
    return force or _annotation(manifest, options.force_annotation) == "enabled"


def _if_not_present(options: ManagerOptions, manifest: Mapping[str, Any]) -> bool:
    """Whether the object is only created, never updated."""
    return _annotation(manifest, options.ssa_annotation) == "IfNotPresent"


def _is_immutable_error(error: KubeError) -> bool:
    text = str(error)
    return isinstance(error, KubeInvalid) and (
        "field is immutable" in text or "cannot change" in text or "Forbidden: updates to" in text
    )


async def apply_all(
    manager: ResourceManager,
    objects: Sequence[Mapping[str, Any]],
    *,
    force: bool = False,
    all_or_nothing: bool = False,
) -> ChangeSet:
    """Apply every object in stages; see :meth:`ResourceManager.apply_all`."""
    result = ChangeSet()
    for stage in stages(objects):
        if all_or_nothing and (refused := await _refused(manager, stage, force=force)):
            # Nothing of this stage (nor of later ones) is written when one object is refused.
            for entry in refused:
                result.add(entry)
            return result
        entries = await _apply_together(manager, stage, force=force)
        applied_crds: list[dict[str, Any]] = []
        for obj, entry in zip(stage, entries, strict=True):
            result.add(entry)
            if obj.get("kind") == "CustomResourceDefinition" and entry.action != Action.FAILED:
                applied_crds.append(dict(obj))
        if applied_crds:
            await _wait_established(manager, applied_crds)
    return result


async def _refused(
    manager: ResourceManager, stage: Sequence[Mapping[str, Any]], *, force: bool
) -> list[ChangeSetEntry]:
    """Dry-run every object of a stage; return an entry per object the API server refuses.

    An immutable-field refusal does not count when the object would be recreated (``force``).
    """

    async def check(manifest: Mapping[str, Any]) -> ChangeSetEntry | None:
        if _skipped(manager.options, manifest):
            return None
        ref = ObjectRef.of(manifest)
        version = manifest.get("apiVersion", "").rpartition("/")[2]
        try:
            rt = await manager.mapper.for_object(dict(manifest))
            if _if_not_present(manager.options, manifest):
                namespace = _namespace(manifest) if rt.namespaced else None
                if await manager.client.get_or_none(rt, ref.name, namespace=namespace):
                    return None  # it exists, so the apply will leave it alone
            await manager.client.apply(
                rt, _prepared(manager, manifest, rt), force=True, dry_run=True
            )
        except UnknownKind as error:
            return ChangeSetEntry(ref.id, ref.subject, Action.FAILED, version, str(error))
        except KubeError as error:
            if _forced(manager.options, manifest, force=force) and _is_immutable_error(error):
                return None
            message = f"{type(error).__name__}: {error}"
            return ChangeSetEntry(ref.id, ref.subject, Action.FAILED, version, message)
        return None

    limit = asyncio.Semaphore(_APPLY_CONCURRENCY)

    async def bounded(manifest: Mapping[str, Any]) -> ChangeSetEntry | None:
        async with limit:
            return await check(manifest)

    verdicts = await asyncio.gather(*(bounded(obj) for obj in stage))
    return [verdict for verdict in verdicts if verdict is not None]


async def _apply_together(
    manager: ResourceManager, stage: Sequence[Mapping[str, Any]], *, force: bool
) -> list[ChangeSetEntry]:
    """Apply one stage's objects a few at a time; they do not depend on each other.

    This is where a large Kustomization's time goes: one object at a time leaves the API
    server idle between round trips.
    """
    limit = asyncio.Semaphore(_APPLY_CONCURRENCY)

    async def bounded(obj: Mapping[str, Any]) -> ChangeSetEntry:
        async with limit:
            try:
                return await _apply_one(manager, obj, force=force)
            except Exception as error:  # one object's surprise must not leave the others running
                ref = ObjectRef.of(obj)
                log.exception("applying %s failed unexpectedly", ref.subject)
                version = obj.get("apiVersion", "").rpartition("/")[2]
                message = f"{type(error).__name__}: {error}"
                return ChangeSetEntry(ref.id, ref.subject, Action.FAILED, version, message)

    return list(await asyncio.gather(*(bounded(obj) for obj in stage)))


async def _apply_one(
    manager: ResourceManager, manifest: Mapping[str, Any], *, force: bool
) -> ChangeSetEntry:
    ref = ObjectRef.of(manifest)
    version = manifest.get("apiVersion", "").rpartition("/")[2]

    def entry(
        action: Action, message: str = "", stored: dict[str, Any] | None = None
    ) -> ChangeSetEntry:
        return ChangeSetEntry(ref.id, ref.subject, action, version, message, stored)

    if skipped := _skipped(manager.options, manifest):
        return entry(Action.SKIPPED, skipped)
    try:
        rt = await manager.mapper.for_object(dict(manifest))
        obj = _prepared(manager, manifest, rt)
        namespace = obj["metadata"].get("namespace")
        live = await manager.client.get_or_none(rt, obj["metadata"]["name"], namespace=namespace)
        if live is not None and _if_not_present(manager.options, manifest):
            return entry(Action.SKIPPED, "ssa: IfNotPresent and the object exists", live)
        forced = _forced(manager.options, manifest, force=force)
        action, stored = await _apply_if_changed(manager, rt, obj, live, force=forced)
    except UnknownKind as error:
        return entry(Action.FAILED, str(error))
    except KubeError as error:
        return entry(Action.FAILED, f"{type(error).__name__}: {error}")
    return entry(action, stored=stored)


def _prepared(
    manager: ResourceManager, manifest: Mapping[str, Any], rt: ResourceType
) -> dict[str, Any]:
    """Return the manifest with owner labels, scoped as its kind is; refuse a missing namespace."""
    obj = copy.deepcopy(dict(manifest))
    metadata = obj.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **manager.owner_labels}
    if not rt.namespaced:
        metadata.pop("namespace", None)
    elif not metadata.get("namespace"):
        raise KubeInvalid(f"{rt.kind} is namespaced but metadata.namespace is not set")
    return obj


async def _apply_if_changed(
    manager: ResourceManager,
    rt: ResourceType,
    obj: dict[str, Any],
    live: dict[str, Any] | None,
    *,
    force: bool,
) -> tuple[Action, dict[str, Any] | None]:
    """Apply ``obj`` if it would change ``live``; return what happened and the stored object."""
    client = manager.client
    if live is None:
        # Nothing to compare with: a dry run would only double the requests of a first apply.
        return Action.CREATED, await client.apply(rt, obj, force=True)
    try:
        dry_run = await client.apply(rt, obj, force=True, dry_run=True)
    except KubeError as error:
        if not (force and _is_immutable_error(error)):
            raise
        return Action.CREATED, await _recreate(manager, rt, obj)
    if diff.has_drifted(live, dry_run) and _version(live) != _version(dry_run):
        # Another writer (a controller filling in its annotations) got in between our read and
        # the dry run, which is based on the newer object: compare with that one.
        live = await client.get_or_none(rt, obj["metadata"]["name"], namespace=_namespace(obj))
    if not diff.has_drifted(live, dry_run):
        return Action.UNCHANGED, live
    stored = await client.apply(rt, obj, force=True)
    return (Action.CREATED if live is None else Action.CONFIGURED), stored


def _version(obj: Mapping[str, Any] | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


def _namespace(obj: Mapping[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("namespace")


async def _recreate(
    manager: ResourceManager, rt: ResourceType, obj: dict[str, Any]
) -> dict[str, Any]:
    """Delete and apply again: the only way to change an immutable field (Flux's ``force``)."""
    name, namespace = obj["metadata"]["name"], obj["metadata"].get("namespace")
    await manager.client.delete(rt, name, namespace=namespace)
    deadline = time.monotonic() + _ESTABLISH_TIMEOUT
    while await manager.client.get_or_none(rt, name, namespace=namespace) is not None:
        if time.monotonic() >= deadline:
            raise KubeError(f"{rt.kind}/{name} was not deleted in time to be recreated")
        await asyncio.sleep(0.2)
    return await manager.client.apply(rt, obj, force=True)


async def _wait_established(manager: ResourceManager, crds: list[dict[str, Any]]) -> None:
    """Wait (bounded) for CRDs to be served, so custom resources in later stages resolve.

    A CRD that never becomes Established is not an error here: its custom resources fail on
    their own with ``UnknownKind``, which names them.
    """
    deadline = time.monotonic() + _ESTABLISH_TIMEOUT
    rt = await manager.mapper.resource_type("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    pending = [crd["metadata"]["name"] for crd in crds]
    while pending and time.monotonic() < deadline:
        still = []
        for name in pending:
            live = await manager.client.get_or_none(rt, name)
            if live is None or not readiness(live).ready:
                still.append(name)
        pending = still
        if pending:
            await asyncio.sleep(0.1)
