"""Wire the notification controller into a manager: Receivers, and Alerts/Providers dispatch."""

from __future__ import annotations

from collections.abc import Callable

from tide.api import kinds
from tide.kube import resources
from tide.kube.resources import resource_type
from tide.notification.dispatch import Dispatcher, DispatchOptions
from tide.notification.intake import EventServer
from tide.notification.providers.base import Notifier, ProviderSettings
from tide.notification.receiver import ReceiverPipeline
from tide.runtime.manager import Manager
from tide.runtime.servers import Endpoint

__all__ = ["ALERT", "COMPONENT", "PROVIDER", "RECEIVER", "setup"]

COMPONENT = kinds.NOTIFICATION_CONTROLLER
"""Name in events' ``reportingController`` and in ``managedFields``, as Flux's controller."""
RECEIVER = resource_type("Receiver")
ALERT = resource_type("Alert")
PROVIDER = resource_type("Provider")


def setup(
    manager: Manager,
    *,
    dispatch: DispatchOptions | None = None,
    events_addr: Endpoint | None = None,
    notifier_for: Callable[[ProviderSettings], Notifier] | None = None,
) -> Dispatcher:
    """Register the Receiver controller and the event dispatcher with ``manager``.

    Args:
        manager: the manager every controller of the process shares; every event its
            controllers record goes to the dispatcher.
        dispatch: rate limit, cluster name, cross-namespace rule (default
            :class:`DispatchOptions`).
        events_addr: where Flux's HTTP events endpoint listens; default: not served (in-process
            events only). ``tide controller`` serves it on ``--events-addr``.
        notifier_for: builds the sender of a resolved Provider; default the provider types'
            registry (:func:`tide.notification.providers.notifier_for`).

    Returns the dispatcher, for tests and benchmarks that post to it directly.
    """
    manager.add_object_controller(RECEIVER, ReceiverPipeline(manager.client))
    dispatcher = Dispatcher(
        manager.client,
        alerts=manager.cache_for(ALERT),
        providers=manager.cache_for(PROVIDER),
        secrets=manager.cache_for(resources.SECRET),
        recorder=manager.recorder(COMPONENT),
        options=dispatch,
        **({"notifier_for": notifier_for} if notifier_for is not None else {}),
    )
    manager.add_event_sink(dispatcher.submit)
    manager.add_service(dispatcher.start, dispatcher.stop)
    if events_addr is not None:
        server = EventServer(events_addr, dispatcher.submit_nowait)
        manager.add_service(server.start, server.stop)
        dispatcher.events_server = server
    return dispatcher
