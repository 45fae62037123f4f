"""``status.history``: the last distinct sets of objects a Kustomization applied, how each went.

A snapshot is keyed by the digest of the built manifests. A reconcile of the same set with the
same outcome leaves the history as it is — unlike Flux, which stamps every reconcile — so an
idle Kustomization still makes no writes; a new outcome (it failed, it recovered) or a new set
updates it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAX_SNAPSHOTS", "digest", "record"]

MAX_SNAPSHOTS = 5
"""Snapshots kept, newest first (Flux keeps five)."""


def digest(objects: Sequence[dict[str, Any]]) -> str:
    """Return ``sha256:<hex>`` over the manifests, independent of key order."""
    encoded = json.dumps(list(objects), sort_keys=True, separators=(",", ":")).encode()
    return f"sha256:{hashlib.sha256(encoded).hexdigest()}"


def record(
    status: dict[str, Any],
    *,
    objects_digest: str,
    revision: str,
    outcome: str,
    seconds: float,
    changed: bool,
    now: datetime | None = None,
) -> None:
    """Put this reconcile's outcome into ``status["history"]``.

    Args:
        status: the Kustomization's status, changed in place.
        objects_digest: :func:`digest` of the applied manifests.
        revision: the source revision they came from (kept in the snapshot's metadata).
        outcome: the Ready reason (``ReconciliationSucceeded``, ``HealthCheckFailed``…).
        seconds: how long the reconcile took.
        changed: whether any object was created, configured or deleted.
        now: the time to record. Default: the current time.
    """
    history: list[dict[str, Any]] = list(status.get("history") or [])
    current = next((s for s in history if s.get("digest") == objects_digest), None)
    if current is not None and current.get("lastReconciledStatus") == outcome and not changed:
        return
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if current is None:
        current = {"digest": objects_digest, "firstReconciled": stamp, "totalReconciliations": 0}
    else:
        history.remove(current)
    current.update(
        {
            "lastReconciled": stamp,
            "lastReconciledDuration": f"{seconds:.3f}s",
            "lastReconciledStatus": outcome,
            "totalReconciliations": int(current.get("totalReconciliations") or 0) + 1,
            "metadata": {"revision": revision},
        }
    )
    status["history"] = [current, *history][:MAX_SNAPSHOTS]
