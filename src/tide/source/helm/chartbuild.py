"""Where a HelmChart's chart comes from: a repository index, an OCI registry, or a source archive.

Each function resolves the chart (name and the version the artifact must carry) first and returns
a :class:`~tide.source.helm.build.Build` without a path when the stored artifact already is that
chart — nothing is downloaded or packaged then — unless ``force`` (a new generation) asks for a
rebuild, as Flux's ``BuildOptions.Force`` does. The version carries build metadata when Flux
adds it: the object's generation when values files are merged, and for ``reconcileStrategy:
Revision`` the first 12 hex characters of the source revision (GitRepository, Bucket).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from tide.api import reasons
from tide.api.meta import parse_duration
from tide.api.source import HelmChart, HelmRepository
from tide.artifacts import ArtifactFetchError, Storage, fetch_artifact
from tide.kube.client import KubeClient
from tide.source.helm import build as builder
from tide.source.helm import oci, remote
from tide.source.helm.build import Build, BuildError
from tide.source.helm.index import (
    ChartNotFound,
    IndexInvalid,
    RepositoryIndex,
    parse_index,
    resolve_reference_url,
)
from tide.source.helm.values import effective_values_files

__all__ = ["ChartBuilder", "Stored", "revision_metadata"]

_INDEX_CACHE_SIZE = 8
_SOURCE_FETCH_TIMEOUT = 60.0


@dataclass(frozen=True)
class Stored:
    """The chart the stored artifact holds: what a build is compared with."""

    name: str
    version: str


def revision_metadata(kind: str, revision: str) -> str:
    """Return the 12 hex characters of a source revision that ``Revision`` appends.

    ``main@sha1:<hex>`` (GitRepository) and ``sha256:<hex>`` (Bucket) both give ``<hex>[:12]``.
    """
    return revision.rpartition(":")[2].rpartition("/")[2][:12]


class ChartBuilder:
    """Builds a HelmChart's chart from its source.

    Args:
        client: reads the HelmRepository's Secrets.
        storage: holds the sources' artifacts (read for indexes) and the chart artifacts.
        workdir: scratch space for TLS material and registry logins.
    """

    def __init__(self, *, client: KubeClient, storage: Storage, workdir: Path) -> None:
        self._client = client
        self._storage = storage
        self._workdir = workdir
        self._indexes: OrderedDict[str, RepositoryIndex] = OrderedDict()

    async def from_index(
        self,
        chart: HelmChart,
        repo: HelmRepository,
        artifact: dict[str, str],
        scratch: Path,
        *,
        stored: Stored | None,
        force: bool,
    ) -> Build:
        """Pick the version from the repository's stored index; download it if it is new."""
        spec = chart.spec
        index = await self._index(artifact)
        try:
            found = index.get(spec.chart, spec.version)
        except (ChartNotFound, ValueError) as error:
            raise BuildError(
                f"failed to get chart version for remote reference: {error}",
                reason=reasons.INVALID_CHART_REFERENCE,
            ) from None
        values_files = _values_files(chart)
        version = found.version
        if values_files:
            version = builder.with_build_metadata(version, str(chart.metadata.generation))
        if not force and stored == Stored(found.name, version):
            return Build(found.name, version)
        options = await remote.client_options(self._client, repo, workdir=self._workdir)
        if not found.urls:
            raise BuildError(
                f"chart '{found.name}' has no downloadable URLs",
                reason=reasons.CHART_PULL_ERROR,
            )
        url = resolve_reference_url(repo.spec.url, found.urls[0])
        try:
            data = await remote.download(options, url, limit=remote.MAX_CHART_SIZE, what="chart")
        except remote.FetchError as error:
            raise BuildError(
                f"failed to download chart for remote reference: {error}",
                reason=reasons.CHART_PULL_ERROR,
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if found.digest and actual != found.digest.lower():
            raise BuildError(
                f"chart '{found.name}' version '{found.version}' from '{remote.redact(url)}' has "
                f"digest sha256:{actual}, but the repository index lists sha256:{found.digest}",
                reason=reasons.CHART_PULL_ERROR,
            )
        archive = scratch / f"{found.name}-{found.version}.tgz"
        archive.write_bytes(data)
        return await _package(chart, archive, scratch, version=version)

    async def from_registry(
        self,
        chart: HelmChart,
        repo: HelmRepository,
        scratch: Path,
        *,
        stored: Stored | None,
        force: bool,
    ) -> Build:
        """Resolve the tag in the OCI registry and pull it if it is new."""
        spec, namespace = chart.spec, chart.metadata.namespace or "default"
        if repo.spec.cert_secret_ref is not None:
            raise remote.FetchError(
                "spec.certSecretRef is not supported for OCI HelmRepositories yet: the Helm "
                "SDK's registry client takes no CA bundle or client certificate"
            )
        reference = oci.chart_reference(repo.spec.url, spec.chart)
        credentials = None
        if repo.spec.secret_ref is not None:
            secret = repo.spec.secret_ref.name
            where = f"Secret '{namespace}/{secret}' (spec.secretRef)"
            data = await remote.secret_data(self._client, namespace, secret, where)
            host = reference.removeprefix("oci://").partition("/")[0]
            credentials = oci.credentials_from_secret(data, host=host, where=where)
        values_files = _values_files(chart)
        metadata = str(chart.metadata.generation) if values_files else ""
        name = spec.chart.rstrip("/").rpartition("/")[2]

        def current(tag: str) -> bool:
            target = builder.with_build_metadata(tag, metadata) if metadata else tag
            return not force and stored == Stored(name, target)

        timeout = remote.DEFAULT_TIMEOUT
        if repo.spec.timeout:
            timeout = parse_duration(repo.spec.timeout)
        try:
            tag, archive = await asyncio.wait_for(
                asyncio.to_thread(
                    oci.pull_chart,
                    reference,
                    spec.version,
                    scratch,
                    credentials=credentials,
                    plain_http=bool(repo.spec.insecure),
                    skip=current,
                ),
                timeout,
            )
        except TimeoutError:
            raise BuildError(
                f"failed to pull '{reference}': timed out after {timeout:g}s (spec.timeout)",
                reason=reasons.CHART_PULL_ERROR,
            ) from None
        version = builder.with_build_metadata(tag, metadata) if metadata else tag
        if archive is None:
            return Build(name, version)
        return await _package(chart, archive, scratch, version=version)

    async def from_archive(
        self,
        chart: HelmChart,
        kind: str,
        artifact: dict[str, str],
        scratch: Path,
        *,
        stored: Stored | None,
        force: bool,
        source_unchanged: bool = False,
    ) -> Build:
        """Unpack a GitRepository's or Bucket's artifact and package the chart at its path.

        With ``source_unchanged`` (the stored artifact was built from this very source
        revision, for this generation) nothing is fetched: the same input builds the same chart.
        """
        spec = chart.spec
        if stored is not None and source_unchanged and not force:
            return Build(stored.name, stored.version, packaged=True)
        source = scratch / "source"
        try:
            await fetch_artifact(
                artifact["url"], artifact["digest"], source, timeout=_SOURCE_FETCH_TIMEOUT
            )
        except ArtifactFetchError as error:
            raise remote.FetchError(
                f"failed to fetch the {kind} artifact: {error}", reason=reasons.ARTIFACT_FAILED
            ) from None
        path, name, chart_version = await asyncio.to_thread(builder.local_chart, source, spec.chart)
        metadata = ""
        if spec.reconcile_strategy == "Revision":
            metadata = revision_metadata(kind, artifact["revision"])
        values_files = _values_files(chart)
        if values_files:
            generation = str(chart.metadata.generation)
            metadata = f"{metadata}.{generation}" if metadata else generation
        version = chart_version
        if metadata:
            version = builder.with_build_metadata(chart_version, metadata)
        if not force and stored == Stored(name, version):
            return Build(name, version, packaged=True)
        return await asyncio.to_thread(
            builder.build_directory,
            source,
            path,
            scratch,
            version=version,
            values_files=values_files,
            ignore_missing=bool(spec.ignore_missing_values_files),
        )

    async def _index(self, artifact: dict[str, str]) -> RepositoryIndex:
        """Load a HelmRepository's stored index, parsed once per artifact."""
        key = artifact["path"]
        if key in self._indexes:
            self._indexes.move_to_end(key)
            return self._indexes[key]
        try:
            data = await asyncio.to_thread(self._storage.local_path(key).read_bytes)
            index = await asyncio.to_thread(parse_index, data)
        except (OSError, IndexInvalid) as error:
            raise BuildError(
                f"could not load repository index for remote chart reference: {error}",
                reason=reasons.CHART_PULL_ERROR,
            ) from None
        self._indexes[key] = index
        while len(self._indexes) > _INDEX_CACHE_SIZE:
            self._indexes.popitem(last=False)
        return index


async def _package(chart: HelmChart, archive: Path, scratch: Path, *, version: str) -> Build:
    """Package a downloaded chart ``archive`` at ``version`` with the chart's values files."""
    return await asyncio.to_thread(
        builder.build_archive,
        archive,
        scratch,
        version=version,
        values_files=_values_files(chart),
        ignore_missing=bool(chart.spec.ignore_missing_values_files),
    )


def _values_files(chart: HelmChart) -> list[str]:
    return effective_values_files(chart.spec.values_file, chart.spec.values_files)
