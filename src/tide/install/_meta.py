"""Labels and object headers shared by every rendered install object.

Flux labels everything it installs with ``app.kubernetes.io/part-of: flux``, the namespace as
``app.kubernetes.io/instance`` and its version; ``flux check`` and ``tide uninstall`` find
the objects by these labels, so Tide uses the same keys.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PART_OF", "labels", "metadata"]

PART_OF = "flux"
"""``app.kubernetes.io/part-of`` on every installed object (Flux's value, which tools read)."""


def labels(namespace: str, version: str, component: str | None = None) -> dict[str, str]:
    """Return the labels of an object installed into ``namespace`` (with its component)."""
    found = {
        "app.kubernetes.io/instance": namespace,
        "app.kubernetes.io/part-of": PART_OF,
        # Flux's spelling, ``v2.4.0``, which the CRDs crdgen writes carry too: ``flux check``
        # reads it off the GitRepository CRD.
        "app.kubernetes.io/version": version if version.startswith("v") else f"v{version}",
    }
    if component:
        found["app.kubernetes.io/component"] = component
    return found


def metadata(
    name: str,
    *,
    namespace: str,
    version: str,
    component: str | None = None,
    namespaced: bool = True,
) -> dict[str, Any]:
    """Return ``metadata`` for an installed object; cluster-scoped ones get no namespace."""
    found: dict[str, Any] = {"name": name}
    if namespaced:
        found["namespace"] = namespace
    found["labels"] = labels(namespace, version, component)
    return found
