"""The dashboard's buttons: reconcile (optionally with its source), suspend, resume.

Each is the request ``tide reconcile | suspend | resume`` writes (:mod:`tide.inspect.requests`),
sent with the user's own client — so the API server, not the dashboard, decides — and recorded
as a Normal event on the object naming who asked, so ``kubectl describe`` and ``tide events``
show that a person, not the controller, started it. A button is shown only where the user's
``SelfSubjectAccessReview`` says ``patch`` is allowed (:meth:`offered`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from tide.api import reasons
from tide.api.kinds import KINDS
from tide.dashboard.access import Access
from tide.inspect import requests
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type
from tide.runtime.events import EventRecorder

__all__ = ["ACTIONS", "SOURCED", "ActionRefused", "Actions"]

ACTIONS = ("reconcile", "reconcile-with-source", "suspend", "resume")
"""What a row may offer, in the order shown."""

SOURCED = frozenset({"Kustomization", "HelmRelease"})
"""Kinds a reconcile "with source" applies to."""

_INFO = {info.kind: info for info in KINDS}


class ActionRefused(Exception):
    """The action does not apply to the object (suspended, unknown kind, or not allowed)."""


def _applicable(kind: str, obj: Mapping[str, Any]) -> list[str]:
    info = _INFO.get(kind)
    if info is None or kind in requests.UNRECONCILED:
        return []
    suspended = bool((obj.get("spec") or {}).get("suspend"))
    offered = []
    if not suspended:
        offered.append("reconcile")
        if kind in SOURCED:
            offered.append("reconcile-with-source")
    if requests.suspendable(info):
        offered.append("resume" if suspended else "suspend")
    return offered


class Actions:
    """Perform actions as the user, and say which ones the user may perform.

    Args:
        client: the user's client.
        access: the user's identity and rights.
    """

    def __init__(self, client: KubeClient, access: Access) -> None:
        self._client = client
        self._access = access
        self._recorder = EventRecorder(client, component="tide-dashboard", instance="dashboard")

    async def offered(self, kind: str, obj: Mapping[str, Any]) -> list[str]:
        """Return the actions the user may take on ``obj`` (none when RBAC forbids ``patch``)."""
        applicable = _applicable(kind, obj)
        namespace = (obj.get("metadata") or {}).get("namespace") or "default"
        if not applicable or not await self._access.may("patch", kind, namespace):
            return []
        return applicable

    async def perform(
        self,
        action: str,
        kind: str,
        name: str,
        namespace: str,
    ) -> str:
        """Do ``action`` on one object; return what was done, in one line.

        Raises:
            ActionRefused: the action does not apply, or the user may not do it.
            KubeError: the API server refused the request (its message says why).
        """
        if kind not in _INFO:
            raise ActionRefused(f"{kind!r} is not a Flux kind Tide serves")
        obj = await self._client.get(resource_type(kind), name, namespace=namespace)
        if action not in await self.offered(kind, obj):
            raise ActionRefused(f"{action} is not available on {kind}/{namespace}/{name}")
        user = await self._access.user()
        if action == "reconcile-with-source":
            source = requests.source_of(kind, obj)
            if source is not None and source[0] in _INFO:
                await self._request(source[0], source[2], source[1], user)
        if action.startswith("reconcile"):
            return await self._request(kind, namespace, name, user)
        suspend = action == "suspend"
        await requests.set_suspend(self._client, kind, name, namespace, suspend=suspend)
        reason = reasons.SUSPEND_REQUESTED if suspend else reasons.RESUME_REQUESTED
        done = "suspended" if suspend else "resumed"
        await self._record(kind, name, namespace, reason, f"{done} by {user} from the dashboard")
        return f"{kind}/{namespace}/{name} {done}"

    async def _request(self, kind: str, namespace: str, name: str, user: str) -> str:
        try:
            await requests.request_reconcile(self._client, kind, name, namespace)
        except requests.Suspended as error:
            raise ActionRefused(str(error)) from None
        message = f"reconcile requested by {user} from the dashboard"
        await self._record(kind, name, namespace, reasons.RECONCILE_REQUESTED, message)
        return f"{kind}/{namespace}/{name} reconcile requested"

    async def _record(
        self,
        kind: str,
        name: str,
        namespace: str,
        reason: str,
        message: str,
        *,
        type: Literal["Normal", "Warning"] = "Normal",
    ) -> None:
        obj = await self._client.get(resource_type(kind), name, namespace=namespace)
        await self._recorder.record(obj, type=type, reason=reason, message=message)
