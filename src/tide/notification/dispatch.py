"""The dispatcher: every event of the process, matched against Alerts, sent through Providers.

Events come in through :meth:`Dispatcher.submit` (Tide's own recorders, in process) or the HTTP
events endpoint (:mod:`tide.notification.intake`); either way they are only queued, so a
reconciler recording an event never waits on the network. One intake task then, per event:

1. drops the notification controller's own events (a failed delivery reported on an Alert must
   not itself be alerted on, or one dead endpoint would feed a loop);
2. asks noise control whether the event is news (:mod:`tide.notification.noise`) and the rate
   limiter whether an identical one went out recently (:mod:`tide.notification.ratelimit`);
3. matches it against every Alert (:mod:`tide.notification.matching`), reading ``matchLabels``
   labels from the live object (cached for :attr:`DispatchOptions.label_ttl`);
4. adds metadata, renders the Alert's message template, and queues the event in the outbox of
   the Alert's Provider (:mod:`tide.notification.delivery`).

Providers and their Secrets become outboxes in :mod:`tide.notification.outboxes`; one that
cannot work gets a Warning event naming the field, and only the Alerts using it are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tide import gotemplate
from tide.api import kinds, reasons
from tide.api.notification import Alert
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeNotFound
from tide.notification import matching
from tide.notification._objects import ParsedObjects, object_key
from tide.notification.delivery import Delivery, Outbox, RetryPolicy
from tide.notification.intake import EventServer
from tide.notification.noise import NOISE_CONTROL_ANNOTATION, NoiseControl
from tide.notification.outboxes import Outboxes
from tide.notification.providers import registry
from tide.notification.providers.base import (
    Event,
    Notifier,
    ProviderSettings,
    SendFailed,
)
from tide.notification.ratelimit import EventRateLimiter
from tide.runtime.events import EventRecorder

__all__ = ["MESSAGE_TEMPLATE_ANNOTATION", "DispatchOptions", "Dispatcher", "template_data"]

log = logging.getLogger(__name__)

MESSAGE_TEMPLATE_ANNOTATION = "notification.tide.dev/message-template"
"""Alert annotation: a Go template (with Sprig) that replaces the event's message."""
_OWN_KINDS = frozenset({"Alert", "Provider", "Receiver"})
_INTAKE_CAPACITY = 10_000


@dataclass(frozen=True)
class DispatchOptions:
    """How events are filtered and sent.

    Attributes:
        rate_limit_interval: seconds an identical event is dropped for (default 300,
            ``--rate-limit-interval``).
        cluster_name: added to every event's metadata as ``cluster`` (``--cluster-name``);
            default none.
        no_cross_namespace_refs: Alerts see only events of their own namespace (default False).
        summary_interval: seconds between summaries of an unchanged failure (default 3600).
        label_ttl: seconds an object's labels are reused for ``matchLabels`` (default 30).
        retry: retries and queue bound of each Provider's outbox.
    """

    rate_limit_interval: float = 300.0
    cluster_name: str = ""
    no_cross_namespace_refs: bool = False
    summary_interval: float = 3600.0
    label_ttl: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def template_data(event: Event) -> dict[str, Any]:
    """Return what a message template sees: the event under Go's field names (``.Message``)."""
    obj = event.involved_object
    return {
        "InvolvedObject": {
            "Kind": obj.kind, "Name": obj.name, "Namespace": obj.namespace,
            "APIVersion": obj.api_version, "UID": obj.uid,
        },
        "Severity": event.severity, "Timestamp": event.timestamp, "Message": event.message,
        "Reason": event.reason, "Metadata": dict(event.metadata),
        "ReportingController": event.reporting_controller,
        "ReportingInstance": event.reporting_instance,
    }  # fmt: skip


