"""Decide whether a server-side apply would change anything, from its dry-run result.

The dry run returns the object as it would be stored: defaults filled in, other managers' fields
kept. Comparing it with the live object, minus what the server changes on every write anyway,
tells ``configured`` from ``unchanged`` — and an unchanged object is not written at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["IGNORED_METADATA", "has_drifted", "normalise"]

IGNORED_METADATA = (
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
)
"""Metadata the server maintains itself; it differs between a dry run and the live object."""


def normalise(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``obj`` without status and server-maintained metadata."""
    result = copy.deepcopy(dict(obj))
    result.pop("status", None)
    metadata = result.get("metadata") or {}
    for key in IGNORED_METADATA:
        metadata.pop(key, None)
    for key in ("labels", "annotations"):
        if key in metadata and not metadata[key]:
            del metadata[key]
    return result


def has_drifted(live: Mapping[str, Any] | None, dry_run: Mapping[str, Any]) -> bool:
    """Whether applying would change ``live`` (a missing object always would)."""
    if live is None:
        return True
    return normalise(live) != normalise(dry_run)
