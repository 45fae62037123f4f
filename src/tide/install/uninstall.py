"""Take Tide out of a cluster: controllers, finalizers, CRDs, RBAC and (optionally) its namespace.

The order is Flux's (``flux uninstall``): stop the controllers first so none puts a finalizer
back, then take ``finalizers.fluxcd.io`` off every Flux object so deleting the CRDs cannot hang
on an object no controller will finalize, then delete the CRDs (and with them every Flux object),
then the rest. Deleting a Deployment does not stop its pods at once (they finish their grace
period, reconciling and re-adding finalizers meanwhile), so uninstall waits until they are gone
before taking finalizers off, and takes them off again while it waits for the CRDs to go. What
the controllers applied — Deployments from a Kustomization, Helm releases — stays, as with
Flux: with the finalizers gone, deleting a Kustomization prunes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from tide.api.keys import FINALIZER
from tide.api.kinds import KINDS
from tide.install._meta import PART_OF
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.errors import KubeNotFound
from tide.kube.resources import ResourceType
from tide.kube.retry import served

__all__ = ["Removal", "uninstall"]

_RBAC = "rbac.authorization.k8s.io"
_OWN_OBJECTS = (  # what tide install creates besides CRDs, namespaced first
    ResourceType("", "v1", "Service", "services"),
    ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies"),
    resources.SERVICE_ACCOUNT,
    ResourceType(_RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    ResourceType(_RBAC, "v1", "ClusterRole", "clusterroles", namespaced=False),
)
_POLL = 0.5
"""Seconds between looks at the pods and CRDs still there."""


@dataclass(frozen=True)
class Removal:
    """One change uninstall makes (or, in a dry run, would make)."""

    kind: str
    name: str
    namespace: str | None = None
    what: str = "deleted"

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name} {self.what}"


async def uninstall(
    client: KubeClient,
    *,
    namespace: str = "flux-system",
    keep_namespace: bool = False,
    dry_run: bool = False,
    timeout: float = 120.0,
    report: Callable[[Removal], None] | None = None,
) -> list[Removal]:
    """Remove the installation in ``namespace``; return (and ``report``) each change.

    Args:
        keep_namespace: leave the namespace (and whatever else is in it) in place.
        dry_run: only list what would change; write nothing.
        timeout: seconds to wait for the controllers' pods to be gone, and again for the CRDs.

    Raises:
        TimeoutError: a CRD still exists after ``timeout`` (something else holds it).
    """
    done: list[Removal] = []

    def record(removal: Removal) -> None:
        done.append(removal)
        if report is not None:
            report(removal)

    own = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/instance": namespace}
    selectors = []
    for deployment in (await client.list(resources.DEPLOYMENT, namespace=namespace, labels=own))[0]:
        name = deployment["metadata"]["name"]
        if not dry_run:
            await client.delete(resources.DEPLOYMENT, name, namespace=namespace)
        record(Removal("Deployment", name, namespace))
        selectors.append(deployment["spec"]["selector"].get("matchLabels") or {})
    if not dry_run:
        await _wait_pods_gone(client, namespace, selectors, timeout=timeout)
    crds = [info for info in KINDS if await _exists(client, info.crd_name)]
    kinds = {info.crd_name: resources.resource_type(info.kind) for info in crds}
    for rt in kinds.values():
        await _drop_finalizers(client, rt, record, dry_run=dry_run)
    for info in crds:
        if not dry_run:
            await client.delete(resources.CRD, info.crd_name)
        record(Removal("CustomResourceDefinition", info.crd_name))
    if not dry_run:
        await _wait_gone(client, kinds, record, timeout=timeout)
    for rt in _OWN_OBJECTS:
        found, _ = await client.list(rt, namespace=namespace, labels=own)
        for obj in found:
            name = obj["metadata"]["name"]
            where = namespace if rt.namespaced else None
            if not dry_run:
                await client.delete(rt, name, namespace=where)
            record(Removal(rt.kind, name, where))
    if not keep_namespace and await client.get_or_none(resources.NAMESPACE, namespace):
        if not dry_run:
            await client.delete(resources.NAMESPACE, namespace)
        record(Removal("Namespace", namespace))
    return done


async def _exists(client: KubeClient, crd: str) -> bool:
    return await client.get_or_none(resources.CRD, crd) is not None


async def _drop_finalizers(
    client: KubeClient,
    rt: ResourceType,
    record: Callable[[Removal], None],
    *,
    dry_run: bool,
) -> None:
    """Take Tide's finalizer off every object of ``rt``, in every namespace."""
    for obj in (await served(lambda: client.list(rt)))[0]:
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if FINALIZER not in finalizers:
            continue
        if not dry_run:
            kept = [name for name in finalizers if name != FINALIZER]
            try:
                await client.patch_merge(
                    rt,
                    meta["name"],
                    {"metadata": {"finalizers": kept or None}},
                    namespace=meta.get("namespace"),
                )
            except KubeNotFound:  # deleted since it was listed: nothing left to hold
                continue
        record(Removal(rt.kind, meta["name"], meta.get("namespace"), "finalizer removed"))


async def _wait_pods_gone(
    client: KubeClient, namespace: str, selectors: list[dict[str, str]], *, timeout: float
) -> None:
    """Wait (at most ``timeout``) until no pod of the deleted Deployments is left.

    Past the bound uninstall goes on: :func:`_wait_gone` keeps taking finalizers off, so a pod
    that lingers longer delays the CRDs' deletion instead of blocking it.
    """
    deadline = time.monotonic() + timeout
    for labels in selectors:
        while labels and (await client.list(resources.POD, namespace=namespace, labels=labels))[0]:
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(_POLL)


async def _wait_gone(
    client: KubeClient,
    kinds: dict[str, ResourceType],
    record: Callable[[Removal], None],
    *,
    timeout: float,
) -> None:
    """Wait until the CRDs named in ``kinds`` are gone, taking finalizers off their objects
    each time: a controller still stopping may have put one back since the last pass.
    """
    deadline = time.monotonic() + timeout
    while left := [name for name in kinds if await _exists(client, name)]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"CRD(s) {', '.join(left)} still present after {timeout:.0f}s")
        await asyncio.sleep(_POLL)
        for name in left:
            with contextlib.suppress(KubeNotFound):  # the CRD went meanwhile
                await _drop_finalizers(client, kinds[name], record, dry_run=False)
