"""The chart's ``crds/`` under the ``install.crds`` / ``upgrade.crds`` policies.

Helm creates the CRDs of ``crds/`` on install (skipping those that exist) and never touches
them on upgrade. Flux's policies go further, and Tide does what they ask itself, with the CRD
objects the Helm SDK reads from the chart (``Chart.crds``):

- ``Skip``: leave them out (Helm is told ``skip_crds``);
- ``Create``: create the missing ones, leave the existing ones as they are;
- ``CreateReplace``: create the missing ones and replace the existing ones whole (a PUT with
  the live ``resourceVersion``, as Flux replaces them), so a new chart version's schema
  reaches the cluster. CRDs the chart no longer has are never deleted.

Then it waits until each CRD it wrote is Established, so the chart's templates may hold
custom resources of it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tide import yamlio
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeConflict, KubeError
from tide.kube.ssa import ResourceManager
from tide.kube.ssa.wait import wait_for

__all__ = ["CRDError", "apply_crds", "policy", "tide_applies"]

_DEFAULTS = {"install": "Create", "upgrade": "Skip"}
"""The policy of each action when ``crds`` is not set (Flux's)."""


class CRDError(Exception):
    """A CRD of the chart could not be created, replaced, or did not become Established."""


def policy(action: str, spec: Any) -> str:
    """``Skip``, ``Create`` or ``CreateReplace`` for ``action`` (``install`` or ``upgrade``).

    ``spec`` is ``spec.install`` or ``spec.upgrade`` (or None); the deprecated
    ``install.skipCRDs`` reads as ``Skip`` when no ``crds`` is set.
    """
    chosen = getattr(spec, "crds", None)
    if chosen:
        return str(chosen)
    if action == "install" and getattr(spec, "skip_crds", None):
        return "Skip"
    return _DEFAULTS[action]


def tide_applies(action: str, chosen: str) -> bool:
    """Whether Tide writes the CRDs itself (Helm does only ``Create`` on install)."""
    return chosen == "CreateReplace" or (chosen == "Create" and action == "upgrade")


def _chart_crds(chart: Path) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions in the chart's (and its subcharts') ``crds/``."""
    import helm_python as helm

    try:
        with helm.Chart.load(chart) as loaded:
            files = loaded.crds
    except helm.HelmError as error:
        raise CRDError(f"cannot read the chart's CRDs: {error}") from None
    found = []
    for file in files:
        try:
            documents = yamlio.load_all(file["data"])
        except yamlio.YAMLError as error:
            raise CRDError(f"{file['name']}: not YAML ({yamlio.describe(error)})") from None
        for document in documents:
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                found.append(document)
    return found


async def apply_crds(
    chart: Path, *, client: KubeClient, mapper: RESTMapper, replace: bool, timeout: float
) -> list[str]:
    """Create the chart's missing CRDs (and with ``replace`` replace the others); wait for them.

    Returns the names of the CRDs written, in the chart's order.

    Raises:
        CRDError: naming the CRD and the API server's words, or the CRDs not Established.
    """
    crds = await asyncio.to_thread(_chart_crds, chart)
    written = []
    for crd in crds:
        name = (crd.get("metadata") or {}).get("name", "")
        try:
            live = await client.get_or_none(resources.CRD, name)
            if live is None:
                written.append(await client.create(resources.CRD, crd))
            elif replace:
                written.append(await _replace(client, crd, live))
        except KubeError as error:
            verb = "replace" if replace else "create"
            raise CRDError(f"cannot {verb} CustomResourceDefinition '{name}': {error}") from error
    if written:
        manager = ResourceManager(client, mapper, client.field_manager, owner_labels={})
        waiting = await wait_for(manager, written, timeout=timeout)
        if waiting:
            raise CRDError(f"CRDs not established after {timeout:.0f}s: {'; '.join(waiting)}")
    return [crd["metadata"]["name"] for crd in written]


async def _replace(client: KubeClient, crd: dict[str, Any], live: dict[str, Any]) -> dict:
    """PUT ``crd`` over ``live``; once more with a fresh resourceVersion if someone wrote."""
    for attempt in (1, 2):
        version = live["metadata"]["resourceVersion"]
        metadata = {**crd["metadata"], "resourceVersion": version}
        try:
            return await client.replace(resources.CRD, {**crd, "metadata": metadata})
        except KubeConflict:
            if attempt == 2:
                raise
            live = await client.get(resources.CRD, crd["metadata"]["name"])
    raise AssertionError("unreachable")
