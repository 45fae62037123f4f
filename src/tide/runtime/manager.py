"""Run a set of controllers in one process: shared caches, leader election, probes, shutdown.

Caches run on every replica so a standby is warm; controllers start only on the leader. On
SIGTERM (or ``stop()``) the manager takes no new work, gives running reconciles a moment to
finish (``shutdown_timeout``) and cancels the rest, releases the Lease so a standby takes over at
once, and stops the probe servers: a backlog of queued work does not hold the process up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tide.api import kinds, selectors
from tide.kube import resources
from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient
from tide.kube.errors import KubeConflict
from tide.kube.resources import ResourceType
from tide.runtime import predicates
from tide.runtime.controller import Controller
from tide.runtime.events import EventRecorder, EventSink
from tide.runtime.leader import LeaderElector, LeaseConfig
from tide.runtime.lifecycle import ObjectReconciler
from tide.runtime.reconcile import Request
from tide.runtime.servers import Endpoint, ProbeServers
from tide.runtime.steps import Pipeline
from tide.runtime.wakeups import ObjectWatches

__all__ = ["CacheSyncTimeout", "LeadershipLost", "Manager", "ManagerOptions", "shard_lease_name"]

log = logging.getLogger(__name__)


class LeadershipLost(RuntimeError):
    """The Lease was lost while controllers ran; the process should exit and be restarted."""


class CacheSyncTimeout(RuntimeError):
    """A watched kind could not be listed in time (CRD missing, RBAC, API server down)."""


async def _first_to_end(tasks: list[asyncio.Task[None]]) -> None:
    """Return (or raise) as soon as any watch cache stops: they are meant to run forever."""
    if not tasks:
        await asyncio.Event().wait()
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise RuntimeError(f"watch cache {task.get_name()} died") from task.exception()
    raise RuntimeError("a watch cache stopped")


async def _cancel_all(tasks: list[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _nothing() -> None:
    """A service with nothing to start."""


def _default_identity() -> str:
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def shard_lease_name(name: str, selector: str) -> str:
    """Return the Lease name of the shard ``selector`` picks: ``name`` with the shard in it.

    Two controllers with different ``--watch-label-selector`` must not wait on one Lease, yet
    the name should still tell an operator which shard holds it: the selector's letters and
    digits, then a hash of the whole selector so ``key`` and ``!key`` differ. No selector: the
    name unchanged.
    """
    if not selector.strip():
        return name
    readable = re.sub(r"[^a-z0-9]+", "-", selector.lower()).strip("-")[:180].strip("-")
    digest = hashlib.sha256(selector.strip().encode()).hexdigest()[:8]
    return "-".join(part for part in (name, readable, digest) if part)


@dataclass
class ManagerOptions:
    """How the manager runs.

    Attributes:
        metrics: where ``/metrics`` listens (default ``:8080``).
        health: where ``/healthz`` and ``/readyz`` listen (default ``:9440``).
        leader_election: elect a leader before starting controllers (default True).
        lease_namespace: namespace of the Lease (default "tide-system"; created if missing).
        lease_name: name of the Lease (default "tide-controller-leader-election").
        identity: this process's name in the Lease (default hostname plus a random suffix).
        lease_duration: seconds before a standby takes over an unrenewed Lease (default 35).
        renew_deadline: seconds the leader keeps retrying a renewal (default 30).
        retry_period: seconds between Lease attempts (default 5).
        workers: concurrent reconciles per controller (default 4).
        shutdown_timeout: seconds running reconciles get to finish on stop before they are
            cancelled (default 3). Reconciles are level-triggered, so a cancelled one is simply
            done again by the next leader; a long wait here only delays a rollout.
        cache_sync_timeout: seconds the first list of every watched kind may take (default 120);
            past it the manager fails with a message naming the kinds (usually: CRDs missing).
        watch_label_selector: reconcile only the objects this label selector picks (Flux's
            ``--watch-label-selector``, for sharding); references to objects outside it (a
            source, a dependency, Secrets) still resolve. The Lease name then carries the
            shard (:func:`shard_lease_name`). Default "": every object.
        watch_namespace: mirror namespaced kinds of this namespace only, as Flux's controllers
            do with ``--watch-all-namespaces=false`` (default None: every namespace).
    """

    metrics: Endpoint = field(default_factory=lambda: Endpoint("0.0.0.0", 8080))
    health: Endpoint = field(default_factory=lambda: Endpoint("0.0.0.0", 9440))
    leader_election: bool = True
    lease_namespace: str = "tide-system"
    lease_name: str = "tide-controller-leader-election"
    identity: str = field(default_factory=_default_identity)
    lease_duration: float = 35.0
    renew_deadline: float = 30.0
    retry_period: float = 5.0
    workers: int = 4
    shutdown_timeout: float = 3.0
    cache_sync_timeout: float = 120.0
    watch_label_selector: str = ""
    watch_namespace: str | None = None


class Manager:
    """Owns the client, the caches, the controllers and their lifecycle.

    Args:
        client: the API client every controller shares.
        options: see :class:`ManagerOptions`.
    """

    def __init__(self, client: KubeClient, options: ManagerOptions | None = None) -> None:
        self.client = client
        self.options = options or ManagerOptions()
        self._shard = selectors.parse_selector(self.options.watch_label_selector)
        self.controllers: list[Controller] = []
        self._caches: dict[
            tuple[ResourceType, tuple[tuple[str, str], ...], tuple[selectors.Requirement, ...]],
            WatchCache,
        ] = {}
        self._services: list[
            tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]
        ] = []
        self._recorders: dict[str, EventRecorder] = {}
        self._event_sinks: list[EventSink] = []
        self._object_watches: ObjectWatches | None = None
        self._stop = asyncio.Event()
        self._synced = False
        self.elector: LeaderElector | None = None
        self._supervisor: asyncio.Future[None] | None = None
        self.servers = ProbeServers(
            metrics=self.options.metrics, health=self.options.health, ready=lambda: self._synced
        )

    # -- wiring (called by each controller package's setup) -----------------------------------
    def cache_for(self, rt: ResourceType, *, labels: Mapping[str, str] | None = None) -> WatchCache:
        """Return the shared watch cache for ``rt``, creating it on first use.

        This cache holds every object of the kind, in every shard: what reconcilers read to
        resolve a reference (a source, a dependency). Objects to reconcile come from
        :meth:`shard_cache`.

        Args:
            rt: the kind to list and watch.
            labels: watch only objects carrying these labels (one cache per selector), e.g.
                ConfigMaps labelled ``reconcile.fluxcd.io/watch: Enabled``. Default: all.
        """
        return self._cache(rt, labels=labels, selector=())

    def shard_cache(self, rt: ResourceType) -> WatchCache:
        """Return the watch cache of the ``rt`` objects this manager reconciles.

        The same cache as :meth:`cache_for` unless ``watch_label_selector`` is set; then only
        the shard's objects, filtered by the API server, so other shards' objects are never
        listed into it, enqueued or written to.
        """
        return self._cache(rt, labels=None, selector=self._shard)

    def _cache(
        self,
        rt: ResourceType,
        *,
        labels: Mapping[str, str] | None,
        selector: tuple[selectors.Requirement, ...],
    ) -> WatchCache:
        key = (rt, tuple(sorted((labels or {}).items())), selector)
        if key not in self._caches:
            namespace = self.options.watch_namespace if rt.namespaced else None
            self._caches[key] = WatchCache(
                self.client, rt, namespace=namespace, labels=labels, selector=selector
            )
        return self._caches[key]

    def object_watches(self) -> ObjectWatches:
        """Return the watches parked waits of every controller share, made on first use.

        They follow ``watch_namespace`` and start per kind only when a wait first names it
        (:mod:`tide.runtime.wakeups`); they stop with the manager.
        """
        if self._object_watches is None:
            watches = ObjectWatches(self.client, namespace=self.options.watch_namespace)
            self.add_service(_nothing, watches.stop)
            self._object_watches = watches
        return self._object_watches

    def recorder(self, component: str) -> EventRecorder:
        """Return the event recorder that reports as ``component``."""
        if component not in self._recorders:
            recorder = EventRecorder(
                self.client, component=component, instance=self.options.identity
            )
            for sink in self._event_sinks:
                recorder.subscribe(sink)
            self._recorders[component] = recorder
        return self._recorders[component]

    def add_event_sink(self, sink: EventSink) -> None:
        """Send every event any controller of this manager records to ``sink`` too.

        Recorders created later (a controller set up after the sink's owner) subscribe it as
        well, so the order in which controller packages are set up does not matter.
        """
        self._event_sinks.append(sink)
        for recorder in self._recorders.values():
            recorder.subscribe(sink)

    def add_service(
        self, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
    ) -> None:
        """Run a server beside the controllers on every replica (e.g. the artifact server)."""
        self._services.append((start, stop))

    def add_controller(self, controller: Controller) -> None:
        """Run ``controller`` once this process leads."""
        self.controllers.append(controller)

    def add_object_controller(
        self,
        rt: ResourceType,
        pipeline: Pipeline,
        *,
        name: str | None = None,
        component: str | None = None,
        sources: Mapping[str, WatchCache] | None = None,
        refers: Callable[[str], predicates.Refers] | None = None,
    ) -> Controller:
        """Reconcile objects of ``rt`` with ``pipeline`` inside the Flux object lifecycle.

        Args:
            rt: the kind to watch and reconcile.
            pipeline: the kind-specific steps.
            name: the controller's name in logs and metrics. Default: the kind in lower case
                ("gitrepository").
            component: who reports events and owns status fields. Default: the Flux controller
                :data:`tide.api.kinds.KINDS` says serves the kind ("source-controller").
            sources: for a kind that consumes artifacts, the watch cache of each source kind it
                may name; a changed artifact wakes the objects ``refers`` finds
                (:func:`~tide.runtime.predicates.requeue_consumers`). Default: none.
            refers: with ``sources``: ``refers(kind)`` tells whether an object reads a source of
                that kind.

        Returns the controller, for callers that add more watches or inspect it in tests.
        """
        if component is None:
            component = kinds.find_kind(rt.api_version, rt.kind).component
        cache = self.shard_cache(rt)
        reconciler = ObjectReconciler(
            rt=rt, client=self.client, cache=cache, recorder=self.recorder(component),
            pipeline=pipeline,
        )  # fmt: skip
        controller = Controller(name or rt.kind.lower(), reconciler, workers=self.options.workers)
        self.watch(rt, controller)
        self.add_controller(controller)
        if sources is not None and refers is not None:
            predicates.requeue_consumers(sources, cache, controller, refers)
        return controller

    def watch(
        self,
        rt: ResourceType,
        controller: Controller,
        *,
        predicate: Callable[[dict[str, Any] | None, dict[str, Any]], bool] = predicates.changed,
    ) -> None:
        """Enqueue objects of ``rt`` into ``controller`` whenever ``predicate(old, new)`` holds.

        Only the shard's objects (:meth:`shard_cache`) are watched for this.
        """

        def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            if new is not None and predicate(old, new):
                controller.enqueue(Request(*object_key(new)))

        self.shard_cache(rt).add_handler(handle)

    # -- lifecycle --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the manager to shut down gracefully."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """Turn SIGTERM and SIGINT into a graceful stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)

    @property
    def ready(self) -> bool:
        """Tell whether every cache has synced."""
        return self._synced

    async def run(self) -> None:
        """Run until ``stop()``.

        Raises:
            LeadershipLost: the Lease was lost; controllers were stopped at once.
            CacheSyncTimeout: a watched kind could not be listed in time.
            RuntimeError: a watch cache died (a bug); the process should restart.
        """
        caches: list[asyncio.Task[None]] = []
        hold: asyncio.Task[None] | None = None
        lost = False
        try:
            await self.servers.start()
            for start, _ in self._services:
                await start()
            caches = [
                asyncio.create_task(c.run(), name=f"cache-{c.rt.kind}")
                for c in self._caches.values()
            ]
            self._supervisor = asyncio.ensure_future(_first_to_end(caches))
            await self._wait_for_sync()
            self._synced = True
            if self.options.leader_election and not self._stop.is_set():
                self.elector = LeaderElector(self.client, self._lease_config())
                await self._ensure_namespace(self.options.lease_namespace)
                await self._wait_or_stop(self.elector.acquire())
                hold = asyncio.create_task(self.elector.hold(), name="lease-renewal")
            if not self._stop.is_set():
                for controller in self.controllers:
                    controller.start()
                log.info("started controllers: %s", ", ".join(c.name for c in self.controllers))
                lost = await self._wait_or_stop(hold, cancel=False)
        finally:
            # The Lease keeps being renewed while reconciles finish, so no standby can start
            # reconciling the same objects meanwhile; after a loss, stop at once instead.
            timeout = 0.0 if lost else self.options.shutdown_timeout
            await asyncio.gather(*(c.stop(timeout=timeout) for c in self.controllers))
            if hold is not None:
                hold.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await hold
            if self.elector is not None and not lost:
                await self.elector.release()
            await _cancel_all([*caches, *([self._supervisor] if self._supervisor else [])])
            for _, stop in reversed(self._services):
                await stop()
            await self.servers.stop()
        if lost:
            raise LeadershipLost("leader election lost")

    async def _wait_for_sync(self) -> None:
        synced = asyncio.gather(*(c.synced.wait() for c in self._caches.values()))
        try:
            async with asyncio.timeout(self.options.cache_sync_timeout):
                await self._wait_or_stop(synced)
        except TimeoutError:
            waiting = sorted(str(c.rt) for c in self._caches.values() if not c.synced.is_set())
            raise CacheSyncTimeout(
                f"could not list {', '.join(waiting)} within "
                f"{self.options.cache_sync_timeout:g}s; are Tide's CRDs installed (tide install) "
                "and may this identity list them?"
            ) from None

    async def _wait_or_stop(self, awaitable: Any, *, cancel: bool = True) -> bool:
        """Wait for ``awaitable`` or a stop request; return True if ``awaitable`` finished first.

        A dead watch cache ends the wait with its error. With ``cancel=False`` the awaitable is
        left running when a stop request wins (the Lease renewal during a graceful stop).
        """
        stopper = asyncio.ensure_future(self._stop.wait())
        waiters: set[asyncio.Future[Any]] = {stopper}
        if self._supervisor is not None:
            waiters.add(self._supervisor)
        work = asyncio.ensure_future(awaitable) if awaitable is not None else None
        if work is not None:
            waiters.add(work)
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if self._supervisor is not None and self._supervisor in done:
            self._supervisor.result()
        if work is None:
            return False
        if work in done:
            work.result()
            return True
        if cancel:
            await _cancel_all([work])
        return False

    def _lease_config(self) -> LeaseConfig:
        o = self.options
        return LeaseConfig(
            namespace=o.lease_namespace,
            name=shard_lease_name(o.lease_name, o.watch_label_selector),
            identity=o.identity,
            lease_duration=o.lease_duration,
            renew_deadline=o.renew_deadline,
            retry_period=o.retry_period,
        )

    async def _ensure_namespace(self, name: str) -> None:
        if await self.client.get_or_none(resources.NAMESPACE, name) is not None:
            return
        with contextlib.suppress(KubeConflict):
            await self.client.create(resources.NAMESPACE, {"metadata": {"name": name}})
