"""Notifications: events matched against Alerts and sent through Providers; Receivers.

:mod:`~tide.notification.dispatch` takes every event of the process (and Flux's HTTP events
endpoint, :mod:`~tide.notification.intake`), filters it (:mod:`~tide.notification.noise`,
:mod:`~tide.notification.ratelimit`, :mod:`~tide.notification.matching`) and queues it per
Provider (:mod:`~tide.notification.delivery`); :mod:`~tide.notification.settings` resolves a
Provider's Secrets; :mod:`~tide.notification.providers` turns an event into a service's request.
Incoming webhooks: :mod:`~tide.notification.server` serves Receivers' paths, checks each
delivery (:mod:`~tide.notification.payloads`) and asks the targets to reconcile
(:mod:`~tide.notification.targets`).
"""

from tide.notification.delivery import RetryPolicy
from tide.notification.dispatch import MESSAGE_TEMPLATE_ANNOTATION, Dispatcher, DispatchOptions
from tide.notification.google_oidc import GOOGLE_CERTS, GOOGLE_ISSUERS, GoogleTokenVerifier
from tide.notification.index import WebhookIndex
from tide.notification.intake import DEFAULT_EVENTS_ADDR, EventServer
from tide.notification.noise import NOISE_CONTROL_ANNOTATION
from tide.notification.payloads import Delivery, Rejected, Verdict, check, sign
from tide.notification.receiver import ReceiverPipeline, read_secret, read_token, webhook_path
from tide.notification.resource_filter import FilterError, ResourceFilter
from tide.notification.server import MAX_BODY, ReceiverServer
from tide.notification.setup import NotificationRuntime, setup
from tide.notification.targets import (
    Outcome,
    check_reference,
    request_reconciles,
    requested_at_now,
)

__all__ = [
    "DEFAULT_EVENTS_ADDR",
    "GOOGLE_CERTS",
    "GOOGLE_ISSUERS",
    "MAX_BODY",
    "MESSAGE_TEMPLATE_ANNOTATION",
    "NOISE_CONTROL_ANNOTATION",
    "Delivery",
    "DispatchOptions",
    "Dispatcher",
    "EventServer",
    "FilterError",
    "GoogleTokenVerifier",
    "NotificationRuntime",
    "Outcome",
    "ReceiverPipeline",
    "ReceiverServer",
    "Rejected",
    "ResourceFilter",
    "RetryPolicy",
    "Verdict",
    "WebhookIndex",
    "check",
    "check_reference",
    "read_secret",
    "read_token",
    "request_reconciles",
    "requested_at_now",
    "setup",
    "sign",
    "webhook_path",
]
