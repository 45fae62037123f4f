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
from typing import Any

from tide.install.manifests import InstallOptions, render
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.resources import ResourceType
from tide.kube.retry import served
from tide.kube.ssa import Action

__all__ = ["Applied", "apply_documents", "install_crds", "wait_available"]

_MERGED = frozenset({"Namespace", "Service"})
"""Kinds applied over whatever is there instead of replaced when another manager wrote them."""


@dataclass(frozen=True)
class Applied:
    """One applied object: ``Kind/namespace/name`` and what happened to it (created,
    configured or unchanged)."""

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

    An object another field manager wrote (Flux's own CRDs and Deployments, on a cluster
    migrating from Flux) is first replaced whole with Tide's, then owned by Tide alone:
    server-side apply would merge the two managers' fields — a CRD schema neither wrote, Flux's
    events port beside Tide's under one port name. A CRD keeps its ``status.storedVersions``;
    every version Flux stores is one Tide's CRDs serve, so no stored object becomes unreadable.
    Namespaces and Services are merged, not replaced: a Service's cluster IP is kept that way,
    and Flux's Services already have Tide's ports.
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
            and document["kind"] not in _MERGED
            and _foreign(live, document, client.field_manager)
        ):
            await client.replace(rt, _replacing(live, document))
            result = await _own_alone(client, rt, await client.apply(rt, document))
        else:
            result = await client.apply(rt, document)
        applied.append(Applied(document["kind"], meta["name"], namespace, _action(live, result)))
        if document["kind"] == "CustomResourceDefinition":
            await _wait_established(client, meta["name"], timeout=timeout)
            kind = _served_kind(document)
            await served(lambda kind=kind: client.list(kind))
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
            if not _available(await client.get(resources.DEPLOYMENT, name, namespace=ns))
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


def _served_kind(crd: dict[str, Any]) -> ResourceType:
    spec = crd["spec"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    return ResourceType(
        spec["group"], storage, spec["names"]["kind"], spec["names"]["plural"], namespaced
    )


def _foreign(live: dict[str, Any], document: dict[str, Any], field_manager: str) -> bool:
    """Tell whether a manager other than ``field_manager`` owns what ``document`` sets
    besides metadata (``spec``, ``rules``, ``subjects``...); status writers do not count.

    A manager owning exactly the fields we own there applied the same content: on a cluster
    bootstrapped from Git, the flux-system Kustomization applies Tide's own manifests from
    ``gotk-components.yaml``. Taking those over would fight it at every install: replacing
    drops the Kustomization's labels and claims, and a replaced CRD has its storage
    reinitialised (every watch of its kind restarts).
    """
    keys = {f"f:{key}" for key in document} - {"f:apiVersion", "f:kind", "f:metadata", "f:status"}
    entries = [e for e in live["metadata"].get("managedFields") or () if not e.get("subresource")]

    def owned(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in (entry.get("fieldsV1") or {}).items() if k in keys}

    ours = next((owned(e) for e in entries if e.get("manager") == field_manager), None)
    return any(
        entry.get("manager") != field_manager and owned(entry) and owned(entry) != ours
        for entry in entries
    )


async def _own_alone(client: KubeClient, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """Drop every other manager's claim on a taken-over object (they co-own equal values), so
    a later ``flux install`` meets a conflict instead of quietly sharing the object with Tide.
    Status writers (the ``status`` subresource's managers) keep theirs.
    """
    meta = obj["metadata"]
    kept = [
        entry
        for entry in meta.get("managedFields") or ()
        if entry.get("subresource")
        or (entry.get("manager") == client.field_manager and entry.get("operation") == "Apply")
    ]
    return await client.patch_merge(
        rt, meta["name"], {"metadata": {"managedFields": kept}}, namespace=meta.get("namespace")
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
