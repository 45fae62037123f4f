"""Tell whether applied objects are ready, the way kstatus (``kubectl wait``, Flux) reads them.

Built-in workloads report readiness in kind-specific fields, so each has its rule; anything else
is read with kstatus's generic rule (observedGeneration current, ``Ready`` true, not
``Reconciling``/``Stalled``). Objects with no status at all (ConfigMaps…) are ready once they exist.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tide.kube.discovery import UnknownKind
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType
from tide.kube.ssa.changeset import subject

if TYPE_CHECKING:
    from tide.kube.ssa.manager import ResourceManager

__all__ = [
    "Health",
    "Judge",
    "Lookup",
    "Readiness",
    "WaitCanceled",
    "look",
    "readiness",
    "wait_for",
]


class WaitCanceled(Exception):
    """The wait was ended early because what it waited for no longer matters."""


class Health(StrEnum):
    """kstatus's verdicts that matter for waiting."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"


@dataclass(frozen=True)
class Readiness:
    """One object's verdict and, when not current, why."""

    health: Health
    message: str = ""

    @property
    def ready(self) -> bool:
        """Whether the object is current."""
        return self.health is Health.CURRENT


CURRENT = Readiness(Health.CURRENT)

Judge = Callable[[Mapping[str, Any]], Readiness | None]
"""Custom health rules: a verdict on a live object, or None to leave it to kstatus."""

Lookup = Callable[[ResourceType, str, str], tuple[bool, Mapping[str, Any] | None]]
"""Read an object from a watch: ``(kind, namespace or "", name)`` → ``(known, object)``.

``known`` False means the watch cannot tell (not synced, out of its scope): read the API
server. ``(True, None)``: the object does not exist.
"""


def _progress(message: str) -> Readiness:
    return Readiness(Health.IN_PROGRESS, message)


def _condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _is_true(obj: Mapping[str, Any], kind: str) -> bool:
    condition = _condition(obj, kind)
    return condition is not None and condition.get("status") == "True"


def _generation_behind(obj: Mapping[str, Any]) -> Readiness | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed is not None and observed < 0:
        # Flux's CRDs default observedGeneration to -1: no controller has looked at it at all.
        return _progress("has not been reconciled by any controller yet")
    if generation is not None and observed is not None and observed < generation:
        return _progress(f"observed generation {observed} of {generation}")
    if generation is not None and observed is None and obj.get("kind") in _WORKLOADS:
        return _progress("not yet observed by its controller")
    return None


def _generic(obj: Mapping[str, Any]) -> Readiness:
    """kstatus's rule for any kind: Stalled fails, Reconciling or Ready≠True is in progress."""
    if behind := _generation_behind(obj):
        return behind
    stalled = _condition(obj, "Stalled")
    if stalled and stalled.get("status") == "True":
        return Readiness(Health.FAILED, stalled.get("message") or stalled.get("reason") or "")
    reconciling = _condition(obj, "Reconciling")
    if reconciling and reconciling.get("status") == "True":
        return _progress(reconciling.get("message") or "reconciling")
    ready = _condition(obj, "Ready")
    if ready and ready.get("status") != "True":
        return _progress(ready.get("message") or ready.get("reason") or "not ready")
    return CURRENT


def _deployment(obj: Mapping[str, Any]) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Readiness(Health.FAILED, progressing.get("message") or "progress deadline exceeded")
    want = spec.get("replicas", 1)
    updated, total = status.get("updatedReplicas", 0), status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < want:
        return _progress(f"{updated} of {want} replicas updated")
    if total > updated:
        return _progress(f"{total - updated} old replicas pending termination")
    if available < want:
        return _progress(f"{available} of {want} replicas available")
    if want and not _is_true(obj, "Available"):
        return _progress("Available condition is not true")
    return CURRENT


