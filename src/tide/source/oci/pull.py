"""The remote step of an OCIRepository: credentials → tag → digest → manifest → layer → archive.

Every failure leaves as one :class:`PullFailed` carrying Flux's reason for the step it happened
in, with Flux's message prefix, so the pipeline turns it into ``FetchFailed`` in one place:

=============================  ==============================================================
step                           reason, message start
=============================  ==============================================================
Secrets (secretRef, SA)        ``AuthenticationFailed`` "failed to get credential: "
certSecretRef                  ``AuthenticationFailed`` "failed to generate transport for …"
proxySecretRef                 ``AuthenticationFailed`` "failed to get proxy address: "
tags for ``semver``            ``ReadOperationFailed`` "failed to determine the artifact tag…"
tag → digest                   ``OCIArtifactPullFailed`` "failed to determine artifact digest: "
manifest, blob                 ``OCIArtifactPullFailed`` "failed to pull artifact from …"
layer choice, extraction       ``OCIArtifactLayerOperationFailed``
=============================  ==============================================================

A 401/403 from the registry is ``AuthenticationFailed`` whatever the step (Flux reports the
step's reason there; naming the credentials is the more actionable answer). The registry calls
share ``spec.timeout`` as one deadline, as Flux's context does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from tide.api import reasons
from tide.api.meta import parse_duration
from tide.api.source import OCIRepository
from tide.artifacts import build_archive, load_rules
from tide.kube.client import KubeClient
from tide.kube.transport import ProxyConfigError, TLSConfigError
from tide.source.oci import refs
from tide.source.oci.auth import CredentialsError
from tide.source.oci.client import RegistryAuthError, RegistryClient, RegistryError, RegistryTimeout
from tide.source.oci.connect import connect
from tide.source.oci.layer import COPY, LayerError, extract_layer, select_layer

__all__ = [
    "OCI_LAYER_OPERATION_FAILED",
    "OCI_PULL_FAILED",
    "READ_OPERATION_FAILED",
    "PullFailed",
    "Pulled",
    "pull",
]

# Re-exported from tide.api.reasons, where every reason is declared once.
OCI_PULL_FAILED = reasons.OCI_PULL_FAILED
OCI_LAYER_OPERATION_FAILED = reasons.OCI_LAYER_OPERATION_FAILED
READ_OPERATION_FAILED = reasons.READ_OPERATION_FAILED


@dataclass(frozen=True)
class _Phase:
    """A step of the remote part: the reason its failures carry and how messages start."""

    reason: str
    prefix: str


_CREDENTIALS = _Phase(reasons.AUTHENTICATION_FAILED, "failed to get credential: ")
_TRANSPORT = _Phase(reasons.AUTHENTICATION_FAILED, "failed to generate transport for '{url}': ")
_PROXY = _Phase(reasons.AUTHENTICATION_FAILED, "failed to get proxy address: ")
_TAG = _Phase(READ_OPERATION_FAILED, "failed to determine the artifact tag for '{url}': ")
_DIGEST = _Phase(OCI_PULL_FAILED, "failed to determine artifact digest: ")
_PULL = _Phase(OCI_PULL_FAILED, "failed to pull artifact from '{url}': ")
_LAYER = _Phase(OCI_LAYER_OPERATION_FAILED, "")
_EXTRACT = _Phase(OCI_LAYER_OPERATION_FAILED, "failed to extract layer contents from artifact: ")


class PullFailed(Exception):
    """The remote step failed; ``reason`` is Flux's reason for it."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Pulled:
    """What the remote step produced.

    ``archive`` is None when the stored artifact already holds ``digest`` (nothing was
    downloaded); otherwise it is the file to store: the re-archived layer, or the layer itself
    for ``copy`` (and, inside this module, the downloaded layer before it is re-archived).
    """

    revision: str
    digest: str
    archive: Path | None = None
    annotations: dict[str, str] | None = None


@dataclass
class _Progress:
    phase: _Phase = _CREDENTIALS


