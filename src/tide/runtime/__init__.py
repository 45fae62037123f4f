"""Controller runtime: run reconcilers with queues, backoff, caches, leader election and probes.

Layers, as in controller-runtime: :mod:`~tide.runtime.reconcile` is the contract a reconciler
implements (it knows nothing of queues); :mod:`~tide.runtime.controller` drives one reconciler;
:mod:`~tide.runtime.manager` runs many, with shared caches and leader election;
:mod:`~tide.runtime.lifecycle` is the Flux-object shell (finalizer, suspend, requestedAt, status);
:mod:`~tide.runtime.acl` is the rule every kind applies to references into other namespaces.
"""

from tide.runtime.acl import AccessDenied, ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.lifecycle import ObjectReconciler
from tide.runtime.manager import CacheSyncTimeout, LeadershipLost, Manager, ManagerOptions
from tide.runtime.reconcile import Reconciler, Request, Result, TerminalError
from tide.runtime.steps import (
    Outcome,
    Pipeline,
    Progress,
    Stalled,
    StepFailed,
    Succeeded,
    Waiting,
)

__all__ = [
    "AccessDenied",
    "CacheSyncTimeout",
    "Controller",
    "LeadershipLost",
    "Manager",
    "ManagerOptions",
    "ObjectReconciler",
    "Outcome",
    "Pipeline",
    "Progress",
    "Reconciler",
    "ReferencePolicy",
    "Request",
    "Result",
    "Stalled",
    "StepFailed",
    "Succeeded",
    "TerminalError",
    "Waiting",
]
