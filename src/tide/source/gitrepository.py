"""GitRepository reconcile: credentials → remote check → checkout → archive → artifact.

Each step fails with one reason (``AuthenticationFailed``, ``GitOperationFailed``,
``IncludeUnavailable``, ``StorageOperationFailed``) and sets the matching negative-polarity
condition (``FetchFailed`` …) as Flux does. A failure never touches ``status.artifact``: the
previous artifact stays published and served. When the remote still points at the revision of
the stored artifact (with the same ignore rules, submodule setting and includes), nothing is
cloned, archived or written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tide.api import reasons
from tide.api.keys import REQUESTED_AT
from tide.api.meta import parse_duration
from tide.api.source import GitRepository
from tide.artifacts import VOLUME_ERRNOS, StorageError, describe_write_error
from tide.kube import resources
from tide.kube.cache import WatchCache
from tide.runtime.steps import Outcome, Progress, Stalled, parse_object
from tide.source import _report
from tide.source.git.auth import GitAuth, GitAuthError
from tide.source.git.build import ArchiveCache, IncludedArtifact
from tide.source.git.command import GitCommandError, redact
from tide.source.git.refs import RefNotFound, Resolved, resolve
from tide.source.git.remotes import GitRemotes
from tide.source.includes import IncludeError, resolve_includes

__all__ = ["KIND", "GitRepositoryPipeline"]

KIND = "GitRepository"
_FAILURE_TYPES = (*_report.FAILURE_TYPES, reasons.INCLUDE_UNAVAILABLE)


@dataclass(kw_only=True, eq=False)
class GitRepositoryPipeline(_report.ArtifactPipeline):
    """Steps of a GitRepository reconcile."""

    kind = KIND
    remotes: GitRemotes
    """Lists a remote's refs, checks revisions out and reads commit subjects."""
    archives: ArchiveCache
    """Archives of checkouts, reused for the same content-shaping inputs."""
    cache: WatchCache
    """The GitRepository watch cache, where ``spec.include`` entries are looked up."""

    async def run(self, obj: dict[str, Any], status: dict[str, Any], progress: Progress) -> Outcome:
        """Publish an artifact for the revision ``spec.ref`` names on the remote."""
        repo = parse_object(GitRepository, obj)
        spec = repo.spec
        namespace = repo.metadata.namespace or "default"
        generation = repo.metadata.generation
        timeout = parse_duration(spec.timeout)
        url = spec.url
        try:
            auth = await self._auth(
                namespace, spec.secret_ref.name if spec.secret_ref else None, url
            )
            refs = await self.remotes.list_refs(url, auth, timeout=timeout, fresh=_requested(obj))
            resolved = resolve(_ref(repo), refs)
            includes = await resolve_includes(repo, self.cache, self.storage)
        except (GitCommandError, GitAuthError, RefNotFound, IncludeError) as error:
            kind, reason = _classify(error)
            message = _failure_message(url, error)
            raise _report.fetch_failed(
                status, message, reason=reason, generation=generation, condition=kind
            ) from error
        except ValueError as error:  # a semver range that does not parse
            raise Stalled(
                f"invalid spec.ref.semver: {error}", reason=reasons.INVALID_CONFIG
            ) from error

        included = [i.artifact for i in includes]
        observed = {
            "observedIgnore": spec.ignore,
            "observedRecurseSubmodules": bool(spec.recurse_submodules),
            "observedInclude": [
                i.model_dump(by_alias=True, exclude_none=True) for i in spec.include or []
            ]
            or None,
            "includedArtifacts": included or None,
        }
        current = status.get("artifact")
        event: tuple[str, str] | None = None
        if not self._up_to_date(current, resolved, status, observed):
            event = await self._publish(repo, namespace, resolved, includes, auth, status, timeout)
        return _report.stored(
            status,
            failure_types=_FAILURE_TYPES,
            message=f"stored artifact for revision '{resolved.revision}'",
            generation=generation,
            event=event,
            observed=observed,
        )

    def _up_to_date(
        self,
        current: dict[str, Any] | None,
        resolved: Resolved,
        status: dict[str, Any],
        observed: dict[str, Any],
    ) -> bool:
        if not current or current.get("revision") != resolved.revision:
            return False
        if not self.storage.exists(current):
            return False
        return all(status.get(key) == value for key, value in observed.items())

    async def _publish(
        self,
        repo: GitRepository,
        namespace: str,
        resolved: Resolved,
        includes: list[IncludedArtifact],
        auth: GitAuth | None,
        status: dict[str, Any],
        timeout: float,
    ) -> tuple[str, str]:
        spec, name = repo.spec, repo.metadata.name
        generation = repo.metadata.generation
        revision = resolved.revision
        try:
            with self.storage.writing(f"failed to check out revision '{revision}'"):
                checkout = await self.remotes.checkout(
                    spec.url,
                    auth,
                    resolved,
                    submodules=bool(spec.recurse_submodules),
                    timeout=timeout,
                )
            with self.storage.writing(f"failed to archive revision '{revision}'"):
                archive = await self.archives.get(checkout, ignore=spec.ignore, includes=includes)
            artifact = _report.store_artifact(
                self.storage, KIND, namespace, name, archive, revision=revision
            )
        except StorageError as error:
            raise _report.storage_failed(status, error, generation=generation) from error
        except GitCommandError as error:
            local = self._local_write_failure(error, f"failed to check out revision '{revision}'")
            if local is not None:
                raise _report.storage_failed(status, local, generation=generation) from error
            message = _failure_message(spec.url, error)
            raise _report.fetch_failed(
                status, message, reason=error.reason, generation=generation
            ) from error
        except OSError as error:  # an include's fromPath or toPath that is not there
            failure = StorageError(f"failed to store artifact for revision '{revision}': {error}")
            raise _report.storage_failed(status, failure, generation=generation) from error
        status["artifact"] = artifact.to_status()
        subject = await self.remotes.commit_subject(checkout)
        return reasons.NEW_ARTIFACT, f"stored artifact for commit '{subject}'"

    def _local_write_failure(self, error: GitCommandError, action: str) -> StorageError | None:
        """Tell a git failure that is really local storage refusing writes (full, read-only).

        git reports those as its own failure (``fatal: … No space left on device``); they are
        the storage's problem, not the remote's, and say so. Remote messages come prefixed with
        ``remote:``, so only git's own lines are looked at.
        """
        lines = [line for line in str(error).split("; ") if not line.startswith("remote:")]
        text = "; ".join(lines)
        for code in sorted(VOLUME_ERRNOS):
            if os.strerror(code) in text:
                cause = OSError(code, os.strerror(code))
                why = describe_write_error(cause, storage_path=self.storage.storage_path)
                return StorageError(f"{action}: {why}")
        return None

    async def _auth(self, namespace: str, secret: str | None, url: str) -> GitAuth | None:
        if secret is None:
            return None
        found = await self.client.get_or_none(resources.SECRET, secret, namespace=namespace)
        where = f"Secret '{namespace}/{secret}' (spec.secretRef)"
        if found is None:
            raise GitAuthError(f"{where} not found")
        return GitAuth.from_secret(found.get("data") or {}, url=url, where=where)


