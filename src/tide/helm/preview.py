"""What the controller's next install or upgrade of a HelmRelease would change in the cluster.

For ``tide diff helmrelease``. The release is rendered the way the controller renders it: the
chart artifact its source holds now (digest checked), the values composed from ``valuesFrom``
and ``values``, and Helm's own install or upgrade — the same options and the same post-render
plugin (``postRenderers``, ``commonMetadata``) — run as a server-side dry run, which applies
and stores nothing. Each object of that manifest is then compared with the cluster the way
drift detection compares (:func:`tide.helm.drift.compare`: an apply dry run as Helm's field
manager); objects of the deployed release the new manifest no longer holds are the ones Helm
would delete. The chart's ``crds/`` are left out: Helm applies them apart from the manifest.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tide import yamlio
from tide.api.helm import HelmRelease
from tide.helm import chart, drift, inputs, naming, postrender
from tide.helm import values as helm_values
from tide.helm.actions import nothing_deployed
from tide.helm.request import action_options
from tide.helm.sdk import ActionError, Helm
from tide.helm.target import Target, Targets
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper, UnknownKind
from tide.kube.errors import KubeError
from tide.kube.ssa.changeset import subject
from tide.runtime.reconcile import TerminalError
from tide.runtime.steps import StepFailed

__all__ = ["Preview", "PreviewError", "preview"]


class PreviewError(Exception):
    """The release cannot be rendered (the message says which input and why)."""


@dataclass
class Preview:
    """The outcome of :func:`preview`.

    Attributes:
        action: ``install`` or ``upgrade``, what the controller would run.
        compared: each object of the new manifest beside its live copy.
        deleted: ``Kind/ns/name`` of the deployed release's objects the new manifest drops.
    """

    action: str
    compared: list[drift.Comparison] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _source(release: HelmRelease) -> tuple[str, str, str]:
    """The kind, namespace and name of the object holding the release's chart artifact."""
    own = release.metadata.namespace or "default"
    if release.spec.chart is not None:
        source = release.spec.chart.spec.source_ref
        return "HelmChart", source.namespace or own, naming.chart_name(release)
    ref = release.spec.chart_ref
    assert ref is not None
    return ref.kind, ref.namespace or own, ref.name


async def _artifact(client: KubeClient, release: HelmRelease) -> dict[str, Any]:
    kind, namespace, name = _source(release)
    rt = chart.HELM_CHART if kind == "HelmChart" else chart.OCI_REPOSITORY
    found = await client.get_or_none(rt, name, namespace=namespace)
    if found is None:
        raise PreviewError(f"{kind} '{namespace}/{name}' not found")
    artifact = (found.get("status") or {}).get("artifact")
    if not artifact:
        raise PreviewError(f"{kind} '{namespace}/{name}' has no artifact yet")
    return artifact


async def _refs(manifest: str, namespace: str, mapper: RESTMapper) -> dict[str, dict[str, Any]]:
    """The manifest's objects by ``Kind/ns/name`` (namespaced kinds get ``namespace``)."""
    found = {}
    for document in yamlio.load_all(manifest):
        if not isinstance(document, dict) or not document.get("kind"):
            continue
        metadata = document.setdefault("metadata", {})
        try:
            namespaced = (await mapper.for_object(document)).namespaced
        except (UnknownKind, KubeError):
            namespaced = bool(metadata.get("namespace"))
        if namespaced:
            metadata["namespace"] = metadata.get("namespace") or namespace
        else:
            metadata.pop("namespace", None)
        found[subject(document)] = document
    return found


async def preview(obj: dict[str, Any], client: KubeClient) -> Preview:
    """Render HelmRelease ``obj`` as the controller would and compare it with the cluster.

    ``client`` reads the HelmRelease's inputs and, unless ``spec.kubeConfig`` names another
    cluster, is the cluster Helm's dry run and the comparison go to.

    Raises:
        PreviewError: the spec, a values object, the chart artifact or Helm's render failed.
    """
    try:
        release = HelmRelease.model_validate(obj)
    except ValueError as error:
        raise PreviewError(
            f"invalid HelmRelease: {' '.join(str(error).splitlines()[:3])}"
        ) from None
    name, namespace = naming.release_name(release), naming.target_namespace(release)
    if naming.storage_namespace(release) != namespace:
        raise PreviewError(
            "spec.storageNamespace differs from the target namespace: Helm's dry run needs the "
            "release's records where it installs, so this release cannot be previewed yet"
        )
    helm = Helm(client.kubeconfig(), threads=1)
    targets = Targets(Target(helm, client, RESTMapper(client)))
    try:
        values = helm_values.compose(
            await inputs.values_documents(release, client), release.spec.values
        )
        cluster = await targets.for_release(release)
        latest = await cluster.helm.get(name, namespace=namespace, user=None)
        action = "install" if nothing_deployed(latest) else "upgrade"
        spec = release.spec.install if action == "install" else release.spec.upgrade
        # crds/ are not part of the manifest; a dry run must not create them either.
        options = replace(action_options(release, spec), skip_crds=True)
        with tempfile.TemporaryDirectory(prefix="tide-diff-") as scratch:
            artifact = await _artifact(client, release)
            path, _, _ = await chart.fetch_chart(artifact, Path(scratch))
            manifest = await cluster.helm.release(
                name, action=action, chart=path, values=values, namespace=namespace, user=None,
                options=options, render=postrender.render_spec(release), dry_run=True,
            )  # fmt: skip
        found = Preview(action)
        compared = drift.compare(
            manifest, release=name, namespace=namespace, client=cluster.client,
            mapper=cluster.mapper,
        )  # fmt: skip
        found.compared = [each async for each in compared]
        if latest is not None and action == "upgrade":
            new = await _refs(manifest, namespace, cluster.mapper)
            old = await _refs(latest.manifest, namespace, cluster.mapper)
            found.deleted = [ref for ref in old if ref not in new]
        return found
    except helm_values.ValuesError as error:
        raise PreviewError(str(error)) from None
    except (StepFailed, TerminalError, ActionError, KubeError) as error:
        raise PreviewError(str(error)) from None
    finally:
        await targets.close()
        helm.close()