class Dispatcher:
    """Route events to Alerts' Providers.

    Args:
        client: reads the labels of objects Alerts select by ``matchLabels``.
        alerts: watch cache of Alerts.
        providers: watch cache of Providers.
        secrets: watch cache of Secrets (Providers' credentials).
        recorder: the notification controller's recorder (Warnings on Alerts and Providers).
        options: see :class:`DispatchOptions`.
        notifier_for: builds a Notifier for resolved settings; the provider registry's by
            default (tests pass their own).
    """

    def __init__(
        self,
        client: KubeClient,
        *,
        alerts: WatchCache,
        providers: WatchCache,
        secrets: WatchCache,
        recorder: EventRecorder,
        options: DispatchOptions | None = None,
        notifier_for: Callable[[ProviderSettings], Notifier] = registry.notifier_for,
    ) -> None:
        self._client = client
        self._alerts = alerts
        self._providers = providers
        self._secrets_cache = secrets
        self._recorder = recorder
        self.options = options or DispatchOptions()
        self._limiter = EventRateLimiter(self.options.rate_limit_interval)
        self._noise = NoiseControl(summary_interval=self.options.summary_interval)
        self._intake: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_INTAKE_CAPACITY)
        self._objects = ParsedObjects()
        self._outboxes = Outboxes(
            providers=providers,
            secrets=secrets,
            objects=self._objects,
            notifier_for=notifier_for,
            retry=self.options.retry,
            on_failure=self._delivery_failed,
            warn=self._warn,
        )
        self._labels: dict[tuple[str, str, str], tuple[float, Mapping[str, str] | None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.events_server: EventServer | None = None
        """The HTTP events endpoint feeding this dispatcher, when one is served."""

    # -- intake -------------------------------------------------------------------------------
    def submit_nowait(self, payload: dict[str, Any]) -> None:
        """Queue one event (Flux's JSON); never blocks, drops the event when the queue is full."""
        try:
            self._intake.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning("notification intake full; dropped an event")

    async def submit(self, payload: dict[str, Any]) -> None:
        """:data:`~tide.runtime.events.EventSink` form of :meth:`submit_nowait`."""
        self.submit_nowait(payload)

    async def start(self) -> None:
        """Start the intake task."""
        self._task = asyncio.create_task(self._run(), name="notification-intake")

    async def stop(self) -> None:
        """Stop taking events and close every Provider's outbox."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._outboxes.close()

    async def _run(self) -> None:
        for cache in (self._alerts, self._providers, self._secrets_cache):
            await cache.synced.wait()
        while True:
            payload = await self._intake.get()
            try:
                await self.dispatch(Event.from_json(payload))
            except Exception:
                log.exception("dispatching an event failed")
            finally:
                self._intake.task_done()

    def knows(self, *, alerts: list[tuple[str, str]], providers: list[tuple[str, str]]) -> bool:
        """Tell whether the watch caches hold these Alerts and Providers (namespace, name).

        An Alert created a moment ago is matched only once its watch event has arrived; tests
        and tools wait on this before sending events.
        """
        return all(self._alerts.get(*key) is not None for key in alerts) and all(
            self._providers.get(*key) is not None for key in providers
        )

    async def settle(self) -> None:
        """Wait until every event submitted so far is matched and every queued one sent.

        For tests and benchmarks: after it returns, each event has reached its endpoints or
        failed for good (its Warning recorded).
        """
        await self._intake.join()
        await self._outboxes.settle()

    # -- matching -----------------------------------------------------------------------------
    async def dispatch(self, event: Event) -> None:
        """Send ``event`` to every Alert that selects it (noise control and rate limit first)."""
        if event.reporting_controller == kinds.NOTIFICATION_CONTROLLER or (
            event.involved_object.kind in _OWN_KINDS
        ):
            return
        news = self._noise.observe(event)
        allowed: dict[int, bool] = {}

        def passes(candidate: Event) -> bool:  # each distinct event meets the limiter once
            if id(candidate) not in allowed:
                allowed[id(candidate)] = self._limiter.allow(candidate)
            return allowed[id(candidate)]

        for obj in self._alerts.scan():
            alert = self._objects.read(Alert, obj)
            if alert is None or alert.spec.suspend:
                continue
            # Opt-in (DESIGN: what changes behaviour Flux users rely on is opt-in).
            quiet = (alert.metadata.annotations or {}).get(NOISE_CONTROL_ANNOTATION) == "enabled"
            chosen = news if quiet else event
            if chosen is None or not passes(chosen) or not await self._selects(alert, chosen):
                continue
            outbox = await self._outbox_for(alert, obj)
            if outbox is not None:
                message = await self._render(alert, obj, chosen)
                outbox.put(Delivery(object_key(alert), message))

    async def _selects(self, alert: Alert, event: Event) -> bool:
        if not matching.severity_passes(alert, event):
            return False
        sources = matching.sources_for(
            alert, event, no_cross_namespace_refs=self.options.no_cross_namespace_refs
        )
        if not sources:
            return False
        labels = None
        if any(source.match_labels for source in sources):
            labels = await self._labels_of(event)
        return matching.labels_match(sources, labels) and matching.message_passes(
            alert, event.message
        )

    async def _labels_of(self, event: Event) -> Mapping[str, str] | None:
        obj = event.involved_object
        key = (obj.kind, obj.namespace, obj.name)
        cached = self._labels.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.options.label_ttl:
            return cached[1]
        labels: Mapping[str, str] | None = None
        try:
            live = await self._client.get(
                resources.resource_type(obj.kind), obj.name, namespace=obj.namespace
            )
            labels = live["metadata"].get("labels") or {}
        except KubeNotFound:
            pass
        except (KubeError, KeyError) as error:
            log.warning("cannot read the labels of %s/%s/%s: %s", *key, error)
        self._labels[key] = (time.monotonic(), labels)
        if len(self._labels) > 4096:
            self._labels.clear()
        return labels

    async def _render(self, alert: Alert, obj: Mapping[str, Any], event: Event) -> Event:
        event = matching.enrich(alert, event, cluster=self.options.cluster_name)
        template = (alert.metadata.annotations or {}).get(MESSAGE_TEMPLATE_ANNOTATION)
        if not template:
            return event
        try:
            message = await asyncio.to_thread(gotemplate.render, template, template_data(event))
        except gotemplate.TemplateError as error:
            await self._warn(
                obj,
                reasons.INVALID_CONFIG,
                f"annotation {MESSAGE_TEMPLATE_ANNOTATION}: {error}; sent the event's own message",
            )
            return event
        return replace(event, message=message)

    # -- Providers ----------------------------------------------------------------------------
    async def _outbox_for(self, alert: Alert, alert_obj: Mapping[str, Any]) -> Outbox | None:
        namespace, name = alert.metadata.namespace or "default", alert.spec.provider_ref.name
        if not self._outboxes.exists(namespace, name):
            await self._warn(
                alert_obj,
                reasons.PROVIDER_NOT_FOUND,
                f"spec.providerRef: Provider '{namespace}/{name}' not found",
            )
            return None
        return await self._outboxes.get(namespace, name)

    async def _delivery_failed(self, delivery: Delivery, error: SendFailed) -> None:
        obj = delivery.event.involved_object
        message = (
            f"failed to send the event of {obj.kind}/{obj.namespace}/{obj.name} "
            f"({delivery.event.reason}): {error}"
        )
        log.warning("Alert %s/%s: %s", *delivery.alert, message)
        alert = self._alerts.get(*delivery.alert)
        if alert is not None:
            await self._warn(alert, reasons.NOTIFICATION_FAILED, message)

    async def _warn(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        """Record a Warning on an Alert or Provider (events of this controller are not routed)."""
        await self._recorder.record(obj, type="Warning", reason=reason, message=message)
