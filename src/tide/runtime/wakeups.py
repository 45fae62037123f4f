"""Wake a parked wait when an object it waits on changes: one shared watch per kind.

A reconcile that waits on objects it does not control (a Kustomization's health check, a
HelmRelease's release objects) gives its worker back and parks instead: ``--concurrent`` then
bounds work, not waiting. What brings it back is a watch event on one of those objects, not a
poll of each object every two seconds. Each kind gets one list-then-watch
(:class:`~tide.kube.cache.WatchCache`), started the first time a wait names the kind and shared
by every wait of every controller in the process; while it follows the API server (listed, its
watch unbroken), parked looks read the objects from it (:meth:`ObjectWatches.reader`) instead
of asking the API server each time. It keeps only what health rules read
(:mod:`tide.kube.ssa.trim`).

What no watch here covers — another cluster (``spec.kubeConfig``), a namespace outside
``--watch-namespace``, a kind this identity may not watch (it never syncs), a watch that broke
and has not listed again — polls as before.
A covered wait still gets a slow fallback look, so a wake lost to a broken watch delays a
verdict, never hangs it; a deadline is always looked at on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType
from tide.kube.ssa import trim
from tide.kube.ssa.wait import Lookup

__all__ = ["FALLBACK", "POLL", "ObjectWatches", "Parking"]

log = logging.getLogger(__name__)

POLL = 2.0
"""Seconds between looks of a wait no current watch covers (the old polling)."""
FALLBACK = 60.0
"""Seconds before a covered wait is looked at again though no event woke it."""

_UNWATCHED = {("", "Secret")}
"""Kinds never watched here: a watch would hold every Secret of the cluster in memory, for a
kind whose readiness is only its existence. A wait on one polls."""

_Target = tuple[ResourceType, str, str]
"""(kind, namespace or "" when cluster-scoped, name), as :func:`object_key` names objects."""


class ObjectWatches:
    """The watches parked waits share: one per kind, started on first use.

    Args:
        client: the controller's own client; its identity lists and watches.
        namespace: watch namespaced kinds in this namespace only (``--watch-namespace``);
            a wait on an object elsewhere polls. Default: None (every namespace).
    """

    def __init__(self, client: KubeClient, *, namespace: str | None = None) -> None:
        self.client = client
        self._namespace = namespace
        self._caches: dict[ResourceType, WatchCache] = {}
        self._tasks: dict[ResourceType, asyncio.Task[None]] = {}
        self._waiters: dict[_Target, dict[tuple[int, Hashable], Parking]] = {}
        self._stopped = False

    def parking(
        self,
        wake: Callable[[Hashable], None],
        *,
        poll: float | None = None,
        fallback: float | None = None,
    ) -> Parking:
        """Return a controller's own set of parked waits; ``wake(key)`` requeues ``key``.

        Args:
            wake: requeue the reconcile of ``key``.
            poll: seconds between looks of a wait no watch covers. Default: :data:`POLL`.
            fallback: seconds before a covered wait is looked at unwoken. Default:
                :data:`FALLBACK`.
        """
        return Parking(
            self,
            wake,
            poll=POLL if poll is None else poll,
            fallback=FALLBACK if fallback is None else fallback,
        )

    def reader(self, client: KubeClient, *, whole: bool = False) -> Lookup | None:
        """Return the lookup a wait reading as ``client`` may use; None for another identity.

        A tenant's wait (an impersonating client) is woken by these watches but reads with
        its own rights, so it learns nothing of objects its ServiceAccount may not read.

        The watches keep built-in kinds trimmed to what kstatus reads
        (:mod:`tide.kube.ssa.trim`); a wait whose own rules (``healthCheckExprs``) may read any
        field asks for ``whole`` objects, and reads those kinds from the API server.
        """
        if client is not self.client:
            return None
        return self._whole_lookup if whole else self._lookup

    async def stop(self) -> None:
        """Stop every watch (the manager's shutdown)."""
        self._stopped = True
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._caches.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def covers(self, rt: ResourceType, namespace: str) -> bool:
        """Whether a watch here follows objects of ``rt`` in ``namespace`` right now.

        Not merely synced once: a cache whose watch broke (retrying, or no longer allowed to
        list) keeps its last copies, which no event will refresh; reads go to the API server
        and the wait polls until it lists again.
        """
        if rt.namespaced and self._namespace and namespace != self._namespace:
            return False
        cache = self._caches.get(rt)
        return cache is not None and cache.current

    def _lookup(self, rt: ResourceType, namespace: str, name: str) -> tuple[bool, Any]:
        if not self.covers(rt, namespace):
            return False, None
        return True, self._caches[rt].get(namespace, name)

    def _whole_lookup(self, rt: ResourceType, namespace: str, name: str) -> tuple[bool, Any]:
        if (rt.group, rt.kind) in trim.TRIMMED:
            return False, None
        return self._lookup(rt, namespace, name)

    def _start(self, rt: ResourceType) -> None:
        """Start watching ``rt`` unless a watch already runs (or the manager stopped)."""
        if self._stopped or rt in self._tasks:
            return
        cache = WatchCache(
            self.client,
            rt,
            namespace=self._namespace if rt.namespaced else None,
            transform=trim.transform_for(rt.group, rt.kind),
        )
        cache.add_handler(lambda _event, old, new: self._changed(rt, new or old))
        task = asyncio.create_task(cache.run(), name=f"wakeups-{rt.kind}")
        self._caches[rt] = cache
        self._tasks[rt] = task
        task.add_done_callback(lambda done: self._ended(rt, done))

    def _ended(self, rt: ResourceType, task: asyncio.Task[None]) -> None:
        """A watch that stopped by itself (a bug) is dropped; the next wait starts it again."""
        if self._tasks.get(rt) is task:
            del self._tasks[rt]
            del self._caches[rt]
            if not task.cancelled() and task.exception() is not None:
                log.error("watch of %s for parked waits died", rt, exc_info=task.exception())

    def _changed(self, rt: ResourceType, obj: Mapping[str, Any] | None) -> None:
        if obj is None:
            return
        namespace, name = object_key(obj)
        for (_, key), parking in list(self._waiters.get((rt, namespace, name), {}).items()):
            parking.wake(key)

    def _add(self, target: _Target, parking: Parking, key: Hashable) -> None:
        self._waiters.setdefault(target, {})[(id(parking), key)] = parking
        self._start(target[0])

    def _remove(self, target: _Target, parking: Parking, key: Hashable) -> None:
        waiting = self._waiters.get(target)
        if waiting is not None:
            waiting.pop((id(parking), key), None)
            if not waiting:
                del self._waiters[target]


class Parking:
    """One controller's parked waits, by the key its ``wake`` requeues (namespace, name).

    Made by :meth:`ObjectWatches.parking`; a key is parked on at most one set of objects.
    """

    def __init__(
        self,
        watches: ObjectWatches,
        wake: Callable[[Hashable], None],
        *,
        poll: float,
        fallback: float,
    ) -> None:
        self.watches = watches
        self.wake = wake
        self.poll = poll
        self.fallback = fallback
        self._parked: dict[Hashable, list[_Target]] = {}

    async def park(
        self,
        key: Hashable,
        objects: Sequence[Mapping[str, Any]],
        *,
        mapper: RESTMapper | None,
        deadline: float | None = None,
    ) -> float:
        """Wake ``key`` when one of ``objects`` changes; return seconds until its next look.

        This replaces what ``key`` was parked on; keep it parked while its look runs, so an
        event during the look is not lost (the queue runs one more look after it). Objects
        it was not parked on before get one more look at once (delay 0): their reads came
        before their wake-up was in place.

        ``mapper`` resolves the objects' kinds; None means they live where these watches
        do not reach (another cluster), and the wait polls. The delay is :data:`FALLBACK`
        when a current watch covers every object, else :data:`POLL` (a watch still listing
        wakes it once it has); never past ``deadline`` (a ``time.monotonic()``).
        """
        delay = self.fallback
        targets: list[_Target] = []
        if mapper is None:
            delay = self.poll
        else:
            for obj in objects:
                try:
                    rt = await mapper.for_object(dict(obj))
                except (UnknownKind, KubeError):  # not served yet: poll until it is
                    delay = self.poll
                    continue
                if (rt.group, rt.kind) in _UNWATCHED:
                    delay = self.poll
                    continue
                metadata = obj.get("metadata") or {}
                namespace = (metadata.get("namespace") or "") if rt.namespaced else ""
                targets.append((rt, namespace, metadata.get("name") or ""))
        # From here on nothing awaits: no event can slip between the old wake-up and the new.
        before = set(self._parked.get(key, ()))
        self.release(key)
        for target in targets:
            self.watches._add(target, self, key)
            if not self.watches.covers(target[0], target[1]):
                delay = self.poll
        self._parked[key] = targets
        if not before.issuperset(targets):
            # The look just made read (or was handed) these objects before anything would
            # wake it for them: a change in between would be missed. Look once more, now.
            delay = 0.0
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - time.monotonic()))
        return delay

    def release(self, key: Hashable) -> None:
        """Stop waking ``key`` (its wait ended, was replaced, or its object went away)."""
        for target in self._parked.pop(key, ()):
            self.watches._remove(target, self, key)

    def __len__(self) -> int:
        return len(self._parked)
