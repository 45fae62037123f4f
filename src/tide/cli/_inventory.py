"""Read a Kustomization's or HelmRelease's ``status.inventory`` back into object references.

The controllers write every object they manage as an id ``<namespace>_<name>_<group>_<kind>``
(:class:`tide.kube.ssa.changeset.ObjectRef`, which also reads it back) and its version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tide.kube.ssa.changeset import ObjectRef

__all__ = ["entries_of"]


def entries_of(obj: Mapping[str, Any]) -> list[ObjectRef]:
    """Return the objects in ``obj``'s ``status.inventory``, in the order stored.

    Raises:
        ValueError: an entry's id is not an inventory id.
    """
    inventory = (obj.get("status") or {}).get("inventory") or {}
    return [ObjectRef.parse(str(entry.get("id", ""))) for entry in inventory.get("entries") or ()]
