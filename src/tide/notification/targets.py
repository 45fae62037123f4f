"""Ask a Receiver's ``spec.resources`` to reconcile: find each object, annotate it.

Asking is what ``flux reconcile`` does: a merge patch setting
``reconcile.fluxcd.io/requestedAt`` to the current time. The object's own controller sees the
annotation change and reconciles at once (a GitRepository fetches, a Kustomization applies).

An entry names one object (``kind`` + ``name``) or, with ``name: '*'`` and ``matchLabels``, every
object of the kind carrying those labels. ``namespace`` defaults to the Receiver's; another
namespace is refused when ``--no-cross-namespace-refs`` is set (:class:`ReferencePolicy`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tide.api.keys import REQUESTED_AT
from tide.api.notification import CrossNamespaceObjectReference
from tide.kube.client import KubeClient
from tide.kube.errors import KubeError, KubeNotFound
from tide.kube.resources import ResourceType, resource_type
from tide.notification.resource_filter import FilterError, ResourceFilter
from tide.runtime.acl import ReferencePolicy, denied_message

__all__ = ["Outcome", "check_reference", "request_reconciles", "requested_at_now"]

log = logging.getLogger(__name__)


def requested_at_now() -> str:
    """Return the current time as RFC 3339 with nanoseconds (what ``flux reconcile`` writes)."""
    nanos = time.time_ns()
    stamp = datetime.fromtimestamp(nanos // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos % 1_000_000_000:09d}Z"


@dataclass
class Outcome:
    """What one delivery asked.

    Attributes:
        requested: ``Kind/namespace/name`` of every object annotated.
        failures: one message per entry or object that could not be asked.
    """

    requested: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def check_reference(
    ref: CrossNamespaceObjectReference, receiver_namespace: str, policy: ReferencePolicy
) -> tuple[ResourceType, str]:
    """Return where ``ref`` points: its resource type and namespace.

    Raises:
        ValueError: the kind is unknown, the apiVersion names another group, ``*`` comes
            without ``matchLabels``, or the policy blocks the namespace (Flux's words).
    """
    try:
        rt = resource_type(ref.kind)
    except KeyError as error:
        raise ValueError(f"kind {ref.kind!r} is not a Flux kind Tide serves") from error
    if ref.api_version and ref.api_version.rpartition("/")[0] != rt.group:
        raise ValueError(f"apiVersion {ref.api_version!r} is not in {ref.kind}'s group {rt.group}")
    if ref.name == "*" and not ref.match_labels:
        raise ValueError(f"{ref.kind} '*': matchLabels must be set when name is '*'")
    namespace = ref.namespace or receiver_namespace
    if not policy.allows(receiver_namespace, namespace):
        raise ValueError(denied_message(ref.kind, namespace, ref.name))
    return rt, namespace


async def request_reconciles(
    client: KubeClient,
    refs: Sequence[CrossNamespaceObjectReference],
    *,
    receiver_namespace: str,
    policy: ReferencePolicy,
    resource_filter: ResourceFilter | None = None,
    payload: Any = None,
) -> Outcome:
    """Annotate every object ``refs`` select (and ``resource_filter`` accepts).

    Failures are collected, not raised: one missing object must not keep the others from
    being asked.
    """
    outcome = Outcome()
    stamp = requested_at_now()
    for ref in refs:
        try:
            rt, namespace = check_reference(ref, receiver_namespace, policy)
            if ref.name != "*" and resource_filter is None:
                # Nothing to read first: the patch itself says whether the object exists.
                await _annotate(client, rt, ref.name, namespace, stamp)
                outcome.requested.append(f"{rt.kind}/{namespace}/{ref.name}")
                continue
            objects = await _select(client, rt, ref, namespace)
        except (ValueError, KubeError) as error:
            outcome.failures.append(str(error))
            continue
        for obj in objects:
            name = f"{rt.kind}/{namespace}/{obj['metadata']['name']}"
            try:
                if resource_filter is not None and not resource_filter.accepts(obj, payload):
                    log.debug("%s: resourceFilter is false; not asked to reconcile", name)
                    continue
                await _annotate(client, rt, obj["metadata"]["name"], namespace, stamp)
            except (FilterError, KubeError) as error:
                outcome.failures.append(f"{name}: {error}")
                continue
            outcome.requested.append(name)
    return outcome


async def _annotate(
    client: KubeClient, rt: ResourceType, name: str, namespace: str, stamp: str
) -> None:
    patch = {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
    try:
        await client.patch_merge(rt, name, patch, namespace=namespace)
    except KubeNotFound as error:
        raise KubeNotFound(f"{rt.kind} '{namespace}/{name}' not found") from error


async def _select(
    client: KubeClient, rt: ResourceType, ref: CrossNamespaceObjectReference, namespace: str
) -> list[dict[str, Any]]:
    if ref.name != "*":
        try:
            obj = await client.get(rt, ref.name, namespace=namespace)
        except KubeNotFound as error:
            raise KubeNotFound(f"{rt.kind} '{namespace}/{ref.name}' not found") from error
        return [obj]
    objects, _ = await client.list(rt, namespace=namespace, labels=ref.match_labels)
    if not objects:
        log.info("no %s in %s matches labels %s", rt.kind, namespace, ref.match_labels)
    return objects
