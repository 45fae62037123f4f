"""Keep of a watched object only what health rules read: the watches of parked waits hold less.

The watches that wake parked health checks (:mod:`tide.runtime.wakeups`) mirror every object
of each kind they watch, cluster-wide. Full copies of Deployments, Pods or CRDs are mostly pod
templates and schemas no rule reads, so built-in kinds keep their metadata, their ``status``
and the ``spec`` fields :mod:`tide.kube.ssa.wait` reads (plus a few small ones beside them).
ConfigMaps, ready once they exist, keep their metadata only.

Any other kind (custom resources) stays whole: ``healthCheckExprs`` (CEL) may read any field
of it. The one thing dropped everywhere is ``metadata.managedFields``, the API server's record
of field owners, as large as the object and read by no health rule. A wait with CEL rules of
its own reads the trimmed kinds from the API server instead (``whole`` in
:meth:`~tide.runtime.wakeups.ObjectWatches.reader`), since its rules may name a built-in kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TRIMMED", "transform_for"]

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
"""An annotation holding a whole copy of the object as ``kubectl apply`` last sent it."""

_SPEC_KEPT: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("apps", "Deployment"): (
        "replicas",
        "paused",
        "strategy",
        "minReadySeconds",
        "progressDeadlineSeconds",
    ),
    ("apps", "StatefulSet"): ("replicas", "updateStrategy", "minReadySeconds"),
    ("apps", "DaemonSet"): ("updateStrategy", "minReadySeconds"),
    ("apps", "ReplicaSet"): ("replicas", "minReadySeconds"),
    ("batch", "Job"): (
        "parallelism",
        "completions",
        "completionMode",
        "backoffLimit",
        "activeDeadlineSeconds",
        "suspend",
    ),
    ("", "Pod"): ("nodeName",),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): ("group", "names", "scope"),
    ("", "ConfigMap"): (),
}
"""Per built-in kind, the ``spec`` fields kept (``()``: no spec at all).

Services, PersistentVolumeClaims and Namespaces are small and stay whole (but for
``managedFields``)."""

TRIMMED = frozenset(_SPEC_KEPT)
"""(group, kind) of the kinds kept trimmed, not whole: CEL rules must not read these copies."""


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    annotations = metadata.get("annotations")
    if annotations and _LAST_APPLIED in annotations:
        metadata["annotations"] = {k: v for k, v in annotations.items() if k != _LAST_APPLIED}
    return metadata


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata") or {}
    if "managedFields" not in metadata:
        return obj
    trimmed = dict(obj)
    trimmed["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    return trimmed


def transform_for(group: str, kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Return what a watch of ``group``/``kind`` keeps of each object (a WatchCache transform)."""
    kept = _SPEC_KEPT.get((group, kind))
    if kept is None:
        return _without_managed_fields

    def trim(obj: dict[str, Any]) -> dict[str, Any]:
        trimmed = {k: obj[k] for k in ("apiVersion", "kind") if k in obj}
        trimmed["metadata"] = _metadata(obj)
        spec = obj.get("spec") or {}
        if kept and spec:
            trimmed["spec"] = {k: spec[k] for k in kept if k in spec}
        if "status" in obj:
            trimmed["status"] = obj["status"]
        return trimmed

    return trim
