"""An in-memory stand-in for :class:`~tide.kube.client.KubeClient`, for fast unit tests.

Like controller-runtime's fake client, :class:`FakeKubeClient` keeps objects in a dictionary and
answers the client's reads and writes the way an API server would in the cases reconcilers meet:
``resourceVersion`` moves on every change (and only on a change, so a no-op apply is visible as
one), ``metadata.generation`` moves when anything outside ``metadata`` and ``status`` changes,
deletion waits for finalizers, and a merge patch carrying ``metadata.resourceVersion`` fails
with :class:`~tide.kube.errors.KubeConflict` when it is stale. ``list`` and ``watch`` serve the
real :class:`~tide.kube.cache.WatchCache`, so a reconciler under test reads through the same
cache as in production; :meth:`FakeKubeClient.settle` waits until every open watch has handed
over every change.

What it does not emulate (use :class:`~tide.testing.ControlPlane` when a test depends on it):

- Field ownership. ``apply`` merges maps and replaces lists; it neither removes fields a manager
  stopped sending nor reports conflicts. ``apply_status`` replaces the whole status, which is what
  server-side apply does when one manager owns the status (each Tide controller owns its kind's).
- Validation, defaulting, admission, RBAC, impersonation (``impersonating`` returns this client),
  label selectors other than equality, field selectors, ``dryRun`` (it writes nothing and
  returns the merged object), and watch expiry (``KubeGone`` is never raised).
- Raw API paths (``get_json``) and discovery: there are no CRDs or kinds to discover.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import itertools
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Unpack

from tide.api import selectors
from tide.kube.client import KubeClient
from tide.kube.errors import KubeConflict, KubeError, KubeNotFound
from tide.kube.resources import ResourceType
from tide.kube.scope import ListScope, WatchScope

__all__ = ["FakeKubeClient"]

_Key = tuple[str, str, str, str]
"""(group, kind, namespace, name) of one stored object."""


@dataclass
class _Change:
    version: int
    event: str
    rt: ResourceType
    obj: dict[str, Any]


@dataclass
class _Watcher:
    position: int
    idle: bool = False
    """True while the watch waits for a change, having handed over every one before it."""
    woken: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Store:
    objects: dict[_Key, dict[str, Any]] = field(default_factory=dict)
    log: list[_Change] = field(default_factory=list)
    version: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    latest: int = 0
    watchers: list[_Watcher] = field(default_factory=list)


class FakeKubeClient(KubeClient):
    """A :class:`KubeClient` whose API server is a dictionary in this process.

    Args:
        field_manager: recorded as the client's name, as the real client does (ownership itself
            is not tracked).
    """

    def __init__(self, *, field_manager: str = "tide") -> None:  # no connection to set up
        self.field_manager = field_manager
        self.writes: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._store = _Store()

    # -- what tests use besides the client's own methods -------------------------------------
    def objects(self, rt: ResourceType, *, namespace: str | None = None) -> list[dict[str, Any]]:
        """Return copies of the stored objects of ``rt`` (in ``namespace``), without a request."""
        return [
            copy.deepcopy(obj)
            for (group, kind, where, _), obj in self._store.objects.items()
            if (group, kind) == (rt.group, rt.kind) and namespace in (None, where)
        ]

    async def settle(self) -> None:
        """Wait until every open watch has delivered every change and waits for the next."""
        while not all(w.idle and w.position == self._store.latest for w in self._store.watchers):
            await asyncio.sleep(0)

    def impersonating(self, user: str) -> KubeClient:
        """Return this client: the fake has no RBAC, so every identity may do everything."""
        return self

    async def close(self) -> None:
        """Nothing to close."""

    # -- reads --------------------------------------------------------------------------------
    async def get(self, rt: ResourceType, name: str, *, namespace: str | None = None) -> dict:
        found = self._store.objects.get(_key(rt, namespace, name))
        if found is None:
            raise KubeNotFound(f'{rt.plural} "{name}" not found', status=404, reason="NotFound")
        return copy.deepcopy(found)

    async def list(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        selector: tuple[selectors.Requirement, ...] = (),
        fields: Mapping[str, str] | None = None,
    ) -> tuple[list[dict], str]:
        items = [
            obj
            for obj in self.objects(rt, namespace=namespace)
            if _matches(obj, labels, selector) and _fields_match(obj, fields)
        ]
        return items, str(self._store.latest)

    async def watch(
        self,
        rt: ResourceType,
        *,
        resource_version: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        selector: tuple[selectors.Requirement, ...] = (),
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        store = self._store
        watcher = _Watcher(position=int(resource_version or 0))
        store.watchers.append(watcher)
        try:
            while True:
                pending = [c for c in store.log if c.version > watcher.position]
                if not pending:
                    watcher.idle = True
                    watcher.woken.clear()  # no await since the look: no change slips between
                    await watcher.woken.wait()
                    continue
                for change in pending:
                    watcher.position = change.version
                    where = change.obj["metadata"].get("namespace") or ""
                    same_kind = (change.rt.group, change.rt.kind) == (rt.group, rt.kind)
                    if (
                        same_kind
                        and namespace in (None, where)
                        and _matches(change.obj, labels, selector)
                    ):
                        yield change.event, copy.deepcopy(change.obj)
        finally:
            store.watchers.remove(watcher)

    async def list_metadata(
        self, rt: ResourceType, **scope: Unpack[ListScope]
    ) -> tuple[list[dict], str]:
        items, version = await self.list(rt, **scope)
        return [_metadata_of(obj) for obj in items], version

    async def watch_metadata(
        self, rt: ResourceType, **scope: Unpack[WatchScope]
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        async for event, obj in self.watch(rt, **scope):
            yield event, _metadata_of(obj)

    # -- writes -------------------------------------------------------------------------------
    async def create(self, rt: ResourceType, obj: Mapping[str, Any]) -> dict:
        body = self._typed(rt, obj)
        metadata = body["metadata"]
        key = _key(rt, metadata.get("namespace"), metadata["name"])
        if key in self._store.objects:
            raise KubeConflict(
                f'{rt.plural} "{metadata["name"]}" already exists',
                status=409,
                reason="AlreadyExists",
            )
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("creationTimestamp", _now())
        metadata["generation"] = 1
        self._count("create", rt, body)
        return self._store_change(rt, key, body, "ADDED")

    async def replace(self, rt: ResourceType, obj: Mapping[str, Any]) -> dict:
        body = self._typed(rt, obj)
        current = await self.get(rt, body["metadata"]["name"], namespace=_ns(rt, body))
        _check_version(body, current)
        body["metadata"] = {**current["metadata"], **body["metadata"]}
        body["status"] = current.get("status", body.get("status"))
        self._count("replace", rt, body)
        return self._update(rt, current, body)

    async def apply(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        force: bool = True,
        dry_run: bool = False,
    ) -> dict:
        body = self._typed(rt, obj)
        current = self._store.objects.get(_key(rt, _ns(rt, body), body["metadata"]["name"]))
        if current is None:
            if dry_run:
                return body
            return await self.create(rt, body)  # counted as the create it is
        merged = _merge(copy.deepcopy(current), body)
        if dry_run:
            return merged
        self._count("apply", rt, body)
        return self._update(rt, current, merged)

    async def apply_status(
        self, rt: ResourceType, obj: Mapping[str, Any], *, field_manager: str | None = None
    ) -> dict:
        metadata = obj["metadata"]
        current = await self.get(rt, metadata["name"], namespace=metadata.get("namespace"))
        updated = copy.deepcopy(current)
        updated["status"] = copy.deepcopy(obj.get("status") or {})
        self._count("apply-status", rt, current)
        return self._update(rt, current, updated)

    async def patch_merge(
        self,
        rt: ResourceType,
        name: str,
        patch: Mapping[str, Any],
        *,
        namespace: str | None = None,
    ) -> dict:
        current = await self.get(rt, name, namespace=namespace)
        _check_version(patch, current)
        patched = _merge_patch(copy.deepcopy(current), copy.deepcopy(dict(patch)))
        patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        self._count("patch", rt, current)
        return self._update(rt, current, patched)

    async def delete(self, rt: ResourceType, name: str, *, namespace: str | None = None) -> None:
        current = self._store.objects.get(_key(rt, namespace, name))
        if current is None:
            return
        self._count("delete", rt, current)
        if current["metadata"].get("finalizers"):
            if not current["metadata"].get("deletionTimestamp"):
                terminating = copy.deepcopy(current)
                terminating["metadata"]["deletionTimestamp"] = _now()
                self._update(rt, current, terminating)
            return
        self._remove(rt, current)

    async def get_json(self, path: str) -> dict[str, Any]:
        raise KubeError(f"FakeKubeClient serves no raw paths ({path})", status=404)

    # -- the store ----------------------------------------------------------------------------
    def _typed(self, rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(dict(obj))
        body["apiVersion"], body["kind"] = rt.api_version, rt.kind
        body["metadata"] = dict(body.get("metadata") or {})
        if rt.namespaced:
            body["metadata"]["namespace"] = body["metadata"].get("namespace") or "default"
        return body

    def _count(self, verb: str, rt: ResourceType, obj: Mapping[str, Any]) -> None:
        self.writes[(verb, rt.kind, obj["metadata"].get("namespace") or "")] += 1

    def _update(self, rt: ResourceType, current: dict[str, Any], new: dict[str, Any]) -> dict:
        """Store ``new`` in place of ``current``: a change only if something differs."""
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        new["metadata"]["generation"] = current["metadata"].get("generation", 1)
        if new == current:
            return copy.deepcopy(current)  # as the API server: a no-op write keeps the version
        if _spec_of(new) != _spec_of(current):
            new["metadata"]["generation"] += 1
        metadata = new["metadata"]
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            self._remove(rt, new)
            return copy.deepcopy(new)
        key = _key(rt, metadata.get("namespace"), metadata["name"])
        return self._store_change(rt, key, new, "MODIFIED")

    def _store_change(
        self, rt: ResourceType, key: _Key, obj: dict[str, Any], event: str
    ) -> dict[str, Any]:
        version = next(self._store.version)
        obj["metadata"]["resourceVersion"] = str(version)
        self._store.objects[key] = obj
        self._publish(version, event, rt, obj)
        return copy.deepcopy(obj)

    def _remove(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        metadata = obj["metadata"]
        self._store.objects.pop(_key(rt, metadata.get("namespace"), metadata["name"]), None)
        version = next(self._store.version)
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(version)
        self._publish(version, "DELETED", rt, gone)

    def _publish(self, version: int, event: str, rt: ResourceType, obj: dict[str, Any]) -> None:
        store = self._store
        store.log.append(_Change(version, event, rt, copy.deepcopy(obj)))
        store.latest = version
        for watcher in store.watchers:
            watcher.idle = False
            watcher.woken.set()


def _metadata_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a metadata-only list or watch carries of ``obj`` (PartialObjectMetadata)."""
    return {"metadata": copy.deepcopy(dict(obj["metadata"]))}


