"""Wire the notification controller into a manager: Receivers, and Alerts/Providers dispatch.

The Receiver controller reconciles on the leader only; the webhook server runs on every
replica (see :mod:`tide.notification.server`), fed by the Receiver watch cache that every
replica keeps. Every event the process's controllers record goes to the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tide.api import kinds
from tide.api.keys import WATCH, WATCH_ENABLED
from tide.kube import resources
from tide.kube.cache import WatchCache, object_key
from tide.kube.resources import resource_type
from tide.notification.dispatch import Dispatcher, DispatchOptions
from tide.notification.google_oidc import GOOGLE_CERTS, GoogleTokenVerifier
from tide.notification.index import WebhookIndex
from tide.notification.intake import EventServer
from tide.notification.providers.base import Notifier, ProviderSettings
from tide.notification.receiver import ReceiverPipeline
from tide.notification.server import MAX_BODY, ReceiverServer
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request
from tide.runtime.servers import Endpoint

__all__ = ["ALERT", "COMPONENT", "PROVIDER", "RECEIVER", "NotificationRuntime", "setup"]

COMPONENT = kinds.NOTIFICATION_CONTROLLER
"""Name in events' ``reportingController`` and in ``managedFields``, as Flux's controller."""
RECEIVER = resource_type("Receiver")
ALERT = resource_type("Alert")
PROVIDER = resource_type("Provider")


@dataclass
class NotificationRuntime:
    """What ``setup`` made, for tests and benchmarks to inspect."""

    receivers: Controller
    """The Receiver controller."""
    server: ReceiverServer | None
    """The webhook server (None when no ``receiver`` endpoint was given)."""
    index: WebhookIndex
    """Receivers by webhook path."""
    dispatcher: Dispatcher
    """Matches events against Alerts and queues them per Provider."""


def setup(
    manager: Manager,
    *,
    receiver: Endpoint | None = None,
    no_cross_namespace_refs: bool = False,
    max_body: int = MAX_BODY,
    google_keys_url: str = GOOGLE_CERTS,
    dispatch: DispatchOptions | None = None,
    events_addr: Endpoint | None = None,
    notifier_for: Callable[[ProviderSettings], Notifier] | None = None,
) -> NotificationRuntime:
    """Register the Receiver controller, the webhook server and the event dispatcher.

    Args:
        manager: the manager every controller of the process shares; every event its
            controllers record goes to the dispatcher.
        receiver: where the webhook server listens (``--receiver-addr``); None serves none.
        no_cross_namespace_refs: keep ``spec.resources`` in the Receiver's namespace.
        max_body: largest webhook body accepted, in bytes (default 3 MiB, as Flux).
        google_keys_url: the JWKS ``gcr`` ID tokens are checked against (default Google's).
        dispatch: rate limit, cluster name, cross-namespace rule (default
            :class:`DispatchOptions`).
        events_addr: where Flux's HTTP events endpoint listens; default: not served (in-process
            events only). ``tide controller`` serves it on ``--events-addr``.
        notifier_for: builds the sender of a resolved Provider; default the provider types'
            registry (:func:`tide.notification.providers.notifier_for`).
    """
    policy = ReferencePolicy(no_cross_namespace_refs=no_cross_namespace_refs)
    controller = manager.add_object_controller(
        RECEIVER, ReceiverPipeline(manager.client, policy=policy)
    )
    cache = manager.shard_cache(RECEIVER)  # a shard serves only its own Receivers
    # Secrets labelled reconcile.fluxcd.io/watch=Enabled (the cache the Helm controller shares)
    # reconcile their Receivers at once, so a rotated token publishes its new path at once.
    watched = manager.cache_for(resources.SECRET, labels={WATCH: WATCH_ENABLED})
    watched.add_handler(_on_token_change(cache, controller))
    index = WebhookIndex()
    cache.add_handler(index.handle)
    server = None
    if receiver is not None:
        server = ReceiverServer(
            manager.client,
            cache=cache,
            index=index,
            recorder=manager.recorder(COMPONENT),
            endpoint=receiver,
            policy=policy,
            max_body=max_body,
            google=GoogleTokenVerifier(keys_url=google_keys_url),
        )
        manager.add_service(server.start, server.stop)
    return NotificationRuntime(
        controller, server, index, _dispatcher(manager, dispatch, events_addr, notifier_for)
    )


def _dispatcher(
    manager: Manager,
    options: DispatchOptions | None,
    events_addr: Endpoint | None,
    notifier_for: Callable[[ProviderSettings], Notifier] | None,
) -> Dispatcher:
    dispatcher = Dispatcher(
        manager.client,
        alerts=manager.shard_cache(ALERT),  # a shard dispatches only its own Alerts
        providers=manager.cache_for(PROVIDER),
        secrets=manager.cache_for(resources.SECRET),
        recorder=manager.recorder(COMPONENT),
        options=options,
        **({"notifier_for": notifier_for} if notifier_for is not None else {}),
    )
    manager.add_event_sink(dispatcher.submit)
    manager.add_service(dispatcher.start, dispatcher.stop)
    if events_addr is not None:
        events = EventServer(events_addr, dispatcher.submit_nowait)
        manager.add_service(events.start, events.stop)
        dispatcher.events_server = events
    return dispatcher


def _on_token_change(receivers: WatchCache, controller: Controller) -> Any:
    """Reconcile the Receivers whose ``spec.secretRef`` names a changed Secret."""

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        secret = new or old
        if secret is None:
            return
        namespace, name = object_key(secret)
        for obj in receivers.scan():
            spec = obj.get("spec") or {}
            same_namespace = (obj["metadata"].get("namespace") or "") == namespace
            if same_namespace and (spec.get("secretRef") or {}).get("name") == name:
                controller.enqueue(Request(*object_key(obj)))

    return handle
