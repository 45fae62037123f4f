"""Read the ImagePolicies an automation applies: those of its namespace its selector picks.

A policy's choice is ``status.latestRef`` (v1); one written through v1beta2 may carry only
``status.latestImage`` (``name:tag``), which is split the way Flux splits an image reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tide.api import reasons
from tide.api._shared import LabelSelector
from tide.image.automation.selector import InvalidSelector, compile_selector
from tide.image.automation.update import PolicyState
from tide.kube.cache import WatchCache
from tide.runtime.steps import Stalled

__all__ = ["latest_ref", "select"]


def select(cache: WatchCache, namespace: str, selector: LabelSelector | None) -> PolicyState:
    """Return the policies of ``namespace`` that ``selector`` picks, with their latest images.

    Raises:
        Stalled: ``InvalidPolicySelector`` — the selector cannot be evaluated.
    """
    try:
        matches = compile_selector(selector)
    except InvalidSelector as error:
        raise Stalled(str(error), reason=reasons.INVALID_POLICY_SELECTOR) from error
    existing: set[str] = set()
    selected: set[str] = set()
    latest: dict[str, dict[str, str]] = {}
    for policy in cache.scan():
        metadata = policy["metadata"]
        if (metadata.get("namespace") or "") != namespace:
            continue
        name = metadata["name"]
        existing.add(name)
        if not matches(metadata.get("labels") or {}):
            continue
        selected.add(name)
        ref = latest_ref(policy)
        if ref is not None:
            latest[name] = ref
    return PolicyState(namespace=namespace, latest=latest, selected=selected, existing=existing)


def latest_ref(policy: Mapping[str, Any]) -> dict[str, str] | None:
    """Return a policy's ``latestRef`` as ``{name, tag[, digest]}``, or None when it has none."""
    status = policy.get("status") or {}
    ref = status.get("latestRef")
    if isinstance(ref, Mapping) and ref.get("name") and ref.get("tag"):
        return {k: str(ref[k]) for k in ("name", "tag", "digest") if ref.get(k)}
    image = status.get("latestImage")
    if isinstance(image, str) and image:
        image, _, digest = image.partition("@")
        slash = image.rfind("/")
        colon = image.rfind(":")
        if colon > slash:
            found = {"name": image[:colon], "tag": image[colon + 1 :]}
            return {**found, "digest": digest} if digest else found
    return None
