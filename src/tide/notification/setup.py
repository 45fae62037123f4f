"""Wire the notification controller into a manager: which kinds it watches and reconciles."""

from __future__ import annotations

from tide.api.notification import Receiver
from tide.kube.resources import ResourceType
from tide.notification.receiver import ReceiverPipeline
from tide.runtime.controller import Controller
from tide.runtime.lifecycle import ObjectReconciler
from tide.runtime.manager import Manager

__all__ = ["COMPONENT", "RECEIVER", "setup"]

COMPONENT = "notification-controller"
"""Name in events' ``reportingController`` and in ``managedFields``, as Flux's controller."""
RECEIVER = ResourceType(Receiver.GROUP, Receiver.VERSION, Receiver.KIND, "receivers")


def setup(manager: Manager) -> None:
    """Register the Receiver controller with ``manager``."""
    reconciler = ObjectReconciler(
        rt=RECEIVER,
        client=manager.client,
        cache=manager.cache_for(RECEIVER),
        recorder=manager.recorder(COMPONENT),
        pipeline=ReceiverPipeline(manager.client),
    )
    controller = Controller("receiver", reconciler, workers=manager.options.workers)
    manager.watch(RECEIVER, controller)
    manager.add_controller(controller)
