"""Wire the Kustomization controller into a manager: its kind, its sources, its RESTMapper."""

from __future__ import annotations

from typing import Any

from tide.api import keys
from tide.artifacts import DEFAULT_MAX_UNPACKED_SIZE
from tide.kube.cache import object_key
from tide.kube.discovery import RESTMapper
from tide.kube.resources import resource_type
from tide.kube.versions import LiveVersions
from tide.kustomize import server as kustomize_server
from tide.kustomize.reconciler import KustomizationPipeline
from tide.runtime.acl import ReferencePolicy
from tide.runtime.controller import Controller
from tide.runtime.dependencies import wake_dependents
from tide.runtime.manager import Manager
from tide.runtime.reconcile import Request

__all__ = ["HELM_RELEASE", "KUSTOMIZATION", "SOURCE_KINDS", "setup"]

KUSTOMIZATION = resource_type("Kustomization")
SOURCE_KINDS = tuple(
    resource_type(kind) for kind in ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
)
"""Kinds a Kustomization's ``sourceRef`` may name."""
HELM_RELEASE = resource_type("HelmRelease")
"""Watched so ``dependsOn`` may name a HelmRelease (a Tide extension)."""


def setup(
    manager: Manager,
    *,
    default_service_account: str | None = None,
    requeue_dependency: float = 30.0,
    no_cross_namespace_refs: bool = False,
    artifact_max_unpacked_size: int | None = DEFAULT_MAX_UNPACKED_SIZE,
    no_remote_bases: bool = False,
) -> Controller:
    """Register the Kustomization controller with ``manager``; return it.

    Args:
        manager: the manager to run in.
        default_service_account: impersonated by Kustomizations that name no
            ``serviceAccountName`` (Flux's ``--default-service-account``). Default: None.
        requeue_dependency: seconds before a Kustomization waiting on a dependency looks again
            (Flux's ``--requeue-dependency``). Default: 30.
        no_cross_namespace_refs: stall Kustomizations whose ``sourceRef`` or ``dependsOn``
            names another namespace (``AccessDenied``), and let changes over there wake none
            of them (Flux's ``--no-cross-namespace-refs``). Default: False.
        artifact_max_unpacked_size: the most bytes a source artifact may unpack to
            (``--artifact-max-unpacked-size``; a Tide bound, Flux has none). Default: 1 GiB;
            None: no bound.
        no_remote_bases: refuse, before the build, kustomizations that refer to anything
            outside the artifact over the network (Flux's ``--no-remote-bases``). Default: False.
    """
    policy = ReferencePolicy(no_cross_namespace_refs=no_cross_namespace_refs)
    kustomizations = manager.cache_for(KUSTOMIZATION)  # dependencies may sit in another shard
    own = manager.shard_cache(KUSTOMIZATION)
    sources = {rt.kind: manager.cache_for(rt) for rt in SOURCE_KINDS}
    helm_releases = manager.cache_for(HELM_RELEASE)
    # A parked health check is woken through the controller made below (known by then).
    parking = manager.object_watches().parking(
        lambda key: controller.enqueue(Request(key[0] or "", key[1]))
    )
    # Applied objects' versions, so an idle reconcile needs no request per object.
    live_versions = LiveVersions(
        manager.client, label=keys.KUSTOMIZE_NAME_LABEL, namespace=manager.options.watch_namespace
    )
    manager.add_service(live_versions.start, live_versions.stop)
    pipeline = KustomizationPipeline(
        client=manager.client,
        mapper=RESTMapper(manager.client),
        kustomizations=kustomizations,
        sources=sources,
        helm_releases=helm_releases,
        default_service_account=default_service_account,
        requeue_dependency=requeue_dependency,
        references=policy,
        max_unpacked_size=artifact_max_unpacked_size,
        no_remote_bases=no_remote_bases,
        parking=parking,
        live_versions=live_versions,
    )
    manager.add_service(_nothing, kustomize_server.close_shared)
    controller = manager.add_object_controller(
        KUSTOMIZATION, pipeline, sources=sources, refers=lambda kind: _sourced_from(kind, policy)
    )
    dependencies = {"Kustomization": kustomizations, "HelmRelease": helm_releases}
    wake_dependents(own, controller, policy, kind="Kustomization", dependencies=dependencies)
    kustomizations.add_handler(_on_dependent_deleted(controller, policy))
    return controller


def _sourced_from(kind: str, policy: ReferencePolicy) -> Any:
    """Tell whether a Kustomization's ``sourceRef`` names a ``kind`` source.

    One that may not refer to the source (another namespace, locked down) stays stalled: its
    verdict cannot change until its own spec does.
    """

    def refers(kustomization: dict[str, Any], source: dict[str, Any]) -> bool:
        namespace, name = object_key(source)
        ref = (kustomization.get("spec") or {}).get("sourceRef") or {}
        own = kustomization["metadata"].get("namespace") or ""
        return (
            ref.get("kind") == kind
            and ref.get("name") == name
            and (ref.get("namespace") or own) == namespace
            and policy.allows(own, namespace)
        )

    return refers


def _on_dependent_deleted(controller: Controller, policy: ReferencePolicy) -> Any:
    """Wake the dependencies of a deleted Kustomization: their own deletion may wait on it.

    Not across namespaces the policy blocks: those dependencies never waited on it.
    """

    def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if new is not None or old is None:
            return
        own = old["metadata"].get("namespace") or ""
        for dependency in (old.get("spec") or {}).get("dependsOn") or []:
            namespace = dependency.get("namespace") or own
            if policy.allows(own, namespace):
                controller.enqueue(Request(namespace, dependency["name"]))

    return handle


async def _nothing() -> None:
    """The build server starts on the first build; only its stop is a service."""
