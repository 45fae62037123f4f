"""Provider types: one module per service, each turning an event into that service's request.

:func:`notifier_for` is the one entry point the dispatcher uses; the types register in
``_registry``. See :mod:`tide.notification.providers.base` for the contract.
"""

from tide.notification.providers import base, registry
from tide.notification.providers.base import *  # noqa: F403  (base.__all__ is the one list)
from tide.notification.providers.registry import *  # noqa: F403

__all__ = [*base.__all__, *registry.__all__]
