"""Where a HelmRelease's chart comes from: its own HelmChart, or the one ``chartRef`` names.

``spec.chart`` is a template: the controller creates a HelmChart ``<namespace>-<name>`` in the
source's namespace, labelled with the HelmRelease it belongs to, and keeps its spec equal to the
template (written only when it differs). ``spec.chartRef`` names an existing HelmChart or
OCIRepository instead. Either way the release waits until that object has an artifact for its
current generation; until then it reads ``ArtifactFailed`` with the source's own words.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import conditions, reasons
from tide.api.helm import HelmRelease
from tide.api.keys import HELM_RELEASE_NAME, HELM_RELEASE_NAMESPACE
from tide.artifacts import ArtifactFetchError, fetch_artifact
from tide.helm import naming
from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient
from tide.kube.resources import resource_type
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import StepFailed

__all__ = [
    "HELM_CHART",
    "OCI_REPOSITORY",
    "ChartSource",
    "desired_chart",
    "ensure_chart",
    "fetch_chart",
    "locate",
]

HELM_CHART = resource_type("HelmChart")
OCI_REPOSITORY = resource_type("OCIRepository")
_DEFAULTED = frozenset({"version", "reconcileStrategy", "interval"})
"""HelmChart spec fields the API server fills in when the template leaves them out."""


@dataclass(frozen=True)
class ChartSource:
    """The object a release reads its chart from, and its artifact once it has one.

    Attributes:
        kind: ``HelmChart`` or ``OCIRepository``.
        namespace: its namespace.
        name: its name.
        artifact: ``status.artifact`` (None while there is none to use).
        problem: why there is no usable artifact (the source's own Ready message).
        stalled: the source is ``Stalled`` (bad input over there, not a wait).
    """

    kind: str
    namespace: str
    name: str
    artifact: dict[str, Any] | None
    problem: str | None = None
    stalled: bool = False
    """The source gave up until its spec changes (no chart in the version range…)."""

    @property
    def ref(self) -> str:
        """``namespace/name``, as ``status.helmChart`` holds it."""
        return f"{self.namespace}/{self.name}"


def desired_chart(release: HelmRelease) -> dict[str, Any]:
    """Return the HelmChart ``spec.chart`` asks for (metadata and spec), as Flux shapes it."""
    template = release.spec.chart
    assert template is not None
    spec = template.spec
    meta = template.metadata
    owner = {
        HELM_RELEASE_NAME: release.metadata.name,
        HELM_RELEASE_NAMESPACE: release.metadata.namespace or "default",
    }
    metadata: dict[str, Any] = {
        "name": naming.chart_name(release),
        "namespace": spec.source_ref.namespace or release.metadata.namespace or "default",
        "labels": {**((meta.labels if meta else None) or {}), **owner},
    }
    if meta is not None and meta.annotations:
        metadata["annotations"] = dict(meta.annotations)
    chart_spec: dict[str, Any] = {
        "chart": spec.chart,
        "version": spec.version or "*",
        "sourceRef": {"kind": spec.source_ref.kind, "name": spec.source_ref.name},
        "interval": spec.interval or release.spec.interval,
        "reconcileStrategy": spec.reconcile_strategy or "ChartVersion",
    }
    if spec.source_ref.api_version:
        chart_spec["sourceRef"]["apiVersion"] = spec.source_ref.api_version
    if spec.values_files:
        chart_spec["valuesFiles"] = list(spec.values_files)
    if spec.values_file:
        chart_spec["valuesFile"] = spec.values_file
    if spec.ignore_missing_values_files is not None:
        chart_spec["ignoreMissingValuesFiles"] = spec.ignore_missing_values_files
    if spec.verify is not None:
        chart_spec["verify"] = spec.verify.model_dump(by_alias=True, exclude_none=True)
    return {
        "apiVersion": HELM_CHART.api_version,
        "kind": "HelmChart",
        "metadata": metadata,
        "spec": chart_spec,
    }


def _matches(current: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Tell whether the live HelmChart already is what the template asks for."""
    spec, wanted = current.get("spec") or {}, desired["spec"]
    if any(spec.get(key) != value for key, value in wanted.items()):
        return False
    if not set(spec) <= set(wanted) | _DEFAULTED:
        return False
    metadata, labels = current.get("metadata") or {}, desired["metadata"]["labels"]
    have = metadata.get("labels") or {}
    annotations = desired["metadata"].get("annotations") or {}
    return all(have.get(k) == v for k, v in labels.items()) and all(
        (metadata.get("annotations") or {}).get(k) == v for k, v in annotations.items()
    )


async def ensure_chart(
    release: HelmRelease, *, client: KubeClient, charts: WatchCache, policy: ReferencePolicy
) -> dict[str, Any]:
    """Create or update the HelmChart for ``spec.chart``; return it as the API server has it.

    Written with server-side apply only when the live object differs from the template, so
    an idle reconcile writes nothing. After a write, the reply (not the watch cache, which
    may lag) is what the release judges: its new generation is not reconciled yet.

    Raises:
        AccessDenied: the source is in another namespace and the policy blocks that.
    """
    desired = desired_chart(release)
    own = release.metadata.namespace or "default"
    source = release.spec.chart.spec.source_ref  # type: ignore[union-attr]
    namespace = policy.resolve(own, kind=source.kind, name=source.name, namespace=source.namespace)
    name = desired["metadata"]["name"]
    current = charts.get(namespace, name)
    if current is None or not _matches(current, desired):
        current = await client.apply(HELM_CHART, desired)
    return current


def locate(
    release: HelmRelease,
    *,
    chart: dict[str, Any] | None,
    sources: dict[str, WatchCache],
    policy: ReferencePolicy,
) -> ChartSource:
    """Find the chart's source object and whether it has an artifact to install.

    Args:
        release: the HelmRelease.
        chart: the generated HelmChart, when ``spec.chart`` is used.
        sources: watch caches of HelmCharts and OCIRepositories, by kind.
        policy: the cross-namespace rule for ``chartRef``.

    Raises:
        AccessDenied: ``chartRef`` names another namespace and the policy blocks that.
    """
    if chart is not None:
        kind, (namespace, name) = "HelmChart", object_key(chart)
    else:
        ref = release.spec.chart_ref
        assert ref is not None
        own = release.metadata.namespace or "default"
        kind, name = ref.kind, ref.name
        namespace = policy.resolve(own, kind=kind, name=name, namespace=ref.namespace)
    obj = sources[kind].get(namespace, name)
    if chart is not None and _newer(chart, obj):
        obj = chart
    where = f"{kind} '{namespace}/{name}'"
    if obj is None:
        return ChartSource(kind, namespace, name, None, f"{where} not found")
    status = obj.get("status") or {}
    ready = conditions.find(status, reasons.READY) or {}
    current = status.get("observedGeneration") == obj["metadata"].get("generation")
    artifact = status.get("artifact")
    if not current or ready.get("status") != "True" or not artifact:
        detail = ready.get("message") or "latest generation of object has not been reconciled"
        if ready.get("status") == "True" and not artifact:
            detail = "artifact not found"
        elif not current and ready.get("status") == "True":
            detail = "latest generation of object has not been reconciled"
        stalled = conditions.is_true(status, reasons.STALLED) and current
        message = f"{where} is not ready: {detail}"
        return ChartSource(kind, namespace, name, None, message, stalled=stalled)
    return ChartSource(kind, namespace, name, artifact)


def _newer(mine: dict[str, Any], cached: dict[str, Any] | None) -> bool:
    """Whether ``mine`` (a write's reply) is newer than the cached copy."""
    if cached is None:
        return True
    return (mine["metadata"].get("generation") or 0) > (cached["metadata"].get("generation") or 0)


async def fetch_chart(artifact: dict[str, Any], scratch: Path) -> tuple[Path, str, str]:
    """Download the chart artifact (digest checked), find the chart in it, read its metadata."""
    try:
        await fetch_artifact(artifact["url"], artifact["digest"], scratch)
    except ArtifactFetchError as error:
        raise StepFailed(str(error), reason=reasons.ARTIFACT_FAILED) from error
    found = await asyncio.to_thread(_charts_in, scratch)
    if len(found) != 1:
        raise StepFailed(
            f"artifact {artifact.get('revision')} holds no single Helm chart",
            reason=reasons.ARTIFACT_FAILED,
        )

    def metadata() -> tuple[str, str]:
        import helm_python as helm

        try:
            with helm.Chart.load(found[0]) as loaded:
                return loaded.name, loaded.version
        except helm.HelmError as error:
            raise StepFailed(
                f"chart in artifact {artifact.get('revision')} cannot be loaded: {error}",
                reason=reasons.ARTIFACT_FAILED,
            ) from None

    name, version = await asyncio.to_thread(metadata)
    return found[0], name, version


def _charts_in(folder: Path) -> list[Path]:
    """Chart folders (with a ``Chart.yaml``) and chart archives at the top of ``folder``."""
    return [p.parent for p in folder.glob("*/Chart.yaml")] + list(folder.glob("*.tgz"))
