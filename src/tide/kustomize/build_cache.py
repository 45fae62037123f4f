"""Remember built manifests by what they were built from, so one build serves many Kustomizations.

A fleet often points hundreds of Kustomizations at one folder of one artifact and tells them
apart with ``postBuild`` variables. Kustomize's output depends only on the artifact's content
(its digest) and the build options, so the first Kustomization to need a build runs it, any that
ask while it runs wait for it (single flight), and later ones reuse it. Substitution happens
after, per Kustomization, on copies.

Builds that decrypt SOPS files are never cached: their input depends on keys, and their output
holds secrets this process should not keep around.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from tide.kustomize.build import BuildOptions
from tide.runtime.singleflight import SingleFlight

__all__ = ["BuildCache"]

Manifests = list[dict[str, Any]]


class BuildCache:
    """Least-recently-used built manifests keyed by artifact digest and build options.

    Args:
        capacity: builds kept; the least recently used is dropped beyond it. Default: 64.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, Manifests] = OrderedDict()
        self._inflight: SingleFlight[Manifests] = SingleFlight()
        self.builds = 0
        """Builds actually run (misses); benchmarks and tests read it."""

    @staticmethod
    def key(digest: str, options: BuildOptions) -> str:
        """The cache key: the artifact's digest and every option except the timeout."""
        shape = dataclasses.asdict(options)
        shape.pop("timeout")
        encoded = json.dumps(shape, sort_keys=True, default=str).encode()
        return f"{digest}:{hashlib.sha256(encoded).hexdigest()}"

    async def get_or_build(self, key: str, build: Callable[[], Awaitable[Manifests]]) -> Manifests:
        """Return a private copy of the manifests for ``key``, running ``build`` only on a miss.

        A failed build is not remembered: the next caller tries again (and gets its own error).
        """
        if key in self._entries:
            self._entries.move_to_end(key)
            return copy.deepcopy(self._entries[key])
        manifests = await self._inflight.do(key, lambda: self._build(key, build))
        return copy.deepcopy(manifests)

    async def _build(self, key: str, build: Callable[[], Awaitable[Manifests]]) -> Manifests:
        if key in self._entries:  # finished while this caller waited to lead
            return self._entries[key]
        self.builds += 1
        manifests = await build()
        self._entries[key] = manifests
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return manifests
