"""Drift detection: do the release's objects in the cluster still match Helm's manifest?

Each object of the stored manifest is compared with the live one through a server-side apply
dry run made as Helm's own field manager, with the labels and annotations Helm adds when it
applies (``app.kubernetes.io/managed-by: Helm``, ``meta.helm.sh/release-name|namespace``): a
field someone changed, or an object someone deleted, is drift; fields other managers own (a
HorizontalPodAutoscaler's replicas, a controller's annotations) are not. With ``mode:
enabled`` the drifted objects are applied again the same way — what ``helm upgrade`` would put
back — and nothing else is touched. Fields ``driftDetection.ignore`` names take the cluster's
value first (:mod:`tide.helm.ignore`), so they are neither reported nor put back.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tide import yamlio
from tide.api.helm import IgnoreRule
from tide.helm import ignore
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeError
from tide.kube.ssa import diff
from tide.kube.ssa.changeset import subject

__all__ = ["Comparison", "Drift", "check", "compare"]

_HELM_MANAGER = "helm"
"""Field manager used when the live object names none that Helm applied with."""
_MARK = "f:meta.helm.sh/release-name"
"""A field only Helm's own apply owns: it tells which manager is Helm's."""


@dataclass
class Drift:
    """What a drift check found.

    Attributes:
        drifted: ``Kind/ns/name`` of every object that differs from the manifest (or is gone).
        corrected: those applied again (``mode: enabled``).
        failed: ``Kind/ns/name: why`` for objects that could not be checked or corrected.
    """

    drifted: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _helm_manager(live: Mapping[str, Any]) -> str:
    """The field manager Helm applied ``live`` with (the SDK names it after the process)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("operation") == "Apply" and _MARK in str(entry.get("fieldsV1")):
            return str(entry.get("manager") or _HELM_MANAGER)
    return _HELM_MANAGER


def _as_helm_applies(document: dict[str, Any], release: str, namespace: str) -> dict[str, Any]:
    obj = copy.deepcopy(document)
    metadata = obj.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), "app.kubernetes.io/managed-by": "Helm"}
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        "meta.helm.sh/release-name": release,
        "meta.helm.sh/release-namespace": namespace,
    }
    return obj


def _as_manager(client: KubeClient, manager: str) -> KubeClient:
    if client.field_manager == manager:
        return client
    other = copy.copy(client)  # shares the connection and the write counter
    other.field_manager = manager
    return other


@dataclass(frozen=True)
class Comparison:
    """One object of a manifest beside the cluster's copy.

    Attributes:
        obj: the object as Helm applies it (its labels, annotations and namespace added).
        live: the object in the cluster (None when it does not exist).
        dry_run: what a server-side apply of ``obj`` as Helm's field manager would make of
            ``live`` (None when there is no live object, or on ``error``).
        applier: a client applying as Helm's field manager, as the identity given.
        error: why the object could not be compared (its kind unknown, the API's refusal).
    """

    obj: dict[str, Any]
    live: dict[str, Any] | None
    dry_run: dict[str, Any] | None
    applier: KubeClient
    error: str | None = None

    @property
    def drifted(self) -> bool:
        """Whether applying the object would change the cluster (or create it)."""
        return (
            self.live is None or self.dry_run is None or diff.has_drifted(self.live, self.dry_run)
        )


async def compare(
    manifest: str,
    *,
    release: str,
    namespace: str,
    client: KubeClient,
    mapper: RESTMapper,
    ignored: Sequence[IgnoreRule] = (),
) -> AsyncIterator[Comparison]:
    """Yield each object of ``manifest`` beside its live copy, through an apply dry run.

    The comparison drift detection and ``tide diff helmrelease`` share. Args as :func:`check`.
    """
    for document in yamlio.load_all(manifest):
        if not isinstance(document, dict) or not document.get("kind"):
            continue
        obj = _as_helm_applies(document, release, namespace)
        try:
            rt = await mapper.for_object(obj)
            if rt.namespaced:
                obj["metadata"]["namespace"] = obj["metadata"].get("namespace") or namespace
            else:
                obj["metadata"].pop("namespace", None)
            name, where = obj["metadata"]["name"], obj["metadata"].get("namespace")
            live = await client.get_or_none(rt, name, namespace=where)
            obj = ignore.apply_ignored(obj, live, ignore.ignored_paths(ignored, obj))
            applier = _as_manager(client, _helm_manager(live or {}))
            dry_run = None
            if live is not None:
                dry_run = await applier.apply(rt, obj, force=True, dry_run=True)
        except (KubeError, UnknownKind, ignore.IgnoreError, re.error) as error:
            yield Comparison(obj, None, None, client, error=str(error))
            continue
        yield Comparison(obj, live, dry_run, applier)


async def check(
    manifest: str,
    *,
    release: str,
    namespace: str,
    client: KubeClient,
    mapper: RESTMapper,
    correct: bool,
    ignored: Sequence[IgnoreRule] = (),
) -> Drift:
    """Compare the release's objects with the cluster; apply drifted ones again if ``correct``.

    Args:
        manifest: the release's stored manifest.
        release: the Helm release name.
        namespace: the release namespace (for objects that name none).
        client: reads and applies as this identity (the release's ServiceAccount, if any).
        mapper: resolves each kind.
        correct: put drifted objects back (``driftDetection.mode: enabled``).
        ignored: ``driftDetection.ignore`` rules. Default: none.
    """
    found = Drift()
    compared = compare(
        manifest, release=release, namespace=namespace, client=client, mapper=mapper,
        ignored=ignored,
    )  # fmt: skip
    async for each in compared:
        if each.error is not None:
            found.failed.append(f"{subject(each.obj)}: {each.error}")
            continue
        if not each.drifted:
            continue
        found.drifted.append(subject(each.obj))
        if correct:
            try:
                rt = await mapper.for_object(each.obj)
                await each.applier.apply(rt, each.obj, force=True)
            except KubeError as error:
                found.failed.append(f"{subject(each.obj)}: {error}")
                continue
            found.corrected.append(subject(each.obj))
    return found