def _key(rt: ResourceType, namespace: str | None, name: str) -> _Key:
    return rt.group, rt.kind, (namespace or "default") if rt.namespaced else "", name


def _ns(rt: ResourceType, obj: Mapping[str, Any]) -> str | None:
    return obj["metadata"].get("namespace") if rt.namespaced else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Everything that counts for ``generation``: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _matches(
    obj: Mapping[str, Any],
    labels: Mapping[str, str] | None,
    selector: tuple[selectors.Requirement, ...] = (),
) -> bool:
    present = obj["metadata"].get("labels") or {}
    wanted = all(present.get(k) == v for k, v in (labels or {}).items())
    return wanted and selectors.matches(selector, present)


def _fields_match(obj: Mapping[str, Any], fields: Mapping[str, str] | None) -> bool:
    """Whether ``obj`` matches a field selector of equalities (``involvedObject.name``)."""
    for path, wanted in (fields or {}).items():
        value: Any = obj
        for key in path.split("."):
            value = value.get(key) if isinstance(value, Mapping) else None
        if str(value if value is not None else "") != wanted:
            return False
    return True


def _check_version(sent: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    wanted = (sent.get("metadata") or {}).get("resourceVersion")
    if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
        name = current["metadata"]["name"]
        raise KubeConflict(
            f'Operation cannot be fulfilled on "{name}": the object has been modified',
            status=409,
            reason="Conflict",
        )


def _merge(into: dict[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """Server-side apply, roughly: maps merge key by key, everything else is replaced."""
    for key, value in sent.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


def _merge_patch(into: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386: ``null`` removes a key, maps merge, everything else is replaced."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge_patch(into[key], value)
        else:
            into[key] = value
    return into
