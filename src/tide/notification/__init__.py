"""Notifications: Receivers (incoming webhooks) now; Providers, Alerts and dispatch next."""

from tide.notification.google_oidc import GOOGLE_CERTS, GOOGLE_ISSUERS, GoogleTokenVerifier
from tide.notification.index import WebhookIndex
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
    "GOOGLE_CERTS",
    "GOOGLE_ISSUERS",
    "MAX_BODY",
    "Delivery",
    "FilterError",
    "GoogleTokenVerifier",
    "NotificationRuntime",
    "Outcome",
    "ReceiverPipeline",
    "ReceiverServer",
    "Rejected",
    "ResourceFilter",
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
