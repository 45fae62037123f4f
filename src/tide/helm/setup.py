"""Wire the HelmRelease controller into a manager: its kind, its chart sources, its wake-ups."""

from __future__ import annotations

from typing import Any

from tide.api.keys import WATCH, WATCH_ENABLED
from tide.helm.chart import HELM_CHART, OCI_REPOSITORY
from tide.helm.reconciler import COMPONENT, HelmReleasePipeline
from tide.helm.sdk import DEFAULT_BURST, DEFAULT_QPS, Helm
from tide.kube import resources
from tide.kube.cache import WatchCache, object_key
from tide.kube.resources import resource_type
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.dependencies import wake_dependents
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request

__all__ = ["HELM_RELEASE", "KUSTOMIZATION", "setup"]

HELM_RELEASE = resource_type("HelmRelease")
KUSTOMIZATION = resource_type("Kustomization")
"""Watched so ``dependsOn`` may name a Kustomization (a Tide extension)."""


def setup(
    manager: Manager,
    *,
    default_service_account: str | None = None,
    requeue_dependency: float = 30.0,
    no_cross_namespace_refs: bool = False,
    workload_identity: bool = False,
    kube_api_qps: float = DEFAULT_QPS,
    kube_api_burst: int = DEFAULT_BURST,
) -> Controller:
    """Register the HelmRelease controller with ``manager``; return it.

    Args:
        manager: the manager to run in.
        default_service_account: impersonated by HelmReleases that name no
            ``serviceAccountName`` (Flux's ``--default-service-account``). Default: None.
        requeue_dependency: seconds before a HelmRelease waiting on a dependency or its chart
            looks again (Flux's ``--requeue-dependency``). Default: 30.
        no_cross_namespace_refs: stall HelmReleases whose chart source, ``chartRef`` or
            ``dependsOn`` names another namespace (``AccessDenied``). Default: False.
        workload_identity: let HelmReleases reach clusters through
            ``spec.kubeConfig.configMapRef`` (Flux's ``ObjectLevelWorkloadIdentity`` feature
            gate); off, they stall with ``FeatureGateDisabled``. Default: False.
        kube_api_qps: requests per second of Helm's Kubernetes client, per namespace and
            identity (Flux's ``--kube-api-qps``). Default: 50.
        kube_api_burst: requests it may send back to back (``--kube-api-burst``). Default: 100.

    Helm gets an action thread per worker (``--concurrent``): an install holds its thread for
    the whole of Helm's wait, and no other release may queue behind it for one.
    """
    policy = ReferencePolicy(no_cross_namespace_refs=no_cross_namespace_refs)
    releases = manager.cache_for(HELM_RELEASE)  # dependencies may sit in another shard
    own = manager.shard_cache(HELM_RELEASE)
    sources = {rt.kind: manager.cache_for(rt) for rt in (HELM_CHART, OCI_REPOSITORY)}
    kustomizations = manager.cache_for(KUSTOMIZATION)
    helm = Helm(
        manager.client.kubeconfig(),
        threads=manager.options.workers,
        qps=kube_api_qps,
        burst=kube_api_burst,
    )

    async def started() -> None:
        """Nothing to start: Helm connects on its first action."""

    async def stop() -> None:
        await pipeline.close()
        helm.close()

    manager.add_service(started, stop)
    # A release Tide waits for is woken through the controller made below (known by then).
    parking = manager.object_watches().parking(
        lambda key: controller.enqueue(Request(key[0] or "", key[1]))
    )
    pipeline = HelmReleasePipeline(
        client=manager.client,
        helm=helm,
        helm_releases=releases,
        sources=sources,
        kustomizations=kustomizations,
        default_service_account=default_service_account,
        requeue_dependency=requeue_dependency,
        references=policy,
        workload_identity=workload_identity,
        parking=parking,
    )
    controller = manager.add_object_controller(
        HELM_RELEASE, pipeline, name="helmrelease", component=COMPONENT
    )
    for kind, cache in sources.items():
        cache.add_handler(_on_new_artifact(kind, own, controller))
    dependencies = {"HelmRelease": releases, "Kustomization": kustomizations}
    wake_dependents(own, controller, policy, kind="HelmRelease", dependencies=dependencies)
    for rt in (resources.CONFIG_MAP, resources.SECRET):
        watched = manager.cache_for(rt, labels={WATCH: WATCH_ENABLED})
        watched.add_handler(_on_values_changed(rt.kind, own, controller))
    return controller


def _chart_of(release: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the object a HelmRelease reads its chart from."""
    spec = release.get("spec") or {}
    own = release["metadata"].get("namespace") or ""
    if spec.get("chartRef"):
        ref = spec["chartRef"]
        return ref.get("kind", ""), ref.get("namespace") or own, ref.get("name", "")
    template = (spec.get("chart") or {}).get("spec") or {}
    if template:
        namespace = (template.get("sourceRef") or {}).get("namespace") or own
        return "HelmChart", namespace, f"{own}-{release['metadata']['name']}"
    return None


def _on_new_artifact(kind: str, releases: WatchCache, controller: Controller) -> Any:
    """Reconcile the HelmReleases whose chart source changed its artifact or its verdict."""

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is None:
            return
        if _verdict(old) == _verdict(new):
            return
        namespace, name = object_key(new)
        for release in releases.scan():
            if _chart_of(release) == (kind, namespace, name):
                controller.enqueue(Request(*object_key(release)))

    return handle


def _on_values_changed(kind: str, releases: WatchCache, controller: Controller) -> Any:
    """Reconcile the HelmReleases whose ``valuesFrom`` reads a watched object that changed.

    Only objects labelled ``reconcile.fluxcd.io/watch: Enabled`` are watched (as Flux does); a
    change of their data, or their arrival or removal, upgrades the release at once.
    """

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        current = new or old
        if current is None or _data(old) == _data(new):
            return
        namespace, name = object_key(current)
        for release in releases.scan():
            if release["metadata"].get("namespace") != namespace:
                continue
            for ref in (release.get("spec") or {}).get("valuesFrom") or []:
                if ref.get("kind") == kind and ref.get("name") == name:
                    controller.enqueue(Request(*object_key(release)))
                    break

    return handle


def _data(obj: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if obj is None:
        return None
    return obj.get("data"), obj.get("binaryData"), obj.get("stringData")


def _verdict(obj: dict[str, Any] | None) -> tuple[Any, ...]:
    status = (obj or {}).get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    artifact = status.get("artifact") or {}
    return (
        artifact.get("revision"),
        artifact.get("digest"),
        ready.get("status"),
        ready.get("message"),
        status.get("observedGeneration"),
    )
