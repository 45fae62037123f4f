"""Which watch events deserve a reconcile, so the controller's own status writes do not loop.

:func:`changed` decides for an object's own controller; :func:`artifact_changed` for the
controllers that consume a source's artifact (Kustomizations, HelmCharts, generators, Git
includes), so every consumer wakes on the same change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tide.api.keys import REQUESTED_AT
from tide.kube.cache import Handler, WatchCache, object_key
from tide.runtime.reconcile import Request

if TYPE_CHECKING:
    from tide.runtime.controller import Controller

__all__ = ["Refers", "artifact_changed", "changed", "on_artifact_change", "requeue_consumers"]

Refers = Callable[[dict[str, Any], dict[str, Any]], bool]
"""``refers(consumer, source)``: whether a consumer object reads that source object."""


def changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Tell whether ``new`` needs a reconcile: new, new generation, new requestedAt, deleting.

    Status-only updates (ours included) keep the generation, so they are filtered out here; that
    is what makes a ``requestedAt`` annotation trigger exactly one reconcile.
    """
    if old is None:
        return True
    old_meta, new_meta = old["metadata"], new["metadata"]
    if old_meta.get("generation") != new_meta.get("generation"):
        return True
    if new_meta.get("deletionTimestamp") and not old_meta.get("deletionTimestamp"):
        return True
    old_requested = (old_meta.get("annotations") or {}).get(REQUESTED_AT)
    return (new_meta.get("annotations") or {}).get(REQUESTED_AT) != old_requested


def artifact_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Tell whether a source's ``status.artifact`` appeared, went, or got a new revision or digest.

    A new digest under the same revision counts (the same commit packaged with other ``ignore``
    rules or includes is another artifact); a deleted source with an artifact counts as its
    artifact going. Status writes that leave the artifact alone (conditions, observed fields) do
    not count.
    """
    return _artifact_identity(old) != _artifact_identity(new)


def _artifact_identity(obj: dict[str, Any] | None) -> tuple[Any, Any]:
    artifact = ((obj or {}).get("status") or {}).get("artifact") or {}
    return artifact.get("revision"), artifact.get("digest")


def on_artifact_change(
    consumers: WatchCache,
    controller: Controller,
    refers: Refers,
) -> Handler:
    """Return a source cache handler that reconciles the consumers of a changed artifact.

    Args:
        consumers: the cache of the consuming kind (Kustomizations, HelmCharts…).
        controller: the consuming kind's controller; each consumer found is enqueued.
        refers: ``refers(consumer, source)`` tells whether a consumer reads that source (and may:
            a reference policy that keeps it out stays out here too).
    """

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        source = new or old
        if source is None or not artifact_changed(old, new):
            return
        for consumer in consumers.scan():
            if refers(consumer, source):
                controller.enqueue(Request(*object_key(consumer)))

    return handle


def requeue_consumers(
    sources: Mapping[str, WatchCache],
    consumers: WatchCache,
    controller: Controller,
    refers: Callable[[str], Refers],
) -> None:
    """Wake ``controller``'s consumers whenever the artifact of a source of any kind changes.

    Args:
        sources: the watch cache of each source kind a consumer may name, by kind.
        consumers: the cache of the consuming kind.
        controller: the consuming kind's controller.
        refers: ``refers(kind)`` returns the test of :func:`on_artifact_change` for that kind.
    """
    for kind, cache in sources.items():
        cache.add_handler(on_artifact_change(consumers, controller, refers(kind)))
