"""Which watch events deserve a reconcile, so the controller's own status writes do not loop."""

from __future__ import annotations

from typing import Any

from tide.api.keys import REQUESTED_AT

__all__ = ["changed"]


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
