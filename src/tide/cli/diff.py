"""``tide diff kustomization NAME --path DIR``: what applying DIR would change in the cluster.

DIR is built as the controller builds it (:mod:`tide.cli._local_build`); each object is then
server-side applied as a *dry run* with the controller's field manager, and the result compared
with the live object the way the controller decides ``configured`` from ``unchanged``
(:func:`tide.kube.ssa.diff.has_drifted`). Objects in the Kustomization's inventory that DIR no
longer holds are shown as deleted when ``spec.prune`` is on. Nothing is written. Secret values are
masked. Exit codes, as ``flux diff``: 0 no differences, 1 differences, 2 an error.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from tide.api import kinds
from tide.cli._local_build import build_folder, parse_kustomization
from tide.cli._session import ClusterOptions, CommandError, cluster_command, out, run_command
from tide.inspect import inventory as _inventory
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeNotFound
from tide.kube.resources import resource_type
from tide.kube.ssa.changeset import ObjectRef
from tide.kube.ssa.diff import has_drifted, normalise

__all__ = ["Differences", "app", "changes_for", "masked"]

app = typer.Typer(help="Show what applying local changes would do.", no_args_is_help=True)

_MASK = "***"


class Differences(Exception):
    """There are differences: exit 1 after printing them."""


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


def _subject(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{obj.get('kind')}/{namespace}/{name}" if namespace else f"{obj.get('kind')}/{name}"


def _unified(live: Mapping[str, Any], dry_run: Mapping[str, Any]) -> str:
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
        return f"► {_subject(obj)} created"
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
        return f"► {_subject(manifest)} created"
    dry_run = await client.apply(rt, manifest, force=True, dry_run=True)
    if not has_drifted(live, dry_run):
        return None
    return f"► {_subject(manifest)} drifted\n{_unified(live, dry_run)}"


async def changes_for(
    client: KubeClient, obj: dict[str, Any], folder: Path, *, root: Path | None = None
) -> list[str]:
    """Return what applying ``folder`` for Kustomization ``obj`` would change, one entry each.

    Raises:
        CommandError: the folder does not build (the controller's message).
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
        for ref in _inventory.entries_of(obj):
            unset = dataclasses.replace(ref, namespace="")  # built without a namespace
            if ref not in built_refs and not (
                ref.namespace == default_namespace and unset in built_refs
            ):
                changes.append(f"► {ref.subject} deleted")
    return changes


async def _diff(name: str, folder: Path, options: ClusterOptions) -> None:
    rt = resource_type("Kustomization")
    async with options.client(field_manager=kinds.KUSTOMIZE_CONTROLLER) as client:
        obj = await client.get_or_none(rt, name, namespace=options.namespace)
        if obj is None:
            raise CommandError(
                f'Kustomization "{name}" not found in "{options.namespace}" namespace'
            )
        changes = await changes_for(client, obj, folder)
    for change in changes:
        out.print(change, markup=False, highlight=False, soft_wrap=True)
    if changes:
        raise Differences


@app.command("kustomization")
@cluster_command
def kustomization(
    options: ClusterOptions,
    name: Annotated[str, typer.Argument(help="The Kustomization's name.")],
    path: Annotated[Path, typer.Option("--path", help="The local folder standing for spec.path.")],
) -> None:
    """Show the server-side dry-run diff of a local folder against the live cluster."""
    try:
        run_command(_diff(name, path, options), failure_code=2)
    except Differences:
        raise typer.Exit(1) from None


app.command("ks", hidden=True)(kustomization)
