"""HelmRelease reconcile: references → dependencies → chart → values → Helm action → report.

Each step fails with one reason: ``AccessDenied`` (a blocked cross-namespace reference, stalls),
``InitFailed`` (a spec Tide cannot honour yet, stalls), ``DependencyNotReady``,
``ArtifactFailed`` (no chart artifact yet, or it cannot be fetched or loaded), ``ValuesError``,
then the Helm action's own (``InstallFailed``, ``UpgradeFailed``, ``RetriesExceeded``; see
:mod:`tide.helm.actions`). A release whose chart version and values digest match Helm's latest
``deployed`` revision makes no Helm action and no write. A release whose objects Tide waits for
(:mod:`tide.helm.readiness`) returns a silent wait, parked until they change.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from tide.api import reasons
from tide.api.helm import HelmRelease
from tide.helm import chart, drift, inputs, inventory, naming, readiness, storage
from tide.helm import values as helm_values
from tide.helm.actions import ReleaseRequest, run_release
from tide.helm.chart import ChartSource
from tide.helm.request import action_options
from tide.helm.sdk import ActionError, Helm
from tide.helm.target import Target, TargetGone, Targets
from tide.kube import resources
from tide.kube.cache import WatchCache, object_key
from tide.kube.client import KubeClient, service_account_user
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.runtime.acl import ReferencePolicy
from tide.runtime.steps import (
    Outcome,
    Progress,
    Stalled,
    StepFailed,
    Succeeded,
    Waiting,
    parse_object,
)
from tide.runtime.wakeups import Parking

__all__ = ["COMPONENT", "HelmReleasePipeline"]

log = logging.getLogger(__name__)

COMPONENT = "helm-controller"
"""Field manager, event source and owner of status fields, as Flux's controller."""