def _statefulset(obj: Mapping[str, Any]) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        return CURRENT
    want = spec.get("replicas", 1)
    ready = status.get("readyReplicas", 0)
    if ready < want:
        return _progress(f"{ready} of {want} replicas ready")
    partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition")
    if partition:
        return CURRENT
    if status.get("updatedReplicas", 0) < want:
        return _progress(f"{status.get('updatedReplicas', 0)} of {want} replicas updated")
    if status.get("currentRevision") != status.get("updateRevision"):
        return _progress(f"revision {status.get('updateRevision')} still rolling out")
    return CURRENT


def _daemonset(obj: Mapping[str, Any]) -> Readiness:
    status = obj.get("status") or {}
    want = status.get("desiredNumberScheduled", 0)
    for field, label in (
        ("updatedNumberScheduled", "updated"),
        ("numberAvailable", "available"),
        ("numberReady", "ready"),
    ):
        if status.get(field, 0) < want:
            return _progress(f"{status.get(field, 0)} of {want} pods {label}")
    return CURRENT


def _replicaset(obj: Mapping[str, Any]) -> Readiness:
    want = (obj.get("spec") or {}).get("replicas", 1)
    status = obj.get("status") or {}
    for field, label in (("readyReplicas", "ready"), ("availableReplicas", "available")):
        if status.get(field, 0) < want:
            return _progress(f"{status.get(field, 0)} of {want} replicas {label}")
    return CURRENT


def _job(obj: Mapping[str, Any]) -> Readiness:
    if _is_true(obj, "Failed"):
        failed = _condition(obj, "Failed") or {}
        return Readiness(Health.FAILED, failed.get("message") or "job failed")
    if _is_true(obj, "Complete"):
        return CURRENT
    return _progress("job not complete")


def _pod(obj: Mapping[str, Any]) -> Readiness:
    phase = (obj.get("status") or {}).get("phase", "Pending")
    if phase == "Succeeded" or (phase == "Running" and _is_true(obj, "Ready")):
        return CURRENT
    if phase == "Failed":
        return Readiness(Health.FAILED, "pod failed")
    scheduled = _condition(obj, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return _progress(f"pod not scheduled: {scheduled.get('message', '')}".rstrip(": "))
    return _progress(f"pod phase {phase}")


def _pvc(obj: Mapping[str, Any]) -> Readiness:
    phase = (obj.get("status") or {}).get("phase", "Pending")
    return CURRENT if phase == "Bound" else _progress(f"claim phase {phase}")


def _service(obj: Mapping[str, Any]) -> Readiness:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return CURRENT
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    return CURRENT if ingress else _progress("load balancer has no ingress yet")


def _namespace(obj: Mapping[str, Any]) -> Readiness:
    phase = (obj.get("status") or {}).get("phase", "Active")
    return CURRENT if phase == "Active" else _progress(f"namespace phase {phase}")


def _crd(obj: Mapping[str, Any]) -> Readiness:
    names = _condition(obj, "NamesAccepted")
    if names and names.get("status") == "False":
        return Readiness(Health.FAILED, names.get("message") or "names not accepted")
    return CURRENT if _is_true(obj, "Established") else _progress("not yet established")


_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}

