"""Map ``apiVersion`` + ``kind`` to where the kind lives, by asking the API server.

Manifests name a kind; the API wants a plural and a scope. Only the server knows those for
custom resources, so the mapper reads discovery (``/api/v1``, ``/apis/<group>/<version>``) one
group-version at a time, caches it, and reads it again on a miss: a CRD applied a moment ago is
found on the next lookup without restarting anything.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeNotFound
from tide.kube.resources import ResourceType

__all__ = ["RESTMapper", "UnknownKind", "parse_resource_list"]


class UnknownKind(KubeError):
    """The API server serves no such kind at that apiVersion (a missing CRD, a typo)."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(
            f"no matches for kind {kind!r} in version {api_version!r}: "
            "the API server does not serve it (is its CustomResourceDefinition installed?)",
            status=404,
            reason="NotFound",
        )
        self.api_version = api_version
        self.kind = kind


def _discovery_path(api_version: str) -> str:
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


def parse_resource_list(api_version: str, document: dict[str, Any]) -> dict[str, ResourceType]:
    """Return the kinds one ``APIResourceList`` document serves, by kind (subresources skipped)."""
    group, _, version = api_version.rpartition("/")
    found: dict[str, ResourceType] = {}
    for resource in document.get("resources") or []:
        name = resource.get("name", "")
        if "/" in name or not resource.get("kind"):
            continue
        found[resource["kind"]] = ResourceType(
            group, version, resource["kind"], name, namespaced=bool(resource.get("namespaced"))
        )
    return found


class RESTMapper:
    """Find the :class:`ResourceType` of ``(apiVersion, kind)``; cached, refreshed on a miss.

    Args:
        client: the client whose API server is asked.
    """

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._cache: dict[str, dict[str, ResourceType]] = {}
        self._lock = asyncio.Lock()

    async def resource_type(self, api_version: str, kind: str) -> ResourceType:
        """Return where ``kind`` at ``api_version`` lives.

        A miss (unknown group-version, or a kind not yet in it) reads that group-version's
        discovery again once before giving up.

        Raises:
            UnknownKind: the server serves no such kind at that version.
            KubeError: discovery itself failed (unreachable, forbidden).
        """
        cached = self._cache.get(api_version, {}).get(kind)
        if cached is not None:
            return cached
        async with self._lock:
            found = await self._refresh(api_version)
        if kind not in found:
            raise UnknownKind(api_version, kind)
        return found[kind]

    async def for_object(self, obj: dict[str, Any]) -> ResourceType:
        """Return the resource type of a manifest, from its ``apiVersion`` and ``kind``."""
        return await self.resource_type(obj.get("apiVersion", ""), obj.get("kind", ""))

    def invalidate(self) -> None:
        """Forget everything, e.g. after CRDs were deleted."""
        self._cache.clear()

    async def _refresh(self, api_version: str) -> dict[str, ResourceType]:
        try:
            document = await self._client.get_json(_discovery_path(api_version))
        except KubeNotFound:
            self._cache.pop(api_version, None)
            return {}
        found = parse_resource_list(api_version, document)
        self._cache[api_version] = found
        return found
