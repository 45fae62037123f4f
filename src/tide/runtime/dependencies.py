"""Find a ``dependsOn`` cycle through one object, for every kind that has ``dependsOn``.

A set of objects that depend on each other in a circle can never become ready, so each member
names the cycle (``dependency cycle: 'apps/a' -> 'apps/b' -> 'apps/a'``) instead of waiting for
ever. Kustomizations and HelmReleases walk their own kind's entries the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tide.kube.cache import WatchCache

__all__ = ["dependency_cycle"]

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
