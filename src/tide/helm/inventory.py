"""``status.inventory`` of a HelmRelease: the objects Helm's manifest for the release holds.

Read from the release's stored manifest (hooks and test hooks are not part of it), in the
Kustomization's inventory format (``<ns>_<name>_<group>_<kind>`` and the version), so tools
that list what a Flux object owns (``flux tree``, dashboards) read a release the same way.
"""

from __future__ import annotations

from typing import Any

from tide import yamlio
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.ssa.changeset import object_id

__all__ = ["entries"]


async def entries(manifest: str, namespace: str, mapper: RESTMapper) -> list[dict[str, str]]:
    """Return the inventory entries of ``manifest``, sorted by id.

    Args:
        manifest: the release's rendered manifest (YAML documents).
        namespace: the release namespace, given to namespaced objects that name none (as
            Helm does when it applies them).
        mapper: tells namespaced kinds from cluster-scoped ones.
    """
    found: dict[str, dict[str, str]] = {}
    for document in yamlio.load_all(manifest):
        if not isinstance(document, dict) or not document.get("kind"):
            continue
        metadata: dict[str, Any] = dict(document.get("metadata") or {})
        try:
            namespaced = (await mapper.for_object(document)).namespaced
        except UnknownKind:  # a kind the cluster does not serve (yet): trust the manifest
            namespaced = bool(metadata.get("namespace"))
        metadata["namespace"] = (metadata.get("namespace") or namespace) if namespaced else ""
        identity = object_id({**document, "metadata": metadata})
        version = str(document.get("apiVersion", "")).rpartition("/")[2]
        found[identity] = {"id": identity, "v": version}
    return [found[key] for key in sorted(found)]
