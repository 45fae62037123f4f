"""Which module builds the Notifier for each Provider type."""

from __future__ import annotations

from tide.notification.providers.base import InvalidProvider, Notifier, ProviderSettings

__all__ = ["notifier_for"]


def notifier_for(settings: ProviderSettings) -> Notifier:
    """Return the Notifier for ``settings.type``.

    Raises:
        InvalidProvider: the type is unknown or the settings cannot work for it (the message
            names the Provider and the field).
    """
    raise InvalidProvider(
        f"Provider '{settings.name}': type '{settings.type}' is not supported yet"
    )