_RULES: dict[tuple[str, str], Callable[[Mapping[str, Any]], Readiness]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("batch", "Job"): _job,
    ("", "Pod"): _pod,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def readiness(obj: Mapping[str, Any]) -> Readiness:
    """Return kstatus's verdict on one live object."""
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return _progress("being deleted")
    group = obj.get("apiVersion", "").rpartition("/")[0]
    rule = _RULES.get((group, obj.get("kind", "")))
    if rule is None:
        return _generic(obj)
    return _generation_behind(obj) or rule(obj)


async def wait_for(
    manager: ResourceManager,
    objects: Sequence[Mapping[str, Any]],
    *,
    timeout: float,
    interval: float = 0.5,
    judge: Judge | None = None,
    stop: Callable[[], str | None] | None = None,
) -> list[str]:
    """Poll until every object is current or failed, or ``timeout`` passes.

    Objects that carry a ``resourceVersion`` are live objects read moments ago (an apply's
    reply): the first look judges them as they are, and only the ones not yet current are read
    again. Manifests (no ``resourceVersion``) are read from the start.

    Returns ``"Kind/ns/name: why"`` for each object not current at the end; an empty list means
    all are ready. A failed object (e.g. a Job that failed) ends the wait early: it will not
    become ready by waiting. ``judge`` (e.g. compiled ``healthCheckExprs``) decides for the
    objects it has a verdict on; kstatus's rules decide for the rest. ``stop`` is asked before
    each look; when it gives a reason, the wait ends with :class:`WaitCanceled`.
    """
    deadline = time.monotonic() + timeout
    pending = {subject(obj): obj for obj in objects}
    verdicts: dict[str, Readiness] = {}
    first = True
    while True:
        if stop is not None and (why := stop()):
            raise WaitCanceled(why)
        verdicts = await look(manager, list(pending.values()), judge=judge, fresh=first)
        pending = {name: pending[name] for name, verdict in verdicts.items() if not verdict.ready}
        first = False
        settled = all(verdicts[name].health is Health.FAILED for name in pending)
        if not pending or settled or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    return [f"{name}: {verdicts[name].message}" for name in pending]


async def look(
    manager: ResourceManager,
    objects: Sequence[Mapping[str, Any]],
    *,
    judge: Judge | None = None,
    fresh: bool = False,
    cached: Lookup | None = None,
) -> dict[str, Readiness]:
    """Judge each object once, by ``"Kind/ns/name"``: one look of :func:`wait_for`.

    With ``fresh``, objects that carry a ``resourceVersion`` were read moments ago and are
    judged as they are; every other object is read first, from ``cached`` (a watch) when it
    knows the object, else from the API server. An object's ``resourceVersion`` (without
    ``fresh``) is the least one its read must show: a watch's older copy is read again from
    the API server.
    """
    verdicts: dict[str, Readiness] = {}
    for obj in objects:
        if fresh and obj.get("metadata", {}).get("resourceVersion"):
            verdicts[subject(obj)] = _verdict(obj, judge)
        else:
            verdicts[subject(obj)] = await _current_verdict(manager, obj, judge, cached)
    return verdicts


async def _current_verdict(
    manager: ResourceManager, obj: Mapping[str, Any], judge: Judge | None, cached: Lookup | None
) -> Readiness:
    metadata = obj.get("metadata") or {}
    try:
        rt = await manager.mapper.for_object(dict(obj))
        namespace = metadata.get("namespace") if rt.namespaced else None
        known, live = cached(rt, namespace or "", metadata["name"]) if cached else (False, None)
        if known and _older(live, metadata.get("resourceVersion")):
            known = False  # the watch has not caught up with the apply yet: ask the server
        if not known:
            live = await manager.client.get_or_none(rt, metadata["name"], namespace=namespace)
    except UnknownKind as error:  # the CRD may still be on its way; the wait goes on
        return _progress(f"kind {error.kind} ({error.api_version}) is not installed in the cluster")
    except KubeError as error:  # reported; the wait goes on, the server may recover
        return _progress(f"cannot read: {error}")
    if live is None:
        return _progress("not found")
    return _verdict(live, judge)


def _older(live: Mapping[str, Any] | None, seen: str | None) -> bool:
    """Whether a watch's copy (None: absent) predates ``seen``, a version already read.

    A target carries the resourceVersion of the apply's reply; a watch that has not yet
    delivered that change holds the object as it was before it (a Deployment not yet rolling
    out looks healthy). resourceVersions are opaque to clients, but the API server's are
    etcd revisions, integers that grow; one that is not an integer cannot be ordered, so the
    copy is trusted.
    """
    if not seen:
        return False
    if live is None:
        return True  # applied, yet not in the watch: not there yet, or deleted since
    try:
        return int((live.get("metadata") or {}).get("resourceVersion") or "") < int(seen)
    except ValueError:
        return False


def _verdict(live: Mapping[str, Any], judge: Judge | None) -> Readiness:
    if judge is not None and not (live.get("metadata") or {}).get("deletionTimestamp"):
        verdict = judge(live)
        if verdict is not None:
            return verdict
    return readiness(live)
