"""Record Kubernetes Events about our objects, aggregated the way ``kubectl describe`` expects.

A repeated event (same object, type, reason and message) within the aggregation window bumps the
existing Event's ``count`` instead of creating another. Other sinks (the notification dispatcher)
subscribe with :meth:`EventRecorder.subscribe` and receive every event in Flux's JSON shape.
"""

from __future__ import annotations

import collections
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeNotFound
from tide.runtime import logfields

__all__ = ["EventRecorder", "EventSink"]

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], Awaitable[None]]
"""Receives one event as Flux's notification JSON (involvedObject, severity, reason…)."""

_MAX_RECENT = 4096
"""Aggregation entries kept (client-go's event correlator keeps as many)."""
_AGGREGATE_WINDOW = 600.0
"""Seconds within which an identical event bumps the count of the previous one."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Create Events as ``component`` and fan them out to subscribed sinks.

    Args:
        client: where Events are written.
        component: ``source.component`` / ``reportingController`` (e.g. "kustomize-controller").
        instance: ``reportingInstance`` (the process's identity).
    """

    def __init__(self, client: KubeClient, *, component: str, instance: str) -> None:
        self._client = client
        self.component = component
        self.instance = instance
        self._recent: collections.OrderedDict[tuple[str, str, str, str], tuple[str, int, float]]
        self._recent = collections.OrderedDict()
        self._sinks: list[EventSink] = []

    def subscribe(self, sink: EventSink) -> None:
        """Send every future event to ``sink`` as well."""
        self._sinks.append(sink)

    async def record(
        self,
        obj: Mapping[str, Any],
        *,
        type: Literal["Normal", "Warning"],
        reason: str,
        message: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Record one event about ``obj``; failures to write are logged, never raised.

        The event is also a line of the controller's log (info, or error for a Warning), about
        ``obj``, as Flux's controllers log theirs: the log then tells each reconcile's outcome.
        """
        level = logging.ERROR if type == "Warning" else logging.INFO
        log.log(level, "%s: %s", reason, message, extra=logfields.about(obj))
        try:
            await self._write(obj, type=type, reason=reason, message=message)
        except KubeError as error:
            log.warning("could not record event %s on %s: %s", reason, _ref(obj), error)
        payload = self._notification(
            obj, type=type, reason=reason, message=message, metadata=metadata
        )
        for sink in self._sinks:
            try:
                await sink(payload)
            except Exception:
                log.exception("event sink failed for %s", _ref(obj))

    async def _write(self, obj: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), type, reason, message)
        now = _now()
        previous = self._recent.get(key)
        if previous and time.monotonic() - previous[2] < _AGGREGATE_WINDOW:
            name, count, _ = previous
            try:
                await self._client.patch_merge(
                    resources.EVENT,
                    name,
                    {"count": count + 1, "lastTimestamp": now},
                    namespace=namespace,
                )
                self._remember(key, (name, count + 1, time.monotonic()))
                return
            except KubeNotFound:
                pass  # expired (event TTL); create a fresh one
        name = f"{meta['name']}.{secrets.token_hex(8)}"
        await self._client.create(
            resources.EVENT,
            {
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": _involved(obj),
                "type": type,
                "reason": reason,
                "message": message,
                "source": {"component": self.component},
                "reportingComponent": self.component,
                "reportingInstance": self.instance,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
            },
        )
        self._remember(key, (name, 1, time.monotonic()))

    def _remember(self, key: tuple[str, str, str, str], entry: tuple[str, int, float]) -> None:
        """Keep at most ``_MAX_RECENT`` aggregation entries, dropping the least recent."""
        self._recent[key] = entry
        self._recent.move_to_end(key)
        while len(self._recent) > _MAX_RECENT:
            self._recent.popitem(last=False)

    def _notification(
        self,
        obj: Mapping[str, Any],
        *,
        type: str,
        reason: str,
        message: str,
        metadata: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        return {
            "involvedObject": _involved(obj),
            "severity": "error" if type == "Warning" else "info",
            "timestamp": _now(),
            "message": message,
            "reason": reason,
            "metadata": dict(metadata or {}),
            "reportingController": self.component,
            "reportingInstance": self.instance,
        }


def _involved(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "name": meta["name"],
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }


def _ref(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{obj.get('kind')}/{meta.get('namespace')}/{meta.get('name')}"
