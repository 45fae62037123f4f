"""Kustomization reconcile: dependencies → artifact → build → apply → prune → health → report.

Each step fails with one reason (``DependencyNotReady``, ``ArtifactFailed``, ``BuildFailed``,
``DecryptionFailed``, ``ReconciliationFailed``, ``PruneFailed``, ``HealthCheckFailed``). What was
applied before stays applied and stays in the inventory when a later step fails: objects are
pruned only after a fully successful apply, and a partial apply keeps the old entries too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tide.api import keys, kinds, reasons
from tide.api.keys import PARTIAL_APPLY
from tide.api.kustomize import Kustomization
from tide.api.meta import format_duration, parse_duration
from tide.artifacts import DEFAULT_MAX_UNPACKED_SIZE, ArtifactFetchError
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.kube.discovery import RESTMapper
from tide.kube.errors import KubeError
from tide.kube.ssa import ChangeSet, ManagerOptions, ResourceManager
from tide.kube.versions import LiveVersions
from tide.kustomize import health, history, inputs
from tide.kustomize.build import BuildError, BuildOptions
from tide.kustomize.build_cache import BuildCache
from tide.kustomize.decrypt import DecryptionError, decrypt, require_decryption
from tide.kustomize.substitute import substitute
from tide.kustomize.target import TargetGone, Targets
from tide.kustomize.unchanged import Fingerprint, Unchanged
from tide.kustomize.unpacked import UnpackedArtifacts
from tide.runtime.acl import ReferencePolicy
from tide.runtime.firstartifact import FirstArtifactWait
from tide.runtime.steps import Outcome, Progress, StepFailed, Succeeded, Waiting, parse_object
from tide.runtime.wakeups import Parking

__all__ = ["COMPONENT", "MANAGER_OPTIONS", "KustomizationPipeline"]

log = logging.getLogger(__name__)

COMPONENT = kinds.KUSTOMIZE_CONTROLLER
"""Field manager, event source and owner of status fields, as Flux's controller."""
MANAGER_OPTIONS = ManagerOptions(
    reconcile_annotation=keys.RECONCILE,
    ssa_annotation=keys.SSA,
    force_annotation=keys.FORCE,
    prune_annotation=keys.PRUNE,
)
"""The per-object annotations a Kustomization's objects may carry, under Flux's keys."""
_DELETION_POLL = 1.0
"""Seconds between looks while a deletion waits for its dependents (their removal also wakes it)."""
_DELETION_WAIT_LIMIT = 300.0
"""Seconds a deletion waits for dependents at most; then it goes on regardless."""
_HEALTH_POLL = 2.0
"""Seconds between two looks of a health check under way without watches to wake it."""
_DELETION_GRACE = 5.0
"""Seconds a deleted Kustomization with live dependents waits to see whether they go too."""


