"""Apply rendered install manifests with server-side apply and wait until they serve."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from tide.install.manifests import InstallOptions, render
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper

__all__ = ["apply_documents", "install_crds"]


async def apply_documents(
    client: KubeClient, documents: Iterable[dict[str, Any]], *, timeout: float = 60.0
) -> None:
    """Apply ``documents`` in order; wait for each CRD to be Established before going on."""
    mapper = RESTMapper(client)
    for document in documents:
        rt = await mapper.resource_type(document["apiVersion"], document["kind"])
        await client.apply(rt, document)
        if document["kind"] == "CustomResourceDefinition":
            await _wait_established(client, document["metadata"]["name"], timeout=timeout)


async def install_crds(client: KubeClient, *, timeout: float = 60.0) -> list[str]:
    """Apply every CRD Tide serves and wait until each is Established; return their names."""
    crds = [doc for doc in render(InstallOptions()) if doc["kind"] == "CustomResourceDefinition"]
    for crd in crds:
        await client.apply(resources.CRD, crd)
    names = [crd["metadata"]["name"] for crd in crds]
    for name in names:
        await _wait_established(client, name, timeout=timeout)
    return names


async def _wait_established(client: KubeClient, name: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _established(await client.get(resources.CRD, name)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"CRD {name} not established after {timeout:.0f}s")
        await asyncio.sleep(0.2)


def _established(crd: dict[str, Any]) -> bool:
    for condition in (crd.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Established":
            return condition.get("status") == "True"
    return False
