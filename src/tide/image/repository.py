"""ImageRepository reconcile: parse the image → connect → scan into the tag store → report.

==========================  ==========================  ====================
what went wrong             reason                      outcome
==========================  ==========================  ====================
``spec.image`` unusable     ``ImageURLInvalid``         stalled
``exclusionList`` regex     ``InvalidConfig``           stalled
provider not ``generic``    ``InvalidConfig``           stalled
Secret missing/unusable     ``AuthenticationFailed``    retried with backoff
401/403 from the registry   ``AuthenticationFailed``    retried with backoff
404 (``NAME_UNKNOWN``)      ``ReadOperationFailed``     retried with backoff
other listing failure       ``ReadOperationFailed``     retried with backoff
tag file not writable       ``StorageOperationFailed``  retried with backoff
==========================  ==========================  ====================

A failure leaves ``status.lastScanResult`` and the stored tags as they were, so policies keep
their last answer. Success reads ``successful scan: found N tags``; the status carries the
canonical name, the scan result (``revision`` changes only when the tags do) and the exclusion
list used. Credentials never reach a message.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tide.api import reasons
from tide.api.image import ImageRepository
from tide.image import names, scan
from tide.image.budget import RegistryBudget
from tide.image.connect import open_client
from tide.image.tags import Scanned, TagStore, TagStoreError
from tide.kube.client import KubeClient
from tide.runtime.steps import Outcome, Progress, Stalled, StepFailed, Succeeded, parse_object
from tide.source.oci.client import RegistryAuthError, RegistryError
from tide.source.oci.refs import Repository

__all__ = ["ImageRepositoryPipeline"]

log = logging.getLogger(__name__)

TagsWritten = Callable[[str, str], None]
"""``on_tags_written(namespace, name)``: the stored tags of that ImageRepository were replaced."""


@dataclass(kw_only=True, eq=False)
class ImageRepositoryPipeline:
    """Steps of an ImageRepository reconcile, a keyword-only dataclass of what it is built with."""

    client: KubeClient
    """Reads the Secrets the spec names."""
    store: TagStore
    """Where tags are kept."""
    budget: RegistryBudget
    """The per-registry request budget."""
    page_size: int | None = scan.DEFAULT_PAGE_SIZE
    """Tags asked for per page (``n=``); None lets the registry choose."""
    on_tags_written: TagsWritten | None = None
    """Told whenever a scan replaced the stored tags, so policies re-read them even when the
    revision did not change (storage emptied by a restart)."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Scan the repository and publish what was found."""
        repo = parse_object(ImageRepository, obj)
        spec = repo.spec
        if spec.provider != "generic":
            raise Stalled(
                f"spec.provider '{spec.provider}' is not supported by Tide: cloud workload "
                "identity is not implemented; use provider 'generic' with spec.secretRef or "
                "spec.serviceAccountName",
                reason=reasons.INVALID_CONFIG,
            )
        try:
            repository = names.parse_image(spec.image)
            exclusions = scan.compile_exclusions(spec.exclusion_list)
        except names.InvalidImage as error:
            raise Stalled(str(error), reason=reasons.IMAGE_URL_INVALID) from error
        except scan.InvalidExclusion as error:
            raise Stalled(str(error), reason=reasons.INVALID_CONFIG) from error
        scanned = await self._scan(repo, repository, exclusions, status)
        status["canonicalImageName"] = names.canonical_name(repository)
        status["lastScanResult"] = _scan_result(scanned)
        status["observedExclusionList"] = list(spec.exclusion_list)
        if scanned.changed and self.on_tags_written is not None:
            self.on_tags_written(repo.metadata.namespace or "default", repo.metadata.name)
        return Succeeded(
            reason=reasons.SUCCEEDED, message=f"successful scan: found {scanned.count} tags"
        )

    async def finalize(self, obj: dict[str, Any]) -> None:
        """Delete the stored tags of a deleted ImageRepository."""
        metadata = obj["metadata"]
        self.store.remove(metadata.get("namespace") or "default", metadata["name"])

    async def _scan(
        self,
        repo: ImageRepository,
        repository: Repository,
        exclusions: list[re.Pattern[str]],
        status: dict[str, Any],
    ) -> Scanned:
        """List and store the tags; each registry call is bounded by ``spec.timeout``."""
        namespace, name = repo.metadata.namespace or "default", repo.metadata.name
        previous = (status.get("lastScanResult") or {}).get("revision")
        client = await open_client(self.client, repo, repository, self.budget)
        try:
            async with client:
                writer = self.store.writer(namespace, name)
                return await scan.scan(
                    client,
                    writer,
                    exclusions=exclusions,
                    previous_revision=previous,
                    page_size=self.page_size,
                )
        except RegistryAuthError as error:
            raise StepFailed(
                f"scan failed: {error}", reason=reasons.AUTHENTICATION_FAILED
            ) from error
        except RegistryError as error:
            raise StepFailed(
                f"scan failed: {error}", reason=reasons.READ_OPERATION_FAILED
            ) from error
        except TagStoreError as error:
            raise StepFailed(
                f"failed to store the tags: {error}", reason=reasons.STORAGE_OPERATION_FAILED
            ) from error


def _scan_result(scanned: Scanned) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result: dict[str, Any] = {
        "revision": scanned.revision,
        "tagCount": scanned.count,
        "scanTime": now,
    }
    if scanned.latest:
        result["latestTags"] = scanned.latest
    return result
