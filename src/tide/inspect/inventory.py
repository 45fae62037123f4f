"""Read a Kustomization's or HelmRelease's ``status.inventory`` back into object references.

``tide tree`` prints the result as a tree and the dashboard draws it; both read it here.

The controllers write every object they manage as an id ``<namespace>_<name>_<group>_<kind>``
(:class:`tide.kube.ssa.changeset.ObjectRef`, which also reads it back) and its version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tide.inspect.why import Fetch
from tide.kube.ssa.changeset import ObjectRef

__all__ = ["EXPANDED", "Node", "entries_of", "tree_of"]


def entries_of(obj: Mapping[str, Any]) -> list[ObjectRef]:
    """Return the objects in ``obj``'s ``status.inventory``, in the order stored.

    Raises:
        ValueError: an entry's id is not an inventory id.
    """
    inventory = (obj.get("status") or {}).get("inventory") or {}
    return [ObjectRef.parse(str(entry.get("id", ""))) for entry in inventory.get("entries") or ()]


EXPANDED = frozenset(
    {
        ("kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("helm.toolkit.fluxcd.io", "HelmRelease"),
    }
)
"""Managed kinds whose own inventory is shown beneath them."""

_MAX_DEPTH = 20
"""How deep nested inventories are followed (a cycle of Kustomizations managing each other)."""


@dataclass(frozen=True)
class Node:
    """One managed object in an inventory tree, with what it manages in turn."""

    ref: ObjectRef | None
    """The object; None for a line that reports an unreadable inventory."""
    children: tuple[Node, ...] = ()
    error: str = ""
    """Why this inventory could not be read (``ref`` is then None)."""

    @property
    def label(self) -> str:
        """Return ``Kind/namespace/name`` (or the error)."""
        return self.ref.subject if self.ref is not None else self.error


async def tree_of(fetch: Fetch, obj: Mapping[str, Any], *, depth: int = 0) -> tuple[Node, ...]:
    """Return ``obj``'s inventory as a tree, expanding managed Kustomizations and HelmReleases.

    Args:
        fetch: reads a managed Kustomization or HelmRelease (None when it is gone).
        obj: the Kustomization or HelmRelease whose inventory is read.
        depth: how deep this call is (nested inventories stop at 20).
    """
    try:
        entries = entries_of(obj)
    except ValueError as error:
        return (Node(None, error=str(error)),)
    nodes = []
    for ref in entries:
        children: tuple[Node, ...] = ()
        if (ref.group, ref.kind) in EXPANDED and depth < _MAX_DEPTH:
            child = await fetch(ref.kind, ref.name, ref.namespace)
            if child is not None:
                children = await tree_of(fetch, child, depth=depth + 1)
        nodes.append(Node(ref, children))
    return tuple(nodes)
