"""Apply rendered install manifests with server-side apply and wait until they serve.

Re-applying upgrades in place: server-side apply with ``force`` takes over fields another
manager set (an earlier ``flux install``, a ``kubectl apply``), and an object whose content did
not change keeps its ``resourceVersion`` — so a second run reports every object unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tide.install.manifests import InstallOptions, render
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.resources import ResourceType

__all__ = ["Action", "Applied", "apply_documents", "install_crds", "wait_available"]

DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")


class Action(StrEnum):
    """What applying one object did."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Applied:
    """One applied object: ``Kind/namespace/name`` and what happened to it."""

    kind: str
    name: str
    namespace: str | None
    action: Action

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name} {self.action}"


async def apply_documents(
    client: KubeClient, documents: Iterable[dict[str, Any]], *, timeout: float = 60.0
) -> list[Applied]:
    """Apply ``documents`` in order; wait for each CRD to be Established before going on.

    A CRD that another field manager wrote (Flux's own, on a cluster migrating from Flux) is
    first replaced whole with Tide's, keeping its ``status.storedVersions``: merging the two
    managers' schemas field by field would leave a schema neither wrote. Every version Flux
    stores is one Tide's CRDs serve, so no stored object becomes unreadable.
    """
    mapper = RESTMapper(client)
    applied = []
    for document in documents:
        rt = await mapper.resource_type(document["apiVersion"], document["kind"])
        meta = document["metadata"]
        namespace = meta.get("namespace") if rt.namespaced else None
        live = await client.get_or_none(rt, meta["name"], namespace=namespace)
        if (
            live is not None
            and document["kind"] == "CustomResourceDefinition"
            and _foreign(live, client.field_manager)
        ):
            await client.replace(rt, _replacing(live, document))
        result = await client.apply(rt, document)
        applied.append(Applied(document["kind"], meta["name"], namespace, _action(live, result)))
        if document["kind"] == "CustomResourceDefinition":
            await _wait_established(client, meta["name"], timeout=timeout)
    return applied


async def install_crds(client: KubeClient, *, timeout: float = 60.0) -> list[str]:
    """Apply every CRD Tide serves and wait until each is Established; return their names."""
    crds = [doc for doc in render(InstallOptions()) if doc["kind"] == "CustomResourceDefinition"]
    for crd in crds:
        await client.apply(resources.CRD, crd)
    names = [crd["metadata"]["name"] for crd in crds]
    for name in names:
        await _wait_established(client, name, timeout=timeout)
    return names


async def wait_available(
    client: KubeClient,
    documents: Iterable[dict[str, Any]],
    *,
    timeout: float = 300.0,
    progress: Callable[[list[str]], None] | None = None,
) -> None:
    """Wait until every Deployment in ``documents`` is Available with its current spec.

    Args:
        progress: called with the Deployments still waited on, each time they are checked.

    Raises:
        TimeoutError: naming the Deployments still not Available after ``timeout`` seconds.
    """
    waiting = [
        (doc["metadata"]["namespace"], doc["metadata"]["name"])
        for doc in documents
        if doc["kind"] == "Deployment"
    ]
    deadline = time.monotonic() + timeout
    while waiting:
        waiting = [
            (ns, name)
            for ns, name in waiting
            if not _available(await client.get(DEPLOYMENT, name, namespace=ns))
        ]
        if progress is not None:
            progress([name for _, name in waiting])
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{ns}/{name}" for ns, name in waiting)
            raise TimeoutError(f"Deployment(s) {names} not Available after {timeout:.0f}s")
        await asyncio.sleep(1.0)


def _available(deployment: dict[str, Any]) -> bool:
    status = deployment.get("status") or {}
    if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
        return False
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    if status.get("updatedReplicas", 0) < wanted or status.get("availableReplicas", 0) < wanted:
        return False
    return _condition(status, "Available") == "True"


def _foreign(live: dict[str, Any], field_manager: str) -> bool:
    """Tell whether a manager other than ``field_manager`` owns a CRD spec we did not write.

    A manager that owns exactly the spec fields we own applied the same schema: on a cluster
    bootstrapped from Git, the flux-system Kustomization applies Tide's own CRDs from
    ``gotk-components.yaml``. Replacing those would drop the Kustomization's labels and make
    the API server reinitialise the CRD's storage (every watch restarts) at each install.
    """
    entries = live["metadata"].get("managedFields") or ()
    ours = next(
        (
            (entry.get("fieldsV1") or {}).get("f:spec")
            for entry in entries
            if entry.get("manager") == field_manager
        ),
        None,
    )
    return any(
        entry.get("manager") != field_manager
        and "f:spec" in (entry.get("fieldsV1") or {})
        and entry["fieldsV1"]["f:spec"] != ours
        for entry in entries
    )


def _replacing(live: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    meta = {**document["metadata"], "resourceVersion": live["metadata"]["resourceVersion"]}
    return {**document, "metadata": meta}


def _action(live: dict[str, Any] | None, result: dict[str, Any]) -> Action:
    if live is None:
        return Action.CREATED
    if live["metadata"].get("resourceVersion") == result["metadata"].get("resourceVersion"):
        return Action.UNCHANGED
    return Action.CONFIGURED


async def _wait_established(client: KubeClient, name: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _condition((await client.get(resources.CRD, name)).get("status"), "Established") != (
        "True"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"CRD {name} not established after {timeout:.0f}s")
        await asyncio.sleep(0.2)


def _condition(status: dict[str, Any] | None, kind: str) -> str | None:
    for condition in (status or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return condition.get("status")
    return None
