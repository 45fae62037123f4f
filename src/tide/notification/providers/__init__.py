"""Provider types: one module per service, each turning an event into that service's request.

:func:`notifier_for` is the one entry point the dispatcher uses; the types register in
``_registry``. See :mod:`tide.notification.providers.base` for the contract.
"""

from tide.notification.providers.base import (
    Event,
    InvalidProvider,
    InvolvedObject,
    Notifier,
    ProviderSettings,
    SendFailed,
)
from tide.notification.providers.registry import SUPPORTED_TYPES, notifier_for

__all__ = [
    "SUPPORTED_TYPES",
    "Event",
    "InvalidProvider",
    "InvolvedObject",
    "Notifier",
    "ProviderSettings",
    "SendFailed",
    "notifier_for",
]
