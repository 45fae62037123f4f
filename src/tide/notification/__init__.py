"""Notifications: Receivers (incoming webhooks) now; Providers, Alerts and dispatch next."""

from tide.notification.receiver import ReceiverPipeline, webhook_path
from tide.notification.setup import setup

__all__ = ["ReceiverPipeline", "setup", "webhook_path"]
