"""Read ``status.inventory`` entries (``<namespace>_<name>_<group>_<kind>``) back into objects.

The Kustomization and HelmRelease controllers write every object they manage as one id and its
version. Kubernetes names and namespaces cannot hold ``_`` and groups cannot either, so the id
splits into exactly four parts; an empty namespace is a cluster-scoped object, an empty group the
core group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ObjectRef", "entries_of"]


@dataclass(frozen=True)
class ObjectRef:
    """One object an inventory names."""

    namespace: str
    name: str
    group: str
    kind: str
    version: str

    @property
    def api_version(self) -> str:
        """Return ``group/version`` (just the version for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind}/{self.name}")
        )


def entries_of(obj: Mapping[str, Any]) -> list[ObjectRef]:
    """Return the objects in ``obj``'s ``status.inventory``, in the order stored.

    Raises:
        ValueError: an entry's id is not of the form ``<ns>_<name>_<group>_<kind>``.
    """
    inventory = (obj.get("status") or {}).get("inventory") or {}
    refs = []
    for entry in inventory.get("entries") or ():
        parts = str(entry.get("id", "")).split("_")
        if len(parts) != 4 or not parts[1] or not parts[3]:
            raise ValueError(
                f"inventory entry {entry.get('id')!r} is not <ns>_<name>_<group>_<kind>"
            )
        namespace, name, group, kind = parts
        refs.append(ObjectRef(namespace, name, group, kind, str(entry.get("v", ""))))
    return refs
