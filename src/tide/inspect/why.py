"""Walk from an object that is not Ready to the root cause: dependencies, sources, itself.

``tide why`` answers "why is this not Ready?" in one chain: a Kustomization waiting on a
dependency that waits on a source whose fetch fails prints three links, the last one the cause
to fix. The walk reads live objects only (``get``), follows the first link that is not Ready,
and stops at an object that is Ready, missing, suspended, or not Ready for a reason of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tide.api.conditions import getter

__all__ = ["Fetch", "Link", "explain", "links_of", "state_of"]

Fetch = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]
"""Return the live object ``(kind, name, namespace)``, or None when it does not exist."""


@dataclass(frozen=True)
class Link:
    """One object on the way to the root cause, and how it relates to the previous one."""

    kind: str
    name: str
    namespace: str
    relation: str
    """How the previous link needs this one (``depends on``, ``gets its source from``); empty
    for the object asked about."""
    state: str
    """``Ready``, ``not Ready``, ``reconciling``, ``suspended`` or ``not found``."""
    reason: str = ""
    message: str = ""

    @property
    def ref(self) -> str:
        """Return ``Kind/namespace/name``."""
        return f"{self.kind}/{self.namespace}/{self.name}"


def _default_kind(kind: str) -> str:
    return "HelmRelease" if kind == "HelmRelease" else "Kustomization"


def links_of(kind: str, obj: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return what ``obj`` needs, as ``(relation, kind, name, namespace)``, dependencies first."""
    namespace = (obj.get("metadata") or {}).get("namespace") or "default"
    name = (obj.get("metadata") or {}).get("name") or ""
    spec = obj.get("spec") or {}
    needs: list[tuple[str, str, str, str]] = []
    for dependency in spec.get("dependsOn") or ():
        dep_kind = dependency.get("kind") or _default_kind(kind)
        if kind not in ("Kustomization", "HelmRelease"):
            continue
        needs.append(
            ("depends on", dep_kind, dependency["name"], dependency.get("namespace") or namespace)
        )
    ref: Mapping[str, Any] | None = None
    if kind == "HelmRelease":
        if spec.get("chartRef"):
            ref = spec["chartRef"]
        else:
            chart_ref = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
            chart_namespace = chart_ref.get("namespace") or namespace
            needs.append(
                ("gets its chart from", "HelmChart", f"{namespace}-{name}", chart_namespace)
            )
    elif kind == "ImagePolicy":
        ref = {"kind": "ImageRepository", **(spec.get("imageRepositoryRef") or {})}
    else:
        ref = spec.get("sourceRef")
    if isinstance(ref, Mapping) and ref.get("kind") and ref.get("name"):
        needs.append(
            ("gets its source from", ref["kind"], ref["name"], ref.get("namespace") or namespace)
        )
    return needs


def state_of(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """Return ``(state, reason, message)`` of ``obj``; the state is one of :attr:`Link.state`."""
    status = obj.get("status") or {}
    if (obj.get("spec") or {}).get("suspend"):
        return "suspended", "", "spec.suspend is true"
    ready = getter.find(status, "Ready")
    if ready is None:
        return "reconciling", "", "not reconciled by any controller yet"
    message = " ".join(str(ready.get("message") or "").split())
    reason = str(ready.get("reason") or "")
    generation = (obj.get("metadata") or {}).get("generation")
    current = ready.get("observedGeneration", generation) == generation
    if ready.get("status") == "True" and current:
        return "Ready", reason, message
    if ready.get("status") == "Unknown" or not current:
        return "reconciling", reason, message
    return "not Ready", reason, message


async def explain(fetch: Fetch, kind: str, name: str, namespace: str) -> list[Link]:
    """Return the chain from ``kind/namespace/name`` to the root cause (the last link)."""
    chain: list[Link] = []
    seen: set[tuple[str, str, str]] = set()
    relation = ""
    while (kind, name, namespace) not in seen:
        seen.add((kind, name, namespace))
        obj = await fetch(kind, name, namespace)
        if obj is None:
            chain.append(Link(kind, name, namespace, relation, "not found"))
            return chain
        state, reason, message = state_of(obj)
        chain.append(Link(kind, name, namespace, relation, state, reason, message))
        if state in ("Ready", "suspended"):
            return chain
        blocker = None
        for need_relation, need_kind, need_name, need_namespace in links_of(kind, obj):
            needed = await fetch(need_kind, need_name, need_namespace)
            if needed is None or state_of(needed)[0] != "Ready":
                blocker = (need_relation, need_kind, need_name, need_namespace)
                break
        if blocker is None:
            return chain
        relation, kind, name, namespace = blocker
    chain.append(Link(kind, name, namespace, relation, "not Ready", "", "dependency cycle"))
    return chain
