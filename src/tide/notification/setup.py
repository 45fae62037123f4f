"""Wire the notification controller into a manager: which kinds it watches and reconciles."""

from __future__ import annotations

from tide.api import kinds
from tide.kube.resources import resource_type
from tide.notification.receiver import ReceiverPipeline
from tide.runtime.manager import Manager

__all__ = ["COMPONENT", "RECEIVER", "setup"]

COMPONENT = kinds.NOTIFICATION_CONTROLLER
"""Name in events' ``reportingController`` and in ``managedFields``, as Flux's controller."""
RECEIVER = resource_type("Receiver")


def setup(manager: Manager) -> None:
    """Register the Receiver controller with ``manager``."""
    manager.add_object_controller(RECEIVER, ReceiverPipeline(manager.client))
