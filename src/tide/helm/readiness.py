"""Wait for a release's objects the way Helm's ``watcher`` wait does, without holding a worker.

When :func:`tide.helm.hooks.tide_waits` says so, Helm runs the install or upgrade with its
``hookOnly`` wait and Tide judges every object of the release's manifest by kstatus
(:mod:`tide.kube.ssa.wait`), one look per reconcile: between looks the HelmRelease gives its
worker back, parked on the shared watches of :mod:`tide.runtime.wakeups` (one list+watch per
kind for the whole process, where Helm would start informers per install). A release in
another cluster, or a tenant's, reads with its own client and rights; what no watch covers
polls.

Helm's rules kept: a Deployment the manifest pauses is not waited for; where Helm's kstatus
judges a kind otherwise than Tide's rules (a Job ready once started unless ``wait_for_jobs``,
a LoadBalancer Service, a Pod) Helm's verdict is taken (:mod:`tide.helm.kstatus`); an object
that failed ends the wait once the others are ready, as it will not become ready by waiting.
The timeout is the action's, counted from Helm's record of the
action's start (``last_deployed``), so it holds across reconciles and restarts.

The wait's state lives in ``status.history``: the snapshot of the revision being waited on
says ``pending-install`` / ``pending-upgrade`` while Tide waits, and ``failed`` when the wait
failed — Helm's own record of that revision says ``deployed`` (Helm's part of the action did
succeed), so this snapshot is the only place that knows. See :func:`under_way` and
:func:`as_recorded`.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tide import yamlio
from tide.helm import kstatus
from tide.helm.sdk import Release
from tide.helm.target import Target
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeError
from tide.kube.ssa import ResourceManager, wait
from tide.kube.ssa.changeset import subject
from tide.runtime.wakeups import POLL, Parking

__all__ = [
    "FAILED",
    "PENDING",
    "Look",
    "ReleaseWaits",
    "as_recorded",
    "deadline",
    "not_ready_error",
    "objects",
    "under_way",
]

PENDING = {"install": "pending-install", "upgrade": "pending-upgrade"}
"""The snapshot status of a revision whose objects Tide is still waiting for, by action."""
FAILED = "failed"
"""The snapshot status of a revision whose wait failed (timeout, or an object failed)."""
_NAMED = 10
"""Objects a progress message names at most."""


def _snapshot(latest: Release, status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Tide's snapshot of Helm's latest revision, if it recorded one."""
    for entry in status.get("history") or []:
        if (entry.get("name"), entry.get("namespace"), entry.get("version")) == (
            latest.name,
            latest.namespace,
            latest.version,
        ):
            return entry
    return None


def under_way(latest: Release | None, status: Mapping[str, Any]) -> str | None:
    """The action ("install"/"upgrade") whose wait Tide has not finished for ``latest``.

    The persisted marker is the ``status.history`` snapshot of Helm's latest revision, by
    name, namespace and version: Tide writes it with ``pending-install`` /
    ``pending-upgrade`` once Helm's part of the action is done and before it gives its
    worker back, so a controller restarted mid-wait finds it and resumes the wait. Helm says
    ``deployed`` for that revision all along. A release adopted from the Helm CLI has no
    snapshot for its revision (Tide never made it), and a revision Helm waited for itself
    has one that says ``deployed``: both read as no wait under way.
    """
    if latest is None or latest.status != "deployed":
        return None
    entry = _snapshot(latest, status)
    recorded = (entry or {}).get("status")
    for action, marker in PENDING.items():
        if recorded == marker:
            return action
    return None


def as_recorded(latest: Release | None, status: Mapping[str, Any]) -> Release | None:
    """``latest`` as the rest of the controller must see it: ``failed`` when its wait failed.

    Helm recorded the revision ``deployed``; after a Helm wait failure it would say
    ``failed``, and everything downstream (in sync?, install or upgrade?, which revision to
    roll back to) reads it that way.
    """
    if latest is None or latest.status != "deployed":
        return latest
    entry = _snapshot(latest, status)
    if (entry or {}).get("status") == FAILED:
        return replace(latest, status=FAILED)
    return latest


def deadline(release: Release, timeout: float) -> float:
    """When the wait on ``release`` gives up, as ``time.time()``: its action's start + timeout.

    Helm sets ``last_deployed`` as the action starts; without it (never seen), now.
    """
    stamp = release.last_deployed
    try:
        started = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        started = time.time()
    return started + timeout


async def objects(manifest: str, namespace: str, mapper: RESTMapper) -> list[dict[str, Any]]:
    """The objects of ``manifest`` Helm's wait looks at, by identity (kind and name).

    Namespaced objects that name no namespace are in the release's (as Helm applies them);
    a Deployment the manifest pauses is left out, as Helm leaves it out.
    """
    found: list[dict[str, Any]] = []
    for document in yamlio.load_all(manifest):
        if not isinstance(document, dict) or not document.get("kind"):
            continue
        metadata = document.get("metadata") or {}
        if document.get("kind") == "Deployment" and (document.get("spec") or {}).get("paused"):
            continue
        try:
            namespaced = (await mapper.for_object(document)).namespaced
        except UnknownKind:  # not served (yet): the look says so and waits
            namespaced = True
        found.append({
            "apiVersion": document.get("apiVersion"),
            "kind": document.get("kind"),
            "metadata": {
                "name": metadata.get("name"),
                "namespace": (metadata.get("namespace") or namespace) if namespaced else None,
            },
        })  # fmt: skip
    return found


