"""Notifications: events matched against Alerts and sent through Providers; Receivers.

:mod:`~tide.notification.dispatch` takes every event of the process (and Flux's HTTP events
endpoint, :mod:`~tide.notification.intake`), filters it (:mod:`~tide.notification.noise`,
:mod:`~tide.notification.ratelimit`, :mod:`~tide.notification.matching`) and queues it per
Provider (:mod:`~tide.notification.delivery`); :mod:`~tide.notification.settings` resolves a
Provider's Secrets; :mod:`~tide.notification.providers` turns an event into a service's request.
"""

from tide.notification.delivery import RetryPolicy
from tide.notification.dispatch import MESSAGE_TEMPLATE_ANNOTATION, Dispatcher, DispatchOptions
from tide.notification.intake import DEFAULT_EVENTS_ADDR, EventServer
from tide.notification.noise import NOISE_CONTROL_ANNOTATION
from tide.notification.receiver import ReceiverPipeline, webhook_path
from tide.notification.setup import setup

__all__ = [
    "DEFAULT_EVENTS_ADDR",
    "MESSAGE_TEMPLATE_ANNOTATION",
    "NOISE_CONTROL_ANNOTATION",
    "DispatchOptions",
    "Dispatcher",
    "EventServer",
    "ReceiverPipeline",
    "RetryPolicy",
    "setup",
    "webhook_path",
]
