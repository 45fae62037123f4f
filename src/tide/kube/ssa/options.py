"""Which per-object annotations a :class:`~tide.kube.ssa.ResourceManager` obeys.

The kube layer knows what the annotations mean (Flux's values: ``disabled``, ``Ignore``,
``IfNotPresent``, ``enabled``) but not what they are called: the owner's controller names the
keys, as fluxcd/pkg's apply and delete options carry their selectors. A key left at None turns
its behaviour off.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ManagerOptions"]


@dataclass(frozen=True)
class ManagerOptions:
    """Annotation keys the manager reads on each object it applies or deletes."""

    reconcile_annotation: str | None = None
    """``<key>: disabled`` keeps the object from being applied at all. Default: None (off)."""
    ssa_annotation: str | None = None
    """``<key>: Ignore`` skips the object; ``IfNotPresent`` only creates it. Default: None."""
    force_annotation: str | None = None
    """``<key>: enabled`` recreates the object when its immutable fields change. Default: None."""
    prune_annotation: str | None = None
    """``<key>: disabled`` keeps the object when its inventory entry is deleted. Default: None."""