def _ref(repo: GitRepository) -> dict[str, str]:
    if repo.spec.ref is None:
        return {}
    return {k: v for k, v in repo.spec.ref.model_dump(by_alias=True).items() if v}


def _requested(obj: dict[str, Any]) -> bool:
    """Tell whether a ``requestedAt`` not yet handled asks for a fresh look at the remote."""
    requested = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
    handled = (obj.get("status") or {}).get("lastHandledReconcileAt")
    return requested is not None and requested != handled


def _classify(error: Exception) -> tuple[str, str]:
    """Return (condition type, reason) for a failure before the checkout."""
    if isinstance(error, IncludeError):
        return reasons.INCLUDE_UNAVAILABLE, reasons.INCLUDE_UNAVAILABLE
    if isinstance(error, GitAuthError):
        return reasons.FETCH_FAILED, reasons.AUTHENTICATION_FAILED
    if isinstance(error, GitCommandError):
        return reasons.FETCH_FAILED, error.reason
    return reasons.FETCH_FAILED, reasons.GIT_OPERATION_FAILED


def _failure_message(url: str, error: Exception) -> str:
    if isinstance(error, GitCommandError):
        return (
            f"failed to checkout and determine revision: unable to fetch '{redact(url)}': {error}"
        )
    if isinstance(error, RefNotFound):
        return f"failed to checkout and determine revision: {error} in '{redact(url)}'"
    return str(error)
