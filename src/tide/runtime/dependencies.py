"""Judge ``dependsOn`` the same way for every kind that has it: cycles, then readiness.

A set of objects that depend on each other in a circle can never become ready, so each member
names the cycle (``dependency cycle: 'apps/a' -> 'apps/b' -> 'apps/a'``) instead of waiting for
ever. Kustomizations and HelmReleases walk their own kind's entries the same way, and judge each
entry (of their own kind, or of the other one: a Tide extension) by one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tide.api import conditions, reasons
from tide.kube.cache import WatchCache, object_key
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.reconcile import Request

__all__ = ["dependency_cycle", "dependency_not_ready", "wake_dependents"]

Key = tuple[str, str]


def dependency_cycle(
    start: Key, spec: Mapping[str, Any], cache: WatchCache, *, kind: str
) -> list[Key]:
    """Return a ``dependsOn`` path from ``start`` back to itself through ``kind`` objects, or [].

    Args:
        start: ``(namespace, name)`` of the object asking.
        spec: its spec as JSON (``dependsOn`` entries with Flux's field names).
        cache: the watch cache of ``kind``; objects not in it (yet) end a path.
        kind: the kind whose entries are followed; an entry without ``kind`` names this kind.

    Only cycles through ``start`` are reported, so each member reports it from its own place.
    """

    def dependencies(namespace: str, spec: Mapping[str, Any]) -> list[Key]:
        return [
            (d.get("namespace") or namespace, d["name"])
            for d in spec.get("dependsOn") or []
            if (d.get("kind") or kind) == kind
        ]

    stack = [(start, [start], iter(dependencies(start[0], spec)))]
    seen = {start}
    while stack:
        _, path, pending = stack[-1]
        following = next(pending, None)
        if following is None:
            stack.pop()
            continue
        if following == start:
            return [*path, start]
        if following in seen:
            continue
        seen.add(following)
        other = cache.get(*following)
        if other is not None:
            stack.append(
                (
                    following,
                    [*path, following],
                    iter(dependencies(following[0], other.get("spec") or {})),
                )
            )
    return []


def dependency_not_ready(
    start: Key,
    spec: Mapping[str, Any],
    caches: Mapping[str, WatchCache | None],
    *,
    kind: str,
) -> str | None:
    """Return why the first unready ``dependsOn`` entry blocks ``start``, or None when all are.

    A dependency is ready when its Ready condition is True for its current generation and, for a
    Kustomization, the revision it last applied is the one it last attempted (it is not mid-way
    through a change). An entry of another kind than ``kind`` is named with its kind.

    Args:
        start: ``(namespace, name)`` of the object asking.
        spec: its spec as JSON (``dependsOn`` entries with Flux's field names).
        caches: watch caches by kind; ``kind``'s must be there, a kind without one (None or
            missing) has none of its entries found.
        kind: the kind of ``start``, and of an entry without ``kind``.
    """
    own = caches[kind]
    cycle = dependency_cycle(start, spec, own, kind=kind) if own is not None else []
    if cycle:
        return "dependency cycle: " + " -> ".join(f"'{ns}/{name}'" for ns, name in cycle)
    for entry in spec.get("dependsOn") or []:
        entry_kind = entry.get("kind") or kind
        namespace, name = entry.get("namespace") or start[0], entry["name"]
        label = "" if entry_kind == kind else f"{entry_kind} "
        where = f"{label}dependency '{namespace}/{name}'"
        cache = caches.get(entry_kind)
        other = cache.get(namespace, name) if cache is not None else None
        if other is None:
            return f"{where} not found"
        status = other.get("status") or {}
        ready = conditions.find(status, reasons.READY) or {}
        current = ready.get("observedGeneration") == other["metadata"].get("generation")
        if ready.get("status") != "True" or not current:
            return f"{where} is not ready"
        attempted = status.get("lastAttemptedRevision")
        if entry_kind == "Kustomization" and status.get("lastAppliedRevision") != attempted:
            return f"{where} is not ready: revision {attempted} pending"
    return None


def wake_dependents(
    dependents: WatchCache,
    controller: Controller,
    policy: ReferencePolicy,
    *,
    kind: str,
    dependencies: Mapping[str, WatchCache],
) -> None:
    """Reconcile the dependents of an object whose verdict changed, so they stop waiting at once
    rather than at their next ``requeueDependency``.

    Args:
        dependents: the watch cache of the objects with ``dependsOn``.
        controller: their controller.
        policy: dependents it keeps out of the object's namespace are left stalled.
        kind: the dependents' kind, which an entry naming no kind means.
        dependencies: the watch cache of each kind an entry may name.
    """
    for watched, cache in dependencies.items():
        cache.add_handler(_on_verdict(dependents, controller, policy, kind=kind, watched=watched))


def _on_verdict(
    dependents: WatchCache,
    controller: Controller,
    policy: ReferencePolicy,
    *,
    kind: str,
    watched: str,
) -> Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]:
    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is None or _verdict(new) == _verdict(old):
            return
        namespace, name = object_key(new)
        for other in dependents.scan():
            own = other["metadata"].get("namespace") or ""
            for dependency in (other.get("spec") or {}).get("dependsOn") or []:
                if (
                    (dependency.get("kind") or kind) == watched
                    and dependency.get("name") == name
                    and (dependency.get("namespace") or own) == namespace
                    and policy.allows(own, namespace)
                ):
                    controller.enqueue(Request(*object_key(other)))

    return handle


def _verdict(obj: dict[str, Any] | None) -> tuple[Any, ...]:
    """What :func:`dependency_not_ready` reads: the Ready condition, the last applied revision."""
    status = (obj or {}).get("status") or {}
    ready = conditions.find(status, reasons.READY) or {}
    return ready.get("status"), ready.get("observedGeneration"), status.get("lastAppliedRevision")
