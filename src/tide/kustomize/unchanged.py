"""Know, without a request per object, that a Kustomization has nothing to apply.

After a fully successful apply the reconciler remembers a :class:`Fingerprint` of what it
applied — the Kustomization (uid, generation), the source revision, and the digest of the
manifests after build, substitution and decryption, which covers every input (variables from
ConfigMaps and Secrets, patches, images) — plus the ``resourceVersion`` each applied object had
afterwards. The next reconcile builds again (a cache hit, usually) and, when the fingerprint is
the same and every object is still at its remembered version by the metadata-only watches of
:class:`~tide.kube.versions.LiveVersions`, skips the dry-run apply of each object.

Why that is safe: a resourceVersion changes with any write to an object — a ``kubectl edit``,
a deletion (the object is then gone from the watch), a change of its status — so an equal
version means the very object the last apply left, which matched the manifests then and still
does (the digest is the same). Prune needs nothing either: the same manifests mean the same
inventory, and the last pass pruned. With ``wait``, an object unchanged down to its status
cannot have changed health. Anything else takes the normal path, which puts drift back:

- a restarted controller (nothing remembered), a watch not listed yet or broken;
- ``spec.kubeConfig`` (another cluster: its objects are not watched);
- ``spec.healthChecks`` (they may name objects this Kustomization did not apply);
- a status that does not say what was remembered (another writer, a lost status write).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tide.api.kustomize import Kustomization
from tide.kube.cache import object_key
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.kube.resources import ResourceType
from tide.kube.ssa import Action, ChangeSet
from tide.kube.ssa.changeset import ObjectRef
from tide.kube.versions import LiveVersions

__all__ = ["Fingerprint", "Unchanged"]

log = logging.getLogger(__name__)

Key = tuple[str | None, str]
"""A Kustomization's (namespace, name)."""


@dataclass(frozen=True)
class Fingerprint:
    """What one apply was made of; equal fingerprints mean the same manifests to the byte."""

    uid: str | None
    generation: int | None
    revision: str
    digest: str

    @classmethod
    def of(cls, kustomization: Kustomization, *, revision: str, digest: str) -> Fingerprint | None:
        """Return the fingerprint of applying ``digest``'s manifests, or None when a skip is
        never safe for this Kustomization (``kubeConfig``, ``healthChecks``)."""
        spec = kustomization.spec
        if spec.kube_config is not None or spec.health_checks:
            return None
        metadata = kustomization.metadata
        return cls(metadata.uid, metadata.generation, revision, digest)


@dataclass(frozen=True)
class _Applied:
    fingerprint: Fingerprint
    inventory: str
    versions: dict[ResourceType, dict[tuple[str, str], str]]


class Unchanged:
    """What each Kustomization last applied, for :meth:`holds` to tell a no-op from work.

    Args:
        versions: the live resourceVersions of applied objects (watched with the controller's
            own client, whoever a Kustomization applies as).
    """

    def __init__(self, versions: LiveVersions) -> None:
        self._versions = versions
        self._applied: dict[Key, _Applied] = {}

    def holds(self, key: Key, fingerprint: Fingerprint | None, status: dict[str, Any]) -> bool:
        """Tell whether applying now would change nothing, from memory and watches alone.

        When it would (or cannot be known), what was remembered is dropped: only the next
        successful apply makes a new memory.
        """
        applied = self._applied.pop(key, None)
        why = _why_not(applied, fingerprint, status)
        if applied is not None and why is None:
            changed = [rt.kind for rt, seen in applied.versions.items()
                       if not self._versions.unchanged(rt, seen)]  # fmt: skip
            if not changed:
                self._applied[key] = applied
                return True
            why = f"objects changed, or their watch is not following: {', '.join(changed)}"
        log.debug("%s/%s: full reconcile: %s", key[0], key[1], why)
        return False

    async def remember(
        self,
        key: Key,
        fingerprint: Fingerprint | None,
        changes: ChangeSet,
        *,
        status: dict[str, Any],
        mapper: RESTMapper,
    ) -> None:
        """Remember a fully successful apply (and its prune) of ``fingerprint``'s manifests.

        Objects skipped by their annotations need no version: the normal path leaves them
        alone too. An entry without the object the apply read or wrote makes nothing
        remembered (there is no version to compare with).
        """
        self._applied.pop(key, None)
        if fingerprint is None:
            return
        by_kind: dict[tuple[str, str], dict[tuple[str, str], str]] = defaultdict(dict)
        for entry in changes:
            if entry.action is Action.DELETED:
                continue
            stored = entry.stored
            version = (stored or {}).get("metadata", {}).get("resourceVersion")
            if not version:
                if entry.action is Action.SKIPPED:
                    continue
                return
            ref = ObjectRef.parse(entry.id)
            api_version = f"{ref.group}/{entry.version}" if ref.group else entry.version
            by_kind[(api_version, ref.kind)][object_key(stored)] = version
        try:
            versions = {
                await mapper.resource_type(api_version, kind): seen
                for (api_version, kind), seen in by_kind.items()
            }
        except KubeError:  # a kind gone since the apply: nothing to follow, the normal path next
            return
        self._versions.follow(versions)
        self._applied[key] = _Applied(fingerprint, _inventory_digest(status), versions)

    def forget(self, key: Key) -> None:
        """Drop what is remembered of a Kustomization (suspended, deleted)."""
        self._applied.pop(key, None)


def _why_not(
    applied: _Applied | None, fingerprint: Fingerprint | None, status: dict[str, Any]
) -> str | None:
    """Why ``applied`` cannot stand for this reconcile, from memory alone (None: it may)."""
    if fingerprint is None:
        return "kubeConfig or healthChecks set"
    if applied is None:
        return "nothing remembered"
    if applied.fingerprint != fingerprint:
        return "revision, spec or manifests changed"
    if status.get("lastAppliedRevision") != fingerprint.revision:
        return "status.lastAppliedRevision differs"
    if _inventory_digest(status) != applied.inventory:
        return "status.inventory differs"
    return None


def _inventory_digest(status: dict[str, Any]) -> str:
    entries = (status.get("inventory") or {}).get("entries") or []
    encoded = json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
