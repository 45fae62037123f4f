"""Helpers shared by the HelmRelease tests."""

from __future__ import annotations

from typing import Any

from tests.integration.helpers import condition, eventually
from tide.api.keys import REQUESTED_AT
from tide.helm.setup import HELM_RELEASE
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType
from tide.source.helmrepository import HELM_REPOSITORY
from tide.testing import ChartRepository

DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments")

DEPLOYMENT_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {app: {{ .Release.Name }}}
  annotations: {greeting: {{ .Values.greeting | quote }}}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{ toJson . }}
      {{- end }}
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:{{ .Chart.Version }}
"""
"""A chart template: one Deployment named after the release, its replicas from the values; a
``nodeSelector`` no node matches keeps it from ever becoming Available."""

EXTRA_TEMPLATE = """\
{{- if .Values.extraConfigMap }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.extraConfigMap }}
data:
  greeting: {{ .Values.greeting | quote }}
{{- end }}
"""
"""An optional ConfigMap named by ``extraConfigMap``; a name the API server refuses fails the
release when Helm applies it (after rendering), which is how tests make an upgrade fail."""

TEMPLATES = {"deployment.yaml": DEPLOYMENT_TEMPLATE, "extra.yaml": EXTRA_TEMPLATE}


async def given_repository(kube: KubeClient, namespace: str, repo: ChartRepository) -> None:
    await kube.create(HELM_REPOSITORY, {
        "metadata": {"name": "charts", "namespace": namespace},
        "spec": {"interval": "10m", "url": repo.url},
    })  # fmt: skip


def chart_spec(version: str = "6.5.0", chart: str = "podinfo") -> dict[str, Any]:
    return {
        "spec": {
            "chart": chart,
            "version": version,
            "sourceRef": {"kind": "HelmRepository", "name": "charts"},
        }
    }


async def create_release(
    kube: KubeClient,
    namespace: str,
    name: str,
    spec: dict[str, Any],
    *,
    rt: ResourceType = HELM_RELEASE,
) -> None:
    await kube.create(rt, {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "10m", "chart": chart_spec(), **spec},
    })  # fmt: skip


async def wait_for(
    kube: KubeClient,
    namespace: str,
    name: str,
    *,
    status: str,
    reason: str | None = None,
    timeout: float = 90,
) -> dict[str, Any]:
    """Wait until Ready has ``status`` (and ``reason``) for the current generation."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(HELM_RELEASE, name, namespace=namespace)
        ready = condition(obj, "Ready")
        if ready is None or ready.get("observedGeneration") != obj["metadata"]["generation"]:
            return None
        if ready["status"] == status and (reason is None or ready["reason"] == reason):
            return obj
        return None

    return await eventually(
        probe, timeout=timeout, what=f"HelmRelease {name} Ready={status} {reason or ''}"
    )


async def wait_for_released(
    kube: KubeClient, namespace: str, name: str, *, reason: str, timeout: float = 60
) -> dict[str, Any]:
    """Wait until the ``Released`` condition has ``reason`` (a failed action, say)."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(HELM_RELEASE, name, namespace=namespace)
        released = condition(obj, "Released")
        return obj if released and released["reason"] == reason else None

    return await eventually(probe, timeout=timeout, what=f"HelmRelease {name} Released={reason}")


async def release_secrets(kube: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    """Helm's storage records of release ``name``, oldest first."""
    secrets, _ = await kube.list(resources.SECRET, namespace=namespace, labels={"owner": "helm"})
    mine = [s for s in secrets if s["metadata"]["labels"].get("name") == name]
    return sorted(mine, key=lambda s: int(s["metadata"]["labels"]["version"]))


async def request_reconcile(kube: KubeClient, namespace: str, name: str, stamp: str) -> None:
    """Ask for a reconcile (``requestedAt``) and wait until the controller handled it."""
    patch = {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
    await kube.patch_merge(HELM_RELEASE, name, patch, namespace=namespace)

    async def handled() -> bool:
        obj = await kube.get(HELM_RELEASE, name, namespace=namespace)
        return obj["status"].get("lastHandledReconcileAt") == stamp

    await eventually(handled, what=f"the reconcile '{stamp}' of {name}")
