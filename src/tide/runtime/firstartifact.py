"""Keep a consumer quiet while its source fetches its first artifact.

A Kustomization applied together with its GitRepository usually reaches the controller before
the first clone has finished. Reporting ``ArtifactFailed`` ("Source … is not ready, artifact
not found") then costs a status write and an event per object, and a second reconcile that
overwrites both moments later. Instead the consumer waits, writing nothing, on the source's
watch (:func:`tide.runtime.predicates.artifact_changed` wakes it when the artifact appears).
Only a wait that lasts past ``grace``, or a source that has already failed (``Ready=False``),
is reported, once: later retries find the same verdict in place and write nothing.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

from tide.api import conditions, reasons
from tide.runtime.steps import Waiting

__all__ = ["FirstArtifactWait"]


class FirstArtifactWait:
    """Remember since when each consumer has waited on a source without an artifact.

    Args:
        grace: seconds a consumer waits unreported (Flux's ``--requeue-dependency``, 30 s by
            default, the time Flux itself waits before looking at such a source again).
    """

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._since: dict[Hashable, float] = {}

    def hold(self, key: Hashable, waiting: Waiting, source: Mapping[str, Any] | None) -> Waiting:
        """Return ``waiting`` made silent while the grace lasts, or ``waiting`` itself.

        Args:
            key: the consumer (namespace, name).
            waiting: the wait to report once the grace is over.
            source: the source object as cached; None (not found) is reported at once, as is
                a source whose ``Ready`` is False (its failure is worth showing now).
        """
        ready = conditions.find((source or {}).get("status") or {}, reasons.READY)
        if source is None or (ready or {}).get("status") == "False":
            return waiting
        now = time.monotonic()
        left = self._grace - (now - self._since.setdefault(key, now))
        if left <= 0:
            return waiting
        return replace(waiting, retry_after=left, silent=True)

    def forget(self, key: Hashable) -> None:
        """Drop ``key``: its source has an artifact, or it is gone."""
        self._since.pop(key, None)
