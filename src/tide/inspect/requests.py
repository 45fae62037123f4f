"""The requests users make of Flux objects: reconcile now, suspend, resume.

``tide reconcile | suspend | resume`` and the dashboard's buttons write the same thing, the way
Flux's CLI writes it: ``reconcile.fluxcd.io/requestedAt`` set to now (``forceAt``/``resetAt`` on
a HelmRelease take the same value), and ``spec.suspend`` through a merge patch. What waits for
the answer, and how it is shown, stays with each caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tide.api import keys
from tide.api.kinds import KindInfo
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type

__all__ = [
    "UNRECONCILED",
    "Suspended",
    "now",
    "request_reconcile",
    "set_suspend",
    "source_of",
    "suspendable",
]

UNRECONCILED = frozenset({"Bucket", "ExternalArtifact"})
"""Kinds no Tide controller reconciles (an ExternalArtifact is written by its generator, Bucket
has no controller yet): a reconcile request would wait for an answer that never comes."""


def suspendable(info: KindInfo) -> bool:
    """Return whether objects of the kind can be suspended: its spec has ``suspend``, and a
    controller reconciles it (an ExternalArtifact's spec has no ``suspend``)."""
    spec = info.model.model_fields["spec"].annotation
    has_field = isinstance(spec, type) and "suspend" in getattr(spec, "model_fields", {})
    return has_field and info.kind not in UNRECONCILED


class Suspended(Exception):
    """The object is suspended: it handles no reconcile request until it is resumed."""

    def __init__(self, kind: str, name: str, namespace: str) -> None:
        super().__init__(f"{kind} {name} in {namespace} namespace is suspended")
        self.kind, self.name, self.namespace = kind, name, namespace


def now() -> str:
    """Return an RFC 3339 timestamp with nanoseconds, the form ``flux reconcile`` writes."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"


async def request_reconcile(
    client: KubeClient, kind: str, name: str, namespace: str, *extra: str
) -> str:
    """Ask for a reconcile of one object now; return the ``requestedAt`` value written.

    Args:
        client: who asks (the API server judges the patch by its rights).
        kind: the Flux kind (``Kustomization``).
        name: the object's name.
        namespace: the object's namespace.
        extra: more annotation keys to set to the same value (``keys.FORCE_AT``, ``RESET_AT``).

    Raises:
        Suspended: the object is suspended.
        KubeNotFound: it does not exist.
    """
    rt = resource_type(kind)
    obj = await client.get(rt, name, namespace=namespace)
    if (obj.get("spec") or {}).get("suspend"):
        raise Suspended(kind, name, namespace)
    stamp = now()
    annotations = dict.fromkeys((keys.REQUESTED_AT, *extra), stamp)
    await client.patch_merge(
        rt, name, {"metadata": {"annotations": annotations}}, namespace=namespace
    )
    return stamp


async def set_suspend(
    client: KubeClient, kind: str, name: str, namespace: str, *, suspend: bool
) -> str | None:
    """Set ``spec.suspend``; resuming also asks for a reconcile, whose stamp is returned.

    Returns:
        The ``requestedAt`` value written when resuming; None when suspending.
    """
    patch: dict[str, Any] = {"spec": {"suspend": suspend}}
    stamp = None if suspend else now()
    if stamp is not None:
        patch["metadata"] = {"annotations": {keys.REQUESTED_AT: stamp}}
    await client.patch_merge(resource_type(kind), name, patch, namespace=namespace)
    return stamp


def source_of(kind: str, obj: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """Return the ``(kind, name, namespace)`` a reconcile "with source" reconciles first.

    A Kustomization's ``sourceRef``; a HelmRelease's ``chartRef`` or the HelmChart made for it
    (``<namespace>-<name>`` in the chart source's namespace). None when the object has none.
    """
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or "default"
    spec = obj.get("spec") or {}
    if kind == "HelmRelease" and not spec.get("chartRef"):
        chart_source = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
        return (
            "HelmChart",
            f"{namespace}-{metadata.get('name')}",
            chart_source.get("namespace") or namespace,
        )
    ref = spec.get("chartRef") if kind == "HelmRelease" else spec.get("sourceRef")
    if not isinstance(ref, Mapping) or not ref.get("kind") or not ref.get("name"):
        return None
    return str(ref["kind"]), str(ref["name"]), str(ref.get("namespace") or namespace)