@dataclass(frozen=True)
class Look:
    """One look at a release's objects."""

    left: dict[str, wait.Readiness]
    """The objects not ready, by ``Kind/ns/name``, with why."""
    delay: float = 0.0
    """Seconds until the next look (a watch event may bring it sooner)."""

    @property
    def ready(self) -> bool:
        """Whether every object is ready."""
        return not self.left

    @property
    def failed(self) -> bool:
        """Whether every object not ready has failed: waiting longer will not help."""
        return bool(self.left) and all(
            verdict.health is wait.Health.FAILED for verdict in self.left.values()
        )

    def waiting_for(self) -> str:
        """``Deployment/ns/a, Service/ns/b`` (the first few), for a progress message."""
        names = sorted(self.left)
        more = f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
        return ", ".join(names[:_NAMED]) + more


def not_ready_error(look: Look, *, timed_out: bool) -> str:
    """What Helm's wait says when it fails: each object not ready, then the deadline."""
    lines = [
        f"resource {name} not ready. status: {verdict.health}, message: {verdict.message}"
        for name, verdict in sorted(look.left.items())
    ]
    if timed_out:
        lines.append("context deadline exceeded")
    return "\n".join(lines)


class ReleaseWaits:
    """Look at releases' objects between reconciles; park each wait on the shared watches.

    Args:
        parking: the HelmRelease controller's parked waits (:meth:`ObjectWatches.parking`).
            Default: None (every wait polls every :data:`~tide.runtime.wakeups.POLL` s).
    """

    def __init__(self, parking: Parking | None = None) -> None:
        self._parking = parking
        self._parked_now: set[Hashable] = set()
        self._read: dict[Hashable, tuple[tuple[str, str, int], list[dict[str, Any]]]] = {}
        """Per parked wait: the revision, and its objects with the resourceVersions its first
        look read from the API server (the least a watch's copy must show)."""

    async def look(
        self,
        key: Hashable,
        release: Release,
        *,
        cluster: Target,
        user: str | None,
        wait_for_jobs: bool,
        until: float,
    ) -> Look:
        """Judge every object of ``release`` once; park ``key`` on those not ready.

        ``until`` is the wait's :func:`deadline`: the next look comes no later. Reads go
        through the shared watches only for the controller's own identity on its own cluster;
        a tenant (``user``) reads with its own rights, another cluster polls.
        """
        client = cluster.client.impersonating(user) if user else cluster.client
        local = self._parking is not None and cluster.client is self._parking.watches.client
        cached = self._parking.watches.reader(client) if self._parking and local else None
        manager = ResourceManager(client, cluster.mapper, client.field_manager, {})
        judge = kstatus.helm_rules(wait_for_jobs)
        revision = (release.namespace, release.name, release.version)
        known = self._read.get(key)
        if known is not None and known[0] == revision:
            targets = known[1]
            verdicts = await wait.look(manager, targets, judge=judge, cached=cached)
        else:  # the first look (after the action, or a restart): from the API server
            listed = await objects(release.manifest, release.namespace, cluster.mapper)
            live = await _read(manager, listed)
            verdicts = await wait.look(manager, live, judge=judge, fresh=True)
            targets = [_identity(obj) for obj in live]
        self._read[key] = (revision, targets)
        left = {name: verdict for name, verdict in verdicts.items() if not verdict.ready}
        if not left:
            self.release(key)
            return Look({})
        monotonic_until = time.monotonic() + max(0.0, until - time.time())
        if self._parking is None:
            return Look(left, min(POLL, max(0.0, until - time.time())))
        pending = [target for target in targets if subject(target) in left]
        delay = await self._parking.park(
            key, pending, mapper=cluster.mapper if local else None, deadline=monotonic_until
        )
        self._parked_now.add(key)
        return Look(left, delay)

    def release(self, key: Hashable) -> None:
        """Stop waking ``key``: its wait ended, was replaced, or its HelmRelease went away."""
        self._parked_now.discard(key)
        self._read.pop(key, None)
        if self._parking is not None:
            self._parking.release(key)

    def settle(self, key: Hashable) -> None:
        """End a reconcile of ``key``: a wait it did not park again stops being woken.

        A wait stays parked while its look runs (an event then queues one more look); a
        reconcile that took another way (a new action, a failure) must not leave it parked.
        """
        if key in self._parked_now:
            self._parked_now.discard(key)
        else:
            self.release(key)


async def _read(manager: ResourceManager, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read each target from the API server: the live object, else its identity.

    A watch may still hold an object as it was before Helm's apply (a Deployment not yet
    rolling out looks ready); the first look must not judge such a copy, and the versions
    read here are the least a later look accepts from the watch.
    """
    found: list[dict[str, Any]] = []
    for target in targets:
        metadata = target["metadata"]
        try:
            rt = await manager.mapper.for_object(target)
            namespace = metadata.get("namespace") if rt.namespaced else None
            live = await manager.client.get_or_none(rt, metadata["name"], namespace=namespace)
        except (UnknownKind, KubeError):  # the look says why, and the wait goes on
            live = None
        found.append(dict(live) if live is not None else target)
    return found


def _identity(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Kind, name and the resourceVersion read, for later looks (each reads the object)."""
    metadata = obj.get("metadata") or {}
    identity = {"name": metadata.get("name"), "namespace": metadata.get("namespace")}
    if metadata.get("resourceVersion"):
        identity["resourceVersion"] = metadata["resourceVersion"]
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": identity}