class KustomizationPipeline:
    """Steps of a Kustomization reconcile."""

    marks_progress = True
    """Its first mark ("Fetching manifests for revision …") comes before any slow step."""

    def __init__(
        self,
        *,
        client: KubeClient,
        mapper: RESTMapper,
        kustomizations: WatchCache,
        sources: dict[str, WatchCache],
        helm_releases: WatchCache | None = None,
        default_service_account: str | None = None,
        requeue_dependency: float = 30.0,
        references: ReferencePolicy | None = None,
        max_unpacked_size: int | None = DEFAULT_MAX_UNPACKED_SIZE,
        no_remote_bases: bool = False,
        parking: Parking | None = None,
        live_versions: LiveVersions | None = None,
    ) -> None:
        self._client = client
        self._mapper = mapper
        self._parking = parking
        """Wakes a parked health check on its objects' watch events (None: it polls)."""
        self._references = references or ReferencePolicy()
        self._targets = Targets(client, mapper, default_service_account=default_service_account)
        self._kustomizations = kustomizations
        self._sources = sources
        self._helm_releases = helm_releases
        self._requeue_dependency = requeue_dependency
        self._no_remote_bases = no_remote_bases
        self._builds = BuildCache()
        self._unpacked = UnpackedArtifacts(max_unpacked_size=max_unpacked_size)
        self._first_artifact = FirstArtifactWait(requeue_dependency)
        self._health_checks: dict[tuple[str | None, str], _ParkedCheck] = {}
        """Health checks under way, looked at again on each wake-up instead of holding a worker."""
        self._unchanged = Unchanged(
            live_versions or LiveVersions(client, label=keys.KUSTOMIZE_NAME_LABEL)
        )
        """What each Kustomization last applied: an idle reconcile sends no request per object."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Apply the source's manifests for the Kustomization ``obj``.

        A failed attempt is tried again after ``retryInterval`` (default: ``interval``), as
        Flux does, rather than with the controller's exponential backoff.
        """
        kustomization = parse_object(Kustomization, obj)
        spec = kustomization.spec
        retry = parse_duration(spec.retry_interval or spec.interval)
        key = (kustomization.metadata.namespace, kustomization.metadata.name)
        try:
            return await self._run(kustomization, status, progress, retry)
        except StepFailed as error:
            if error.retry_after is not None:
                raise
            # A new exception: a shared build's failure reaches every waiter as one object.
            raise StepFailed(str(error), reason=error.reason, retry_after=retry) from error
        finally:
            # A check stays woken while its look runs (an event then queues one more look),
            # and stops being woken once a reconcile ends without parking it again.
            if key not in self._health_checks:
                self._unpark(key)

    async def _run(
        self,
        kustomization: Kustomization,
        status: dict[str, Any],
        progress: Progress,
        retry: float,
    ) -> Outcome:
        spec = kustomization.spec
        key = (kustomization.metadata.namespace, kustomization.metadata.name)
        # Taken now, so any return before the resume below drops it: a check parked across a
        # dependency wait (or a stall) would otherwise be resumed later past its old deadline.
        parked = self._health_checks.pop(key, None)
        inputs.check_references(kustomization, self._references)  # stalls: AccessDenied
        blocked = inputs.dependency_not_ready(
            kustomization, self._kustomizations, self._helm_releases
        )
        if blocked:
            # Flux's --requeue-dependency; a dependency turning ready also wakes us at once.
            return Waiting(
                reasons.DEPENDENCY_NOT_READY, blocked, retry_after=self._requeue_dependency
            )
        judge = health.compile_rules(kustomization)  # a bad expression stalls before any apply
        artifact, waiting = self._artifact(kustomization, retry)
        if waiting is not None:  # silent at first: the source's watch wakes us on its artifact
            return self._first_artifact.hold(key, waiting, self._source(kustomization))
        self._first_artifact.forget(key)
        revision = artifact["revision"]
        if parked is not None:
            resumed = await self._resume(kustomization, parked, status, progress, revision)
            if resumed is not None:
                return resumed
        within = f"for revision {revision} with a timeout of {_timeout(kustomization)}"
        # A new revision is new work even when the generation is not (a Kustomization created
        # before its source had an artifact): it gets progress marks instead of a stale verdict.
        new_revision = revision != status.get("lastAttemptedRevision")
        status["lastAttemptedRevision"] = revision
        await progress.mark(f"Fetching manifests {within}", new_work=new_revision)
        objects = await self._build(kustomization, artifact, progress, within)
        started = time.monotonic()
        digest = history.digest(objects)
        applying = Fingerprint.of(kustomization, revision=revision, digest=digest)
        if self._unchanged.holds(key, applying, status):
            log.debug(
                "%s: revision %s unchanged, objects untouched; nothing to apply", key, revision
            )
            return _applied(revision)
        snapshot = functools.partial(
            history.record, status, objects_digest=digest, revision=revision
        )
        try:
            manager = await self._resource_manager(kustomization)
            annotations = kustomization.metadata.annotations or {}
            all_or_nothing = annotations.get(PARTIAL_APPLY) == "disabled"
            changes = await self._apply(
                manager, objects, status, force=spec.force, all_or_nothing=all_or_nothing
            )
            # What the source holds now; objects that left it drop out even when pruning
            # skipped them (prune disabled, owned by someone else), as in Flux.
            previous = (status.get("inventory") or {}).get("entries") or []
            status["inventory"] = {"entries": changes.to_inventory()}
            if spec.prune:
                await self._prune(manager, previous, changes, status)
            if changes.changed:  # before the health check, which may take its whole timeout
                await progress.event(reasons.RECONCILIATION_SUCCEEDED, changes.summary())
            checking = f"Running health checks {within}"
            pending = await health.check(
                kustomization,
                manager,
                changes,
                status=status,
                progress=progress,
                message=checking,
                judge=judge,
            )
        except StepFailed as error:
            snapshot(outcome=error.reason, seconds=time.monotonic() - started, changed=False)
            raise
        if pending is not None:
            self._health_checks[key] = _ParkedCheck(
                pending,
                revision=revision,
                generation=kustomization.metadata.generation,
                digest=digest,
                started=started,
                changed=changes.changed,
            )
            return await self._park(key, manager, checking)
        snapshot(
            outcome=reasons.RECONCILIATION_SUCCEEDED,
            seconds=time.monotonic() - started,
            changed=changes.changed,
        )
        status["lastAppliedRevision"] = revision
        await self._unchanged.remember(key, applying, changes, status=status, mapper=manager.mapper)
        return _applied(revision)

    async def _resume(
        self,
        kustomization: Kustomization,
        parked: _ParkedCheck,
        status: dict[str, Any],
        progress: Progress,
        revision: str,
    ) -> Outcome | None:
        """Look again at a health check under way; None when a full reconcile is due instead.

        A newer revision, a changed spec or a requested reconcile replaces the check, as a
        newer revision cancels a running check in Flux (``HealthCheckCanceled``, an event).
        """
        generation = kustomization.metadata.generation
        if progress.active:
            return None
        if parked.revision != revision or parked.generation != generation:
            why = (
                f"new revision {revision} is available"
                if parked.revision != revision
                else f"the spec changed (generation {generation})"
            )
            await progress.event(
                reasons.HEALTH_CHECK_CANCELED, f"health check canceled: {why}", warning=True
            )
            return None
        snapshot = functools.partial(
            history.record, status, objects_digest=parked.digest, revision=revision
        )
        manager = await self._resource_manager(kustomization)
        try:
            # healthCheckExprs may read any field: they get whole objects, not trimmed copies.
            whole = parked.check.judge is not None
            watches = self._parking.watches if self._parking else None
            cached = watches.reader(manager.client, whole=whole) if watches else None
            pending = await health.resume(
                kustomization, manager, parked.check, status=status, cached=cached
            )
        except StepFailed as error:
            snapshot(outcome=error.reason, seconds=time.monotonic() - parked.started, changed=False)
            raise
        key = (kustomization.metadata.namespace, kustomization.metadata.name)
        if pending is not None:
            self._health_checks[key] = dataclasses.replace(parked, check=pending)
            within = f"for revision {revision} with a timeout of {_timeout(kustomization)}"
            return await self._park(key, manager, f"Running health checks {within}")
        seconds = time.monotonic() - parked.started
        snapshot(outcome=reasons.RECONCILIATION_SUCCEEDED, seconds=seconds, changed=parked.changed)
        status["lastAppliedRevision"] = revision
        return Succeeded(
            reason=reasons.RECONCILIATION_SUCCEEDED, message=f"Applied revision: {revision}"
        )

    def forget(self, namespace: str | None, name: str) -> None:
        """Drop what is remembered of a Kustomization suspended, or deleted without finalizing."""
        self._first_artifact.forget((namespace, name))
        self._unpark((namespace, name))
        self._unchanged.forget((namespace, name))

    async def finalize(self, obj: dict[str, Any]) -> Waiting | None:
        """Delete what the inventory holds when ``prune`` is on (Flux's default deletion).

        When Kustomizations that depend on this one are being deleted too, they go first: a set
        deleted together is removed in reverse dependency order (apps before the CRDs and
        namespaces they live in), so nothing is left stuck on a finalizer whose controller or
        API is already gone.
        """
        kustomization = parse_object(Kustomization, obj)
        key = (kustomization.metadata.namespace, kustomization.metadata.name)
        self._first_artifact.forget(key)
        self._unpark(key)
        self._unchanged.forget(key)
        waiting_on = inputs.dependents(
            kustomization, self._kustomizations, being_deleted=True, policy=self._references
        )
        if not waiting_on and _age(obj) < _DELETION_GRACE:
            # A set deleted together arrives one object at a time; give the dependents' own
            # deletions a moment to show up before taking this one's objects away.
            waiting_on = inputs.dependents(
                kustomization, self._kustomizations, policy=self._references
            )
        # Members of a cycle would wait on each other forever, and a dependent stuck in its own
        # deletion must not hold this one for ever either.
        in_cycle = bool(inputs.dependency_cycle(kustomization, self._kustomizations))
        if waiting_on and _age(obj) < _DELETION_WAIT_LIMIT and not in_cycle:
            names = ", ".join(f"'{ns}/{name}'" for ns, name in waiting_on)
            message = f"waiting for dependents to be deleted first: {names}"
            return Waiting(reasons.DEPENDENCY_NOT_READY, message, retry_after=_DELETION_POLL)
        spec = kustomization.spec
        policy = spec.deletion_policy or "MirrorPrune"
        prune = spec.prune if policy == "MirrorPrune" else policy != "Orphan"
        entries = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
        if prune and entries:
            try:
                manager = await self._resource_manager(kustomization, deleting=True)
            except TargetGone as gone:
                # As Flux: with the means to prune gone, the objects are left in place.
                left = len(entries)
                log.warning("%s: %s; its %d objects are left in place", _key(obj), gone, left)
                return None
            deleted = await manager.delete_all(entries)
            if deleted.failed:  # the finalizer stays until every object could be deleted
                failures = "\n".join(f"{e.subject}: {e.message}" for e in deleted.failed)
                raise StepFailed(f"pruning failed:\n{failures}", reason=reasons.PRUNE_FAILED)
            if policy == "WaitForTermination":
                timeout = parse_duration(spec.timeout or spec.interval)
                remaining = await manager.wait_deleted(deleted, timeout)
                if remaining:  # as Flux: the wait is bounded, the Kustomization still goes
                    still = ", ".join(remaining)
                    log.warning("%s: still terminating after %gs: %s", _key(obj), timeout, still)
        return None

    async def _park(
        self, key: tuple[str | None, str], manager: ResourceManager, message: str
    ) -> Waiting:
        """Give the worker back until a watch event on a pending object (or the fallback)."""
        check = self._health_checks[key].check
        if self._parking is None:
            return _checking(message, _HEALTH_POLL)
        local = manager.mapper is self._mapper  # another cluster's objects: poll
        delay = await self._parking.park(
            key, check.targets, mapper=manager.mapper if local else None, deadline=check.deadline
        )
        return _checking(message, delay)

    def _unpark(self, key: tuple[str | None, str]) -> _ParkedCheck | None:
        if self._parking is not None:
            self._parking.release(key)
        return self._health_checks.pop(key, None)

    # -- steps ------------------------------------------------------------------------------------
    def _artifact(
        self, kustomization: Kustomization, retry: float
    ) -> tuple[dict[str, Any], Waiting | None]:
        reference = kustomization.spec.source_ref
        namespace = reference.namespace or kustomization.metadata.namespace or "default"
        where = f"{reference.kind} '{namespace}/{reference.name}'"
        source = self._source(kustomization)
        if source is None:
            return {}, Waiting(reasons.ARTIFACT_FAILED, f"Source {where} not found", retry)
        artifact = (source.get("status") or {}).get("artifact")
        if not artifact:
            message = f"Source {where} is not ready, artifact not found"
            return {}, Waiting(reasons.ARTIFACT_FAILED, message, retry)
        return artifact, None

    def _source(self, kustomization: Kustomization) -> dict[str, Any] | None:
        """The cached source ``sourceRef`` names, or None."""
        reference = kustomization.spec.source_ref
        namespace = reference.namespace or kustomization.metadata.namespace or "default"
        cache = self._sources.get(reference.kind)
        return cache.get(namespace, reference.name) if cache else None

    async def _build(
        self,
        kustomization: Kustomization,
        artifact: dict[str, Any],
        progress: Progress,
        within: str,
    ) -> list[dict[str, Any]]:
        spec = kustomization.spec
        timeout = parse_duration(spec.timeout or spec.interval)
        options = BuildOptions.from_spec(
            spec, timeout=timeout, no_remote_bases=self._no_remote_bases
        )
        keys = await inputs.age_keys(kustomization, self._client)
        variables = await inputs.substitution_variables(kustomization, self._client)

        who = f"{kustomization.metadata.namespace}/{kustomization.metadata.name}"

        async def fetched() -> None:
            try:
                await progress.mark(f"Building manifests {within}")
            except KubeError as error:  # a missed mark must not fail a build others share
                log.warning("%s: could not mark progress: %s", who, error)

        try:
            if keys:
                objects = await self._fetch_and_build(artifact, options, keys, fetched)
            else:
                # Only the Kustomization that runs a shared build sees its "Building" mark.
                key = BuildCache.key(artifact["digest"], options)
                objects = await self._builds.get_or_build(
                    key, lambda: self._fetch_and_build(artifact, options, keys, fetched)
                )
            if variables is not None:
                objects = substitute(objects, variables)
            if spec.decryption is not None:
                objects = await asyncio.to_thread(decrypt, objects, age_keys=keys)
            else:
                require_decryption(objects)
        except (DecryptionError, BuildError) as error:
            raise StepFailed(str(error), reason=error.reason) from error
        return objects

    async def _fetch_and_build(
        self,
        artifact: dict[str, Any],
        options: BuildOptions,
        keys: list[str],
        fetched: Callable[[], Awaitable[None]],
    ) -> list[dict[str, Any]]:
        """Unpack the artifact (shared per digest unless it is decrypted), build its path."""
        try:
            return await self._unpacked.fetch_and_build(
                artifact, options, age_keys=keys, fetched=fetched
            )
        except ArtifactFetchError as error:
            raise StepFailed(str(error), reason=reasons.ARTIFACT_FAILED) from error

    async def _resource_manager(
        self, kustomization: Kustomization, *, deleting: bool = False
    ) -> ResourceManager:
        owner = {
            keys.KUSTOMIZE_NAME_LABEL: kustomization.metadata.name,
            keys.KUSTOMIZE_NAMESPACE_LABEL: kustomization.metadata.namespace or "default",
        }
        target = await self._targets.for_kustomization(kustomization, deleting=deleting)
        return ResourceManager(target.client, target.mapper, COMPONENT, owner, MANAGER_OPTIONS)

    async def _apply(
        self,
        manager: ResourceManager,
        objects: list[dict[str, Any]],
        status: dict[str, Any],
        *,
        force: bool,
        all_or_nothing: bool,
    ) -> ChangeSet:
        changes = await manager.apply_all(objects, force=force, all_or_nothing=all_or_nothing)
        if changes.failed:
            # What applied stays applied and inventoried, alongside everything inventoried
            # before, so nothing is pruned on the strength of a half-done apply.
            previous = (status.get("inventory") or {}).get("entries") or []
            applied = changes.to_inventory()
            known = {entry["id"] for entry in applied}
            merged = applied + [e for e in previous if e["id"] not in known]
            status["inventory"] = {"entries": sorted(merged, key=lambda e: e["id"])}
            failures = "\n".join(f"{entry.subject}: {entry.message}" for entry in changes.failed)
            raise StepFailed(failures, reason=reasons.RECONCILIATION_FAILED)
        return changes

    async def _prune(
        self,
        manager: ResourceManager,
        previous: list[dict[str, Any]],
        changes: ChangeSet,
        status: dict[str, Any],
    ) -> None:
        """Delete what ``previous`` held and the apply did not; keep failures inventoried."""
        kept = {entry["id"] for entry in changes.to_inventory()}
        stale = [entry for entry in previous if entry["id"] not in kept]
        if not stale:
            return
        deleted = await manager.delete_all(stale)
        if deleted.failed:
            # Still in the cluster, so still ours: the next attempt tries again.
            failed = {entry.id for entry in deleted.failed}
            entries = status["inventory"]["entries"] + [e for e in stale if e["id"] in failed]
            status["inventory"] = {"entries": sorted(entries, key=lambda e: e["id"])}
            failures = "\n".join(f"{entry.subject}: {entry.message}" for entry in deleted.failed)
            raise StepFailed(f"pruning failed:\n{failures}", reason=reasons.PRUNE_FAILED)
        changes.extend(deleted)


@dataclasses.dataclass(frozen=True)
class _ParkedCheck:
    """A health check under way between reconciles, with what its report will need."""

    check: health.Pending
    revision: str
    generation: int | None
    digest: str
    started: float
    changed: bool


def _applied(revision: str) -> Succeeded:
    return Succeeded(
        reason=reasons.RECONCILIATION_SUCCEEDED, message=f"Applied revision: {revision}"
    )


def _checking(message: str, delay: float) -> Waiting:
    """The silent wait between two looks of a health check: the status already says it."""
    return Waiting(reasons.PROGRESSING, message, retry_after=delay, silent=True)


def _timeout(kustomization: Kustomization) -> str:
    """``spec.timeout`` (default ``interval``) as Flux's messages print it (``5m0s``)."""
    spec = kustomization.spec
    return format_duration(parse_duration(spec.timeout or spec.interval))


def _key(obj: dict[str, Any]) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def _age(obj: dict[str, Any]) -> float:
    """Seconds since ``obj``'s deletion was requested (0 when unknown)."""
    stamp = obj["metadata"].get("deletionTimestamp")
    if not stamp:
        return 0.0
    requested = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (datetime.now(UTC) - requested).total_seconds()