class HelmReleasePipeline:
    """Steps of a HelmRelease reconcile.

    Args:
        client: the controller's client (HelmCharts, values objects).
        helm: Helm actions on the same cluster.
        helm_releases: the HelmRelease watch cache (``dependsOn``).
        sources: HelmChart and OCIRepository watch caches, by kind.
        kustomizations: the Kustomization watch cache (``dependsOn`` with ``kind:
            Kustomization``). Default: None (such entries read "not found").
        default_service_account: impersonated when a HelmRelease names none (Flux's
            ``--default-service-account``). Default: None.
        requeue_dependency: seconds before a release waiting on a dependency or a chart
            looks again (their changes also wake it at once). Default: 30.
        references: the cross-namespace rule. Default: cross-namespace references allowed.
        workload_identity: honour ``spec.kubeConfig.configMapRef`` (the
            ``ObjectLevelWorkloadIdentity`` feature gate). Default: False (such releases stall).
        parking: wakes a release Tide waits for (:mod:`tide.helm.readiness`) on its objects'
            watch events. Default: None (such waits poll).
    """

    def __init__(
        self,
        *,
        client: KubeClient,
        helm: Helm,
        helm_releases: WatchCache,
        sources: dict[str, WatchCache],
        kustomizations: WatchCache | None = None,
        default_service_account: str | None = None,
        requeue_dependency: float = 30.0,
        references: ReferencePolicy | None = None,
        workload_identity: bool = False,
        parking: Parking | None = None,
    ) -> None:
        self._client = client
        self._waits = readiness.ReleaseWaits(parking)
        self._helm_releases = helm_releases
        self._kustomizations = kustomizations
        self._sources = sources
        self._default_service_account = default_service_account
        self._requeue = requeue_dependency
        self._references = references or ReferencePolicy()
        self._mapper = RESTMapper(client)
        self._targets = Targets(
            Target(helm, client, self._mapper), workload_identity=workload_identity
        )

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Install or upgrade the release ``obj`` describes, or confirm it is in sync."""
        key = (obj["metadata"].get("namespace"), obj["metadata"]["name"])
        try:
            return await self._run(obj, status, progress)
        finally:  # a wait this reconcile did not park again stops being woken
            self._waits.settle(key)

    async def _run(
        self, obj: dict[str, Any], status: dict[str, Any], progress: Progress
    ) -> Outcome:
        release = parse_object(HelmRelease, obj)
        self._check_dependency_references(release)
        blocked = inputs.dependency_not_ready(release, self._helm_releases, self._kustomizations)
        if blocked:
            return Waiting(reasons.DEPENDENCY_NOT_READY, blocked, retry_after=self._requeue)
        source = await self._chart_source(release, status)
        if source.artifact is None and source.stalled:  # bad input: a Warning, not a wait
            raise StepFailed(
                source.problem or "", reason=reasons.ARTIFACT_FAILED, retry_after=self._requeue
            )
        if source.artifact is None:
            return Waiting(reasons.ARTIFACT_FAILED, source.problem or "", self._requeue)
        composed = await self._values(release)
        cluster = await self._targets.for_release(release)
        request = ReleaseRequest(
            release=release,
            name=naming.release_name(release),
            namespace=naming.target_namespace(release),
            user=self._user(release),
            values=composed,
            config_digest=helm_values.config_digest(composed),
            chart_version=source.artifact["revision"] if source.kind == "HelmChart" else None,
            revision=source.artifact["revision"],
        )
        where = f"{request.namespace}/{request.name}"
        helm, moved_from = self._storage(cluster, release, request, status)
        with tempfile.TemporaryDirectory(prefix="tide-helmrelease-") as scratch:

            async def fetch() -> tuple[Path, str, str]:
                return await chart.fetch_chart(source.artifact or {}, Path(scratch))

            before = _latest_digest(status)
            try:
                try:
                    outcome = await run_release(
                        helm,
                        request,
                        status,
                        progress,
                        fetch,
                        cluster=cluster,
                        moved_from=moved_from,
                        waits=self._waits,
                    )
                finally:  # a move that failed leaves the records where they were
                    if moved_from is None or await _recorded(helm, request):
                        status["storageNamespace"] = naming.storage_namespace(release)
                if isinstance(outcome, Waiting):  # Tide waits for the objects: nothing to see
                    return outcome
                changed = _latest_digest(status) != before
                return await self._observe(
                    cluster, helm, request, status, progress, outcome, changed=changed
                )
            except ActionError as error:
                raise StepFailed(
                    f"could not read Helm release {where}: {error}", reason=reasons.INIT_FAILED
                ) from error

    async def close(self) -> None:
        """Close the connections to other clusters (``spec.kubeConfig``)."""
        await self._targets.close()

    def forget(self, namespace: str | None, name: str) -> None:
        """Stop waking a HelmRelease suspended, or deleted without finalizing."""
        self._waits.release((namespace, name))

    async def finalize(self, obj: dict[str, Any]) -> Waiting | None:
        """Uninstall the release (``uninstall.keepHistory`` keeps its records), drop the chart."""
        release = parse_object(HelmRelease, obj)
        self._waits.release((release.metadata.namespace, release.metadata.name))
        name, namespace = naming.release_name(release), naming.target_namespace(release)
        account = release.spec.service_account_name or self._default_service_account
        own = release.metadata.namespace or "default"
        gone = (
            account
            and (await self._client.get_or_none(resources.SERVICE_ACCOUNT, account, namespace=own))
            is None
        )
        uninstall = release.spec.uninstall
        if gone or release.spec.suspend:
            log.warning(
                "HelmRelease %s/%s: release %s left in place", own, obj["metadata"]["name"], name
            )
        else:
            options = action_options(release, uninstall)
            kept_in = (obj.get("status") or {}).get("storageNamespace")
            try:
                cluster = await self._targets.for_release(release)
                helm = storage.helm_for(
                    cluster.helm,
                    cluster.client,
                    storage=kept_in or naming.storage_namespace(release),
                    target=namespace,
                )
                await helm.uninstall(
                    name,
                    namespace=namespace,
                    user=self._user(release),
                    options=options,
                    keep_history=bool(uninstall and uninstall.keep_history),
                )
            except (TargetGone, Stalled) as error:  # nothing to uninstall with, now or later
                log.warning("HelmRelease %s/%s: %s; release left in place", own, name, error)
            except ActionError as error:
                raise StepFailed(
                    f"Helm uninstall failed for release {namespace}/{name}: {error}",
                    reason=reasons.UNINSTALL_FAILED,
                ) from error
        helm_chart = (obj.get("status") or {}).get("helmChart")
        if release.spec.chart is not None and helm_chart:
            chart_namespace, _, chart_name = helm_chart.partition("/")
            await self._client.delete(chart.HELM_CHART, chart_name, namespace=chart_namespace)
        return None

    # -- steps ------------------------------------------------------------------------------------
    @staticmethod
    def _storage(
        cluster: Target, release: HelmRelease, request: ReleaseRequest, status: dict[str, Any]
    ) -> tuple[Helm | storage.SplitStorage, Helm | storage.SplitStorage | None]:
        """Helm with the release's records where ``storageNamespace`` says; and, when that
        changed, Helm where they were (to uninstall from, as Flux moves a release)."""
        kept_in = naming.storage_namespace(release)
        before = status.get("storageNamespace")
        helm = storage.helm_for(
            cluster.helm, cluster.client, storage=kept_in, target=request.namespace
        )
        previous = (status.get("history") or [None])[0]
        if not before or before == kept_in or not previous:
            return helm, None
        old = storage.helm_for(
            cluster.helm, cluster.client, storage=before, target=previous["namespace"]
        )
        return helm, old

    def _check_dependency_references(self, release: HelmRelease) -> None:
        """Stall (``AccessDenied``) on a ``dependsOn`` entry the policy keeps out."""
        own = release.metadata.namespace or "default"
        for dependency in release.spec.depends_on or []:
            self._references.resolve(
                own,
                kind=dependency.kind or "HelmRelease",
                name=dependency.name,
                namespace=dependency.namespace,
            )

    async def _chart_source(self, release: HelmRelease, status: dict[str, Any]) -> ChartSource:
        """Keep the generated HelmChart as the template says (or drop it); find the chart."""
        generated = None
        if release.spec.chart is not None:
            generated = await chart.ensure_chart(
                release,
                client=self._client,
                charts=self._sources["HelmChart"],
                policy=self._references,
            )
        await self._forget_old_chart(status, generated)
        source = chart.locate(
            release, chart=generated, sources=self._sources, policy=self._references
        )
        if source.kind == "HelmChart":
            status["helmChart"] = source.ref
        return source

    async def _observe(
        self,
        cluster: Target,
        helm: Helm | storage.SplitStorage,
        request: ReleaseRequest,
        status: dict[str, Any],
        progress: Progress,
        outcome: Succeeded,
        *,
        changed: bool,
    ) -> Succeeded:
        """Record the release's objects after it changed; check a release in sync for drift."""
        spec = request.release.spec
        mode = spec.drift_detection.mode if spec.drift_detection else None
        drift_on = mode in ("warn", "enabled") and not changed
        refresh = changed or "inventory" not in status
        if not (refresh or drift_on):
            return outcome
        where = {"namespace": request.namespace, "user": request.user}
        latest = await helm.get(request.name, **where)
        manifest = latest.manifest if latest is not None else ""
        if refresh:
            found = await inventory.entries(manifest, request.namespace, cluster.mapper)
            status["inventory"] = {"entries": found}
        if drift_on:
            outcome = await self._drift(cluster, request, manifest, outcome, progress, str(mode))
        return outcome

    async def _drift(
        self,
        cluster: Target,
        request: ReleaseRequest,
        manifest: str,
        outcome: Succeeded,
        progress: Progress,
        mode: str,
    ) -> Succeeded:
        """Check a release in sync for drift; correct it (``enabled``) or report it (``warn``).

        Drift left in place is named in Ready's message (so it is written once, when it
        appears) and in a Warning event; corrected drift is a Normal event.
        """
        client = cluster.client
        if request.user:
            client = client.impersonating(request.user)
        found = await drift.check(
            manifest,
            release=request.name,
            namespace=request.namespace,
            client=client,
            mapper=cluster.mapper,
            correct=mode == "enabled",
            ignored=getattr(request.release.spec.drift_detection, "ignore", None) or (),
        )
        if found.corrected:
            listed = ", ".join(found.corrected)
            await progress.event(reasons.DRIFT_CORRECTED, f"Cluster state corrected: {listed}")
        left = [s for s in found.drifted if s not in found.corrected] + found.failed
        if not left:
            return outcome
        listed = "; ".join(left)
        await progress.event(reasons.DRIFT_DETECTED, f"Drift detected: {listed}", warning=True)
        return replace(outcome, message=f"{outcome.message}; drift detected: {listed}")

    def _user(self, release: HelmRelease) -> str | None:
        account = release.spec.service_account_name or self._default_service_account
        if not account:
            return None
        return service_account_user(release.metadata.namespace or "default", account)

    async def _values(self, release: HelmRelease) -> dict[str, Any]:
        try:
            documents = await inputs.values_documents(release, self._client)
            return helm_values.compose(documents, release.spec.values)
        except helm_values.ValuesError as error:
            raise StepFailed(str(error), reason=reasons.VALUES_ERROR) from error

    async def _forget_old_chart(self, status: dict[str, Any], now: dict[str, Any] | None) -> None:
        """Delete the HelmChart generated before when the spec no longer asks for it."""
        before = status.get("helmChart")
        if not before or (now is not None and before == "/".join(object_key(now))):
            return
        namespace, _, name = before.partition("/")
        previous = self._sources["HelmChart"].get(namespace, name)
        labels = ((previous or {}).get("metadata") or {}).get("labels") or {}
        if previous is not None and chart.HELM_RELEASE_NAME in labels:
            try:
                await self._client.delete(chart.HELM_CHART, name, namespace=namespace)
            except KubeError as error:
                log.warning("could not delete HelmChart %s: %s", before, error)
        status.pop("helmChart", None)


async def _recorded(helm: Helm | storage.SplitStorage, request: ReleaseRequest) -> bool:
    """Whether the release has a record where ``helm`` keeps them (a move got that far).

    The newest revision's digest cannot tell: a release moved with unchanged chart and values
    gets the digest it had before the move.
    """
    try:
        found = await helm.get(request.name, namespace=request.namespace, user=request.user)
    except ActionError:
        return False
    return found is not None


def _latest_digest(status: dict[str, Any]) -> str | None:
    """The digest of the newest revision in ``status.history`` (None without one)."""
    return (status.get("history") or [{}])[0].get("digest")