async def pull(
    kube: KubeClient,
    repo: OCIRepository,
    repository: refs.Repository,
    wanted: refs.Reference | None,
    *,
    reusable: Callable[[str], bool],
    scratch: Path,
) -> Pulled:
    """Resolve ``wanted`` (None: choose by ``spec.ref.semver``) and fetch it unless reusable.

    Args:
        kube: reads the Secrets and ServiceAccount the spec names.
        repo: the object.
        repository: its parsed ``spec.url``.
        wanted: the tag or digest from ``spec.ref``; None when a range must choose the tag.
        reusable: tells whether the stored artifact already holds a digest.
        scratch: a private folder for the download.

    Raises:
        PullFailed: with the step's reason and message.
        InvalidReference: the semver range or filter cannot be parsed (not worth a retry).
    """
    url = repo.spec.url
    try:
        client = await connect(kube, repo, repository)
    except (CredentialsError, TLSConfigError, ProxyConfigError) as error:
        phase = {TLSConfigError: _TRANSPORT, ProxyConfigError: _PROXY}.get(
            type(error), _CREDENTIALS
        )
        raise _failure(phase, url, str(error)) from error
    progress = _Progress()
    timeout = repo.spec.timeout
    try:
        async with asyncio.timeout(parse_duration(timeout)), client:
            pulled = await _download(client, repo, wanted, reusable, scratch, progress)
        selector = repo.spec.layer_selector
        if pulled.archive is None or (selector is not None and selector.operation == COPY):
            return pulled
        # Local work, outside the deadline: a thread cannot be cancelled halfway anyway.
        progress.phase = _EXTRACT
        archive = await asyncio.to_thread(_rearchive, pulled.archive, scratch, repo.spec.ignore)
        return replace(pulled, archive=archive)
    except (TimeoutError, RegistryTimeout) as error:
        # Whichever fires first: the client's per-call timeout or the overall deadline.
        call = f"{error.call} " if isinstance(error, RegistryTimeout) else ""
        cause = f"{call}timed out after {timeout} (spec.timeout)"
        raise _failure(progress.phase, url, cause) from error
    except RegistryAuthError as error:
        raise _failure(
            progress.phase, url, str(error), reason=reasons.AUTHENTICATION_FAILED
        ) from error
    except (RegistryError, refs.NoMatchingTag, LayerError) as error:
        raise _failure(progress.phase, url, str(error)) from error


async def _download(
    client: RegistryClient,
    repo: OCIRepository,
    wanted: refs.Reference | None,
    reusable: Callable[[str], bool],
    scratch: Path,
    progress: _Progress,
) -> Pulled:
    spec = repo.spec
    reference = wanted
    if reference is None:
        assert spec.ref is not None and spec.ref.semver
        progress.phase = _TAG
        tags = await client.list_tags()
        reference = refs.choose_tag(tags, spec.ref.semver, spec.ref.semver_filter)
    progress.phase = _DIGEST
    digest = reference.digest or await client.resolve(reference.tag or refs.DEFAULT_TAG)
    revision = refs.revision(reference, digest)
    if reusable(digest):
        return Pulled(revision, digest)
    progress.phase = _PULL
    manifest = await client.manifest(digest)
    progress.phase = _LAYER
    selector = spec.layer_selector
    layer = select_layer(manifest, selector.media_type if selector else None)
    progress.phase = _PULL
    blob = scratch / "layer"
    await client.download(layer, blob)
    return Pulled(revision, digest, blob, manifest.annotations)


def _rearchive(blob: Path, scratch: Path, ignore: str | None) -> Path:
    """Unpack the layer and pack its files again with Flux's ignore rules and ``spec.ignore``."""
    tree = scratch / "tree"
    extract_layer(blob, tree)
    archive = scratch / "artifact.tar.gz"
    build_archive(tree, archive, load_rules(tree, spec_ignore=ignore))
    return archive


def _failure(phase: _Phase, url: str, cause: str, *, reason: str | None = None) -> PullFailed:
    return PullFailed(phase.prefix.format(url=url) + cause, reason=reason or phase.reason)
