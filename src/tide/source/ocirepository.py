"""OCIRepository reconcile: resolve and pull (``oci.pull``) → store → report.

Failures of the remote step carry Flux's reasons (``AuthenticationFailed``,
``ReadOperationFailed``, ``OCIArtifactPullFailed``, ``OCIArtifactLayerOperationFailed``; see
:mod:`tide.source.oci.pull`) and set ``FetchFailed`` (negative polarity) as Flux's
source-controller does; storage failures set ``StorageOperationFailed``. A failure never touches
``status.artifact``: the previous artifact stays published and served.

When the resolved digest is the one of the stored artifact (same ``ignore`` and
``layerSelector``, file still in storage), nothing is downloaded and nothing is written; a tag
that moved to another name for the same digest only renames the revision. A ``spec.ref.digest``
needs no registry call at all to know that. Credentials never reach a message, a log line or
an event.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tide.api import kinds, reasons
from tide.api.source import OCIRepository, OCIRepositorySpec
from tide.artifacts import Storage, StorageError
from tide.kube.resources import resource_type
from tide.runtime.controller import Controller
from tide.runtime.manager import Manager
from tide.runtime.steps import Outcome, Progress, Stalled, parse_object
from tide.source import _report
from tide.source.oci import refs
from tide.source.oci.pull import Pulled, PullFailed, pull

__all__ = [
    "COMPONENT",
    "KIND",
    "OCI_REPOSITORY",
    "OCIRepositoryPipeline",
    "register",
]

KIND = "OCIRepository"
OCI_REPOSITORY = resource_type(KIND)
COMPONENT = kinds.SOURCE_CONTROLLER
"""Name in events and ``managedFields``; the same as ``tide.source.setup.COMPONENT``."""

_OBSERVED = ("observedIgnore", "observedLayerSelector")
_SOURCE_ANNOTATION = "org.opencontainers.image.source"
_REVISION_ANNOTATION = "org.opencontainers.image.revision"


@dataclass(kw_only=True, eq=False)
class OCIRepositoryPipeline(_report.ArtifactPipeline):
    """Steps of an OCIRepository reconcile."""

    kind = KIND
    workdir: Path
    """Scratch space for downloaded layers (created when missing)."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish an artifact for the digest ``spec.ref`` resolves to in the registry."""
        repo = parse_object(OCIRepository, obj)
        _refuse_unsupported(repo.spec)
        repository, wanted = _target(repo, status)
        observed = _observed(repo.spec)
        pulled, event = await self._fetch_and_store(repo, repository, wanted, status, observed)
        return _report.stored(
            status,
            failure_types=_report.FAILURE_TYPES,
            message=f"stored artifact for digest '{pulled.revision}'",
            observed=observed,
            generation=repo.metadata.generation,
            event=(reasons.NEW_ARTIFACT, event) if event else None,
        )

    async def _fetch_and_store(
        self,
        repo: OCIRepository,
        repository: refs.Repository,
        wanted: refs.Reference | None,
        status: dict[str, Any],
        observed: dict[str, Any],
    ) -> tuple[Pulled, str | None]:
        """Pull (unless the stored artifact holds the digest) and store; ``FetchFailed`` else."""
        generation = repo.metadata.generation
        scratch: Path | None = None
        try:
            with self.storage.writing("failed to pull artifact"):
                self.workdir.mkdir(parents=True, exist_ok=True)
                scratch = Path(tempfile.mkdtemp(dir=self.workdir, prefix=f"{repo.metadata.name}-"))
                pulled = await pull(
                    self.client,
                    repo,
                    repository,
                    wanted,
                    reusable=lambda digest: self._reusable(status, digest, observed),
                    scratch=scratch,
                )
            return pulled, self._publish(repo, pulled, status)
        except StorageError as error:
            raise _report.storage_failed(status, error, generation=generation) from error
        except refs.InvalidReference as error:
            raise Stalled(str(error), reason=reasons.INVALID_CONFIG) from error
        except PullFailed as error:
            raise _report.fetch_failed(
                status, str(error), reason=error.reason, generation=generation
            ) from error
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _reusable(self, status: dict[str, Any], digest: str, observed: dict[str, Any]) -> bool:
        """Tell whether the stored artifact was built from ``digest`` with today's settings."""
        current = status.get("artifact")
        if not current or _digest_of(current.get("revision", "")) != digest:
            return False
        if not self.storage.exists(current):
            return False
        return all(status.get(key) == observed[key] for key in _OBSERVED)

    def _publish(self, repo: OCIRepository, pulled: Pulled, status: dict[str, Any]) -> str | None:
        """Store a new archive (or rename the revision); return the NewArtifact message."""
        current = status.get("artifact") or {}
        if pulled.archive is None:
            if current.get("revision") != pulled.revision:
                status["artifact"] = {**current, "revision": pulled.revision}
            return None
        namespace, name = repo.metadata.namespace or "default", repo.metadata.name
        artifact = _report.store_artifact(
            self.storage,
            KIND,
            namespace,
            name,
            pulled.archive,
            revision=pulled.revision,
            metadata=pulled.annotations,
        )
        status["artifact"] = artifact.to_status()
        if current.get("digest") == artifact.digest:
            return None
        return _event_message(repo.spec.url, pulled.revision, pulled.annotations or {})


