"""List and watch objects' metadata only (``PartialObjectMetadata``), not the objects.

Knowing whether anything changed needs only ``resourceVersion``; a full list of thousands of
Deployments would cross the wire and sit in memory for nothing. The API server sends metadata
alone when asked through the ``Accept`` header (what client-go's metadata informers do).
lightkube has no such request, so these go through the client's own HTTP connection, as
:meth:`KubeClient.get_json` does; call them as :meth:`KubeClient.list_metadata` and
:meth:`KubeClient.watch_metadata`, which test doubles can stand in for.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx2

from tide.api.selectors import Operator, Requirement
from tide.kube.errors import KubeError, KubeGone, translate
from tide.kube.resources import ResourceType

if TYPE_CHECKING:  # the client's methods call these; importing it here would be circular
    from tide.kube.client import KubeClient, WatchEvent

__all__ = ["collection_path", "list_metadata", "selector_text", "watch_metadata"]

_AS_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
_AS_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
_PAGE = 500
"""Objects per list page, so a kind with thousands of objects is read in bounded pieces."""
_WATCH_SECONDS = 290
"""The API server closes a watch after this long; the caller resumes it from where it was."""
_WATCH_TIMEOUT = httpx2.Timeout(30.0, read=_WATCH_SECONDS + 30.0)
"""A watch may be quiet for its whole life, but not past the server's own end of it."""


def collection_path(rt: ResourceType, namespace: str | None = None) -> str:
    """Return the API path of ``rt``'s collection, in ``namespace`` or across all."""
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    if rt.namespaced and namespace:
        return f"{prefix}/namespaces/{namespace}/{rt.plural}"
    return f"{prefix}/{rt.plural}"


def selector_text(labels: Mapping[str, str] | None, selector: tuple[Requirement, ...]) -> str:
    """Return the ``labelSelector`` query value for ``labels`` and ``selector``."""
    parts = [f"{key}={value}" for key, value in (labels or {}).items()]
    for requirement in selector:
        key, values = requirement.key, ",".join(requirement.values)
        parts.append({
            Operator.EQUALS: f"{key}={values}",
            Operator.NOT_EQUALS: f"{key}!={values}",
            Operator.IN: f"{key} in ({values})",
            Operator.NOT_IN: f"{key} notin ({values})",
            Operator.EXISTS: key,
            Operator.DOES_NOT_EXIST: f"!{key}",
        }[requirement.operator])  # fmt: skip
    return ",".join(parts)


async def list_metadata(
    client: KubeClient,
    rt: ResourceType,
    *,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    selector: tuple[Requirement, ...] = (),
) -> tuple[list[dict[str, Any]], str]:
    """Return the metadata of every matching object (``{"metadata": …}`` each) and the
    list's resourceVersion, to start :func:`watch_metadata` from."""
    params: dict[str, Any] = {"limit": _PAGE}
    if query := selector_text(labels, selector):
        params["labelSelector"] = query
    path = collection_path(rt, namespace)
    items: list[dict[str, Any]] = []
    while True:
        page = await _get(client, path, params)
        items.extend(page.get("items") or [])
        listed = page.get("metadata") or {}
        if not listed.get("continue"):
            return items, str(listed.get("resourceVersion") or "")
        params["continue"] = listed["continue"]


async def watch_metadata(
    client: KubeClient,
    rt: ResourceType,
    *,
    resource_version: str,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    selector: tuple[Requirement, ...] = (),
) -> AsyncIterator[WatchEvent]:
    """Yield metadata-only changes after ``resource_version`` until the server ends the watch.

    Bookmarks are not yielded. Raises KubeGone when ``resource_version`` is too old.
    """
    params: dict[str, Any] = {
        "watch": "true",
        "resourceVersion": resource_version,
        "timeoutSeconds": _WATCH_SECONDS,
        "allowWatchBookmarks": "true",
    }
    if query := selector_text(labels, selector):
        params["labelSelector"] = query
    http = client._http()
    headers = {"Accept": _AS_ONE}
    path = collection_path(rt, namespace)
    try:
        async with http.stream(
            "GET", path, params=params, headers=headers, timeout=_WATCH_TIMEOUT
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    raise _watch_error(obj)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    yield kind, obj
    except KubeError:
        raise
    except Exception as error:
        raise translate(error) from error


async def _get(client: KubeClient, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
    try:
        response = await client._http().get(path, params=dict(params), headers={"Accept": _AS_LIST})
        response.raise_for_status()
    except Exception as error:
        raise translate(error) from error
    return response.json()


def _watch_error(status: Mapping[str, Any]) -> KubeError:
    """The error a watch's ``ERROR`` event carries (a Status): 410 means list again."""
    code = int(status.get("code") or 0)
    message = str(status.get("message") or "watch failed")
    return KubeGone(message, status=code) if code == 410 else KubeError(message, status=code)
