"""What applying a folder for a Kustomization would change in the live cluster.

The folder is built as the controller builds it (:mod:`tide.inspect.local_build`); each object
is then server-side applied as a *dry run* with the client's field manager (the controller's,
so field ownership is judged as its apply would be), and the result compared with the live
object the way the controller tells ``configured`` from ``unchanged``
(:func:`tide.kube.ssa.diff.has_drifted`). Objects in the inventory the folder no longer holds
are listed as deleted when ``spec.prune`` is on. Nothing is written. Secret values are masked.
``tide diff``, ``tide plan`` and the dashboard all read changes here.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tide.inspect import inventory
from tide.inspect.local_build import build_folder, parse_kustomization
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeNotFound
from tide.kube.ssa.changeset import ObjectRef
from tide.kube.ssa.diff import has_drifted, normalise

__all__ = ["changes_for", "masked", "subject", "unified"]

_MASK = "***"


def masked(
    live: Mapping[str, Any], merged: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return both sides normalised for display, a Secret's values masked.

    A value the change keeps reads ``***`` on both sides; one it changes reads ``***`` then
    ``*** (changed)``, so the diff says which keys change without showing any value.
    """
    before, after = normalise(live), normalise(merged)
    if after.get("kind") != "Secret" or after.get("apiVersion") != "v1":
        return before, after
    for side in (before, after):
        annotations = (side.get("metadata") or {}).get("annotations") or {}
        annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    for key in ("data", "stringData"):
        old, new = before.get(key) or {}, after.get(key) or {}
        if isinstance(old, dict) and old:
            before[key] = dict.fromkeys(old, _MASK)
        if isinstance(new, dict) and new:
            after[key] = {
                name: _MASK if old.get(name) == value else f"{_MASK} (changed)"
                for name, value in new.items()
            }
    return before, after


def subject(obj: Mapping[str, Any]) -> str:
    """Name ``obj`` as a diff heading does: ``Kind/namespace/name``, or ``Kind/name``."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{obj.get('kind')}/{namespace}/{name}" if namespace else f"{obj.get('kind')}/{name}"


def unified(live: Mapping[str, Any], dry_run: Mapping[str, Any]) -> str:
    """Return the unified diff from ``live`` to ``dry_run``, Secret values masked in both."""
    shown_live, shown_merged = masked(live, dry_run)
    before = yaml.safe_dump(shown_live, sort_keys=True).splitlines(keepends=True)
    after = yaml.safe_dump(shown_merged, sort_keys=True).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, "live", "merged", n=2))


async def _diff_object(
    client: KubeClient, mapper: RESTMapper, obj: dict[str, Any], default_namespace: str
) -> str | None:
    """Return what changes for ``obj`` (a heading and a diff), or None when nothing does."""
    try:
        rt = await mapper.for_object(obj)
    except UnknownKind:  # a custom resource whose CRD this same change adds
        return f"► {subject(obj)} created"
    manifest = copy.deepcopy(obj)
    metadata = manifest.setdefault("metadata", {})
    if rt.namespaced:
        metadata.setdefault("namespace", default_namespace)
    else:
        metadata.pop("namespace", None)
    live = await client.get_or_none(rt, metadata["name"], namespace=metadata.get("namespace"))
    if live is None:
        with contextlib.suppress(KubeNotFound):  # its Namespace comes with this same change
            await client.apply(rt, manifest, force=True, dry_run=True)  # the server validates
        return f"► {subject(manifest)} created"
    dry_run = await client.apply(rt, manifest, force=True, dry_run=True)
    if not has_drifted(live, dry_run):
        return None
    return f"► {subject(manifest)} drifted\n{unified(live, dry_run)}"


async def changes_for(
    client: KubeClient, obj: dict[str, Any], folder: Path, *, root: Path | None = None
) -> list[str]:
    """Return what applying ``folder`` for Kustomization ``obj`` would change, one entry each.

    Raises:
        LocalBuildError: the folder does not build (the controller's message).
    """
    kustomization = parse_kustomization(obj)
    built = await build_folder(kustomization, folder, client=client, root=root)
    mapper = RESTMapper(client)
    default_namespace = kustomization.spec.target_namespace or (
        kustomization.metadata.namespace or "default"
    )
    changes: list[str] = []
    built_refs = set()
    for each in built:
        change = await _diff_object(client, mapper, each, default_namespace)
        if change:
            changes.append(change)
        built_refs.add(ObjectRef.of(each))
    if kustomization.spec.prune:
        for ref in inventory.entries_of(obj):
            unset = dataclasses.replace(ref, namespace="")  # built without a namespace
            if ref not in built_refs and not (
                ref.namespace == default_namespace and unset in built_refs
            ):
                changes.append(f"► {ref.subject} deleted")
    return changes