def register(manager: Manager, storage: Storage, workdir: Path) -> Controller:
    """Run an OCIRepository controller in ``manager``, storing artifacts in ``storage``.

    Layers are downloaded below ``workdir / "oci"``. Returns the controller, for tests and
    benchmarks to inspect.
    """
    pipeline = OCIRepositoryPipeline(
        client=manager.client, storage=storage, workdir=workdir / "oci"
    )
    return manager.add_object_controller(OCI_REPOSITORY, pipeline)


def _target(
    repo: OCIRepository, status: dict[str, Any]
) -> tuple[refs.Repository, refs.Reference | None]:
    """Return the repository and the reference the spec names (None: chosen by semver).

    A URL that names no repository stalls with ``URLInvalid`` (and ``FetchFailed``), as in Flux.
    """
    spec = repo.spec
    try:
        repository = refs.parse_url(spec.url)
        ref = spec.ref
        wanted = refs.wanted_reference(
            tag=ref.tag if ref else None,
            semver_range=ref.semver if ref else None,
            digest=ref.digest if ref else None,
        )
    except refs.InvalidURL as error:
        message = f"URL validation failed for '{spec.url}': {error}"
        raise _report.fetch_failed(
            status,
            message,
            reason=reasons.URL_INVALID,
            generation=repo.metadata.generation,
            stall=True,
        ) from error
    except refs.InvalidReference as error:
        raise Stalled(str(error), reason=reasons.INVALID_CONFIG) from error
    return repository, wanted


def _refuse_unsupported(spec: OCIRepositorySpec) -> None:
    """Stall on settings Tide cannot honour, rather than pull without them."""
    if spec.provider != "generic":
        raise Stalled(
            f"spec.provider '{spec.provider}' is not supported by Tide: cloud workload identity "
            "is not implemented; use provider 'generic' with spec.secretRef (a "
            "kubernetes.io/dockerconfigjson Secret) or spec.serviceAccountName",
            reason=reasons.INVALID_CONFIG,
        )
    if spec.verify is not None:
        raise Stalled(
            f"spec.verify (provider '{spec.verify.provider}') is not supported by Tide: "
            "signatures cannot be verified, so the artifact is not pulled; remove spec.verify "
            "to pull without verification",
            reason=reasons.INVALID_CONFIG,
        )


def _observed(spec: OCIRepositorySpec) -> dict[str, Any]:
    selector = spec.layer_selector
    dumped = selector.model_dump(by_alias=True, exclude_none=True) if selector else None
    return {"observedIgnore": spec.ignore, "observedLayerSelector": dumped or None}


def _digest_of(revision: str) -> str:
    return revision.rpartition("@")[2]


def _event_message(url: str, revision: str, annotations: dict[str, str]) -> str:
    """Return Flux's NewArtifact message, with the origin when the artifact names one."""
    message = f"stored artifact with revision '{revision}' from '{url}'"
    source, origin = annotations.get(_SOURCE_ANNOTATION), annotations.get(_REVISION_ANNOTATION)
    if source and origin:
        message += f", origin source '{source}', origin revision '{origin}'"
    return message
