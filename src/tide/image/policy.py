"""ImagePolicy reconcile: find the ImageRepository → read its tags → choose → digest → report.

=============================  ========================  ==========================
what went wrong                reason                    outcome
=============================  ========================  ==========================
range, pattern or extract      ``InvalidPolicy``         stalled
``--no-cross-namespace-refs``  ``AccessDenied``          stalled
``accessFrom`` refuses         ``AccessDenied``          retried with backoff
repository missing             ``DependencyNotReady``    retried with backoff
repository not scanned yet     ``DependencyNotReady``    waits (woken by the scan)
no tag qualifies               ``Failure``               retried with backoff
digest HEAD refused            ``AuthenticationFailed``  retried with backoff
digest HEAD fails otherwise    ``Failure``               retried with backoff
=============================  ========================  ==========================

Never downgrade (Tide's, not Flux's): while the spec is the one the current
``status.latestRef`` was chosen under (``metadata.generation`` equals
``status.observedGeneration``), a choice that orders *below* the current tag is not taken — a
registry that briefly lists fewer tags, a deleted tag, or a controller that restarted on empty
storage and read a partial scan cannot move a workload back. The Ready message says which tag
the registry offered instead. Changing the spec (a new generation) lifts the rule, so a
deliberate rollback is one edit away (e.g. a narrower range).

``status.latestRef`` is ``{name: spec.image of the repository, tag, digest}`` as in Flux v1,
``status.latestImage`` the same as ``name:tag`` for v1beta2 readers; a change moves the old
value to ``observedPreviousRef`` and records the event ``Latest image tag for '<name>' updated
from <old> to <new>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tide.api import reasons
from tide.api.image import ImagePolicy, ImageRepository
from tide.image import choose, names
from tide.image.access import check_access_from
from tide.image.budget import RegistryBudget
from tide.image.connect import open_client
from tide.image.tags import NoTags, TagStore, TagStoreError
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.kube.client import KubeClient
from tide.runtime import steps
from tide.runtime.acl import ReferencePolicy
from tide.source.oci.client import RegistryAuthError, RegistryError

__all__ = ["NOT_SCANNED_RETRY", "ImagePolicyPipeline", "repository_key"]

NOT_SCANNED_RETRY = 30.0
"""Seconds before a policy whose repository has no stored scan looks again (the scan itself
wakes it sooner)."""
_KIND = "ImageRepository"


def repository_key(policy: dict[str, Any]) -> tuple[str, str]:
    """Return ``(namespace, name)`` of the ImageRepository a policy object names."""
    ref = (policy.get("spec") or {}).get("imageRepositoryRef") or {}
    return ref.get("namespace") or policy["metadata"].get("namespace") or "default", ref.get(
        "name", ""
    )


@dataclass(kw_only=True, eq=False)
class ImagePolicyPipeline:
    """Steps of an ImagePolicy reconcile, a keyword-only dataclass of what it is built with."""

    client: KubeClient
    """Reads namespaces (for ``accessFrom``) and the repository's Secrets (digests)."""
    repositories: WatchCache
    """The ImageRepository watch cache."""
    store: TagStore
    """Where the scanned tags are."""
    budget: RegistryBudget
    """The per-registry request budget (digest lookups spend it too)."""
    references: ReferencePolicy
    """The ``--no-cross-namespace-refs`` rule."""

    async def run(
        self, obj: dict[str, Any], status: dict[str, Any], progress: steps.Progress
    ) -> steps.Outcome:
        """Choose the latest tag and publish it in ``status.latestRef``."""
        policy = steps.parse_object(ImagePolicy, obj)
        try:
            chooser = choose.TagChooser.from_spec(policy.spec)
        except choose.InvalidPolicy as error:
            raise steps.Stalled(
                f"invalid policy: {error}", reason=reasons.INVALID_POLICY
            ) from error
        repo = await self._repository(policy)
        try:
            names.parse_image(repo.spec.image)
        except names.InvalidImage as error:
            raise steps.Stalled(str(error), reason=reasons.IMAGE_URL_INVALID) from error
        namespace, name = repo.metadata.namespace or "default", repo.metadata.name
        if not (repo.status and repo.status.last_scan_result) or not self.store.exists(
            namespace, name
        ):
            return steps.Waiting(
                reason=reasons.DEPENDENCY_NOT_READY,
                message=f"ImageRepository '{namespace}/{name}' has no scanned tags yet",
                retry_after=NOT_SCANNED_RETRY,
            )
        chosen, held = self._choose(policy, chooser, namespace, name, status)
        previous = status.get("latestRef")
        latest = {"name": repo.spec.image, "tag": chosen}
        digest = await self._digest(policy, repo, chosen, previous)
        if digest:
            latest["digest"] = digest
        event = None
        if previous != latest:
            if previous:
                status["observedPreviousRef"] = previous
                status["observedPreviousImage"] = f"{previous['name']}:{previous['tag']}"
                event = (
                    f"Latest image tag for '{repo.spec.image}' updated from "
                    f"{_shown(previous)} to {_shown(latest)}"
                )
            status["latestRef"] = latest
            status["latestImage"] = f"{latest['name']}:{latest['tag']}"
        message = f"Latest image tag for '{repo.spec.image}' resolved to {chosen}"
        if digest:
            message += f" with digest {digest}"
        if held:
            message += (
                f" (kept: the registry's best match now is the older {held}; Tide does not "
                "move a policy to an older tag until its spec changes)"
            )
        return steps.Succeeded(
            reason=reasons.SUCCEEDED,
            message=message,
            event_reason=reasons.SUCCEEDED if event else None,
            event_message=event,
        )

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Nothing to clean up: a policy owns nothing but its status."""

    async def _repository(self, policy: ImagePolicy) -> ImageRepository:
        """Return the referenced ImageRepository, if it exists and may be read."""
        own = policy.metadata.namespace or "default"
        ref = policy.spec.image_repository_ref
        namespace = self.references.resolve(own, kind=_KIND, name=ref.name, namespace=ref.namespace)
        found = self.repositories.get(namespace, ref.name)
        if found is None:
            raise steps.StepFailed(
                "failed to get the referred ImageRepository: referenced ImageRepository "
                f"'{namespace}/{ref.name}' does not exist",
                reason=reasons.DEPENDENCY_NOT_READY,
            )
        repo = ImageRepository.model_validate(found)
        if namespace != own:
            labels = await self._namespace_labels(own)
            check_access_from(repo, policy_namespace=own, namespace_labels=labels)
        return repo

    async def _namespace_labels(self, namespace: str) -> dict[str, str]:
        found = await self.client.get_or_none(resources.NAMESPACE, namespace)
        return dict(((found or {}).get("metadata") or {}).get("labels") or {})

    def _choose(
        self,
        policy: ImagePolicy,
        chooser: choose.TagChooser,
        namespace: str,
        name: str,
        status: dict[str, Any],
    ) -> tuple[str, str | None]:
        """Return the tag to report and, when never-downgrade kept the current one, the offer."""
        try:
            best = chooser.choose(self.store.read(namespace, name))
        except NoTags as error:
            raise steps.StepFailed(str(error), reason=reasons.DEPENDENCY_NOT_READY) from error
        except TagStoreError as error:
            raise steps.StepFailed(str(error), reason=reasons.STORAGE_OPERATION_FAILED) from error
        except choose.NoTagChosen as error:
            raise steps.StepFailed(
                f"cannot determine latest tag for policy: {error}", reason=reasons.FAILURE
            ) from error
        current = status.get("latestRef") or {}
        same_spec = status.get("observedGeneration") == policy.metadata.generation
        image = self.repositories.get(namespace, name) or {}
        same_image = current.get("name") == (image.get("spec") or {}).get("image")
        if not (same_spec and same_image and current.get("tag")) or current["tag"] == best.tag:
            return best.tag, None
        try:
            current_key = chooser.key(current["tag"])
        except choose.NoTagChosen:
            current_key = None
        if current_key is not None and chooser.newer(current_key, best.key):
            return current["tag"], best.tag
        return best.tag, None

    async def _digest(
        self,
        policy: ImagePolicy,
        repo: ImageRepository,
        tag: str,
        previous: dict[str, Any] | None,
    ) -> str | None:
        """Return the digest ``spec.digestReflectionPolicy`` asks for (a HEAD on the manifest)."""
        mode = policy.spec.digest_reflection_policy
        if mode == "Never":
            return None
        if (
            mode == "IfNotPresent"
            and previous
            and previous.get("name") == repo.spec.image
            and previous.get("tag") == tag
            and previous.get("digest")
        ):
            return str(previous["digest"])
        repository = names.parse_image(repo.spec.image)
        where = f"{repo.spec.image}:{tag}"
        try:
            async with await open_client(self.client, repo, repository, self.budget) as client:
                return await client.resolve(tag)
        except RegistryAuthError as error:
            raise steps.StepFailed(
                f"failed fetching digest of {where}: {error}",
                reason=reasons.AUTHENTICATION_FAILED,
            ) from error
        except RegistryError as error:
            raise steps.StepFailed(
                f"failed fetching digest of {where}: {error}", reason=reasons.FAILURE
            ) from error


def _shown(ref: dict[str, Any]) -> str:
    """Return a ref as the event shows it: the tag, with ``@digest`` when there is one."""
    return f"{ref['tag']}@{ref['digest']}" if ref.get("digest") else str(ref["tag"])
