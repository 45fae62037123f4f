"""Turn a downloaded chart archive, or a chart folder inside a source, into the artifact.

Everything Helm-shaped goes through the Helm SDK (``helm-python-sdk``): loading and validating
charts, expanding archives, resolving dependencies and packaging, so a chart built here is what
``helm package`` builds. What Flux adds on top is done here the way Flux does it
(``internal/helm/chart/builder_*.go``):

* A chart is stored as downloaded unless something must change in it: values files to merge or
  build metadata to append to the version. Then it is expanded, its ``values.yaml`` replaced by
  the merged values, and repackaged with the new version (``helm package --version``).
* A chart folder from a GitRepository or Bucket is always packaged; missing dependencies are
  resolved first (``helm dependency update``).

These functions block (the SDK is a C library); callers run them in a worker thread.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tide.api import reasons
from tide.semver import Version
from tide.source.helm import values as helm_values
from tide.source.helm.reasons import PERSISTENT_BUILD_REASONS

__all__ = [
    "Build",
    "BuildError",
    "build_archive",
    "build_directory",
    "local_chart",
    "with_build_metadata",
]

_SUMMARIES = {
    reasons.INVALID_CHART_REFERENCE: "invalid chart reference",
    reasons.CHART_PULL_ERROR: "chart pull error",
    reasons.METADATA_PATCH_ERROR: "chart metadata patch error",
    reasons.VALUES_FILES_ERROR: "values files merge error",
    reasons.DEPENDENCY_BUILD_ERROR: "dependency build error",
    reasons.CHART_PACKAGE_ERROR: "chart package error",
}
_BUILD_STEP_REASONS = frozenset(
    {
        reasons.METADATA_PATCH_ERROR,
        reasons.VALUES_FILES_ERROR,
        reasons.DEPENDENCY_BUILD_ERROR,
        reasons.CHART_PACKAGE_ERROR,
    }
)


def _helm() -> Any:
    """Import the SDK on first use: it loads Helm's Go runtime into the process."""
    import helm_python

    return helm_python


class BuildError(Exception):
    """A chart could not be fetched or built; ``reason`` is Flux's name for the failure.

    The message starts with Flux's summary of the reason (``invalid chart reference: …``).
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(f"{_SUMMARIES.get(reason, 'unknown build error')}: {message}")
        self.reason = reason

    @property
    def persistent(self) -> bool:
        """Whether retrying cannot help until the spec or the source changes (Stalled)."""
        return self.reason in PERSISTENT_BUILD_REASONS

    @property
    def condition(self) -> str:
        """The negative-polarity condition this failure sets: BuildFailed or FetchFailed."""
        if self.reason in _BUILD_STEP_REASONS:
            return reasons.BUILD_FAILED
        return reasons.FETCH_FAILED


@dataclass
class Build:
    """The outcome of a chart build, as the artifact and the Ready message describe it."""

    name: str
    version: str
    path: Path | None = None
    """The archive to store; None when the stored artifact already is this build."""
    packaged: bool = False
    values_files: list[str] = field(default_factory=list)
    """The values files that contributed to the packaged ``values.yaml``."""

    @property
    def reason(self) -> str:
        """``ChartPackageSucceeded`` or ``ChartPullSucceeded``, as Flux reports the build."""
        if self.packaged:
            return reasons.CHART_PACKAGE_SUCCEEDED
        return reasons.CHART_PULL_SUCCEEDED

    def summary(self) -> str:
        """Describe the build in Flux's words, e.g. ``pulled 'podinfo' chart with version …``."""
        action = "packaged" if self.packaged else "pulled"
        text = f"{action} '{self.name}' chart with version '{self.version}'"
        if self.values_files:
            text += f" and merged values files [{' '.join(self.values_files)}]"
        return text


def with_build_metadata(version: str, metadata: str) -> str:
    """Return ``version`` with its SemVer build metadata set to ``metadata`` (``1.2.3+abc``).

    Raises:
        BuildError: (``MetadataPatchError``) the version is not SemVer or ``metadata`` holds
            characters SemVer forbids.
    """
    try:
        parsed = Version.parse(version)
    except ValueError as error:
        raise BuildError(
            f"failed to parse version from chart metadata as SemVer: {error}",
            reason=reasons.METADATA_PATCH_ERROR,
        ) from None
    try:
        return str(replace(parsed, build=metadata, original=""))
    except ValueError as error:
        raise BuildError(
            f"failed to set SemVer metadata on chart version: {error}",
            reason=reasons.METADATA_PATCH_ERROR,
        ) from None


def build_archive(
    archive: Path,
    out_dir: Path,
    *,
    version: str,
    values_files: list[str],
    ignore_missing: bool = False,
    read: Callable[[str], bytes | None] | None = None,
) -> Build:
    """Build the artifact from a chart archive (downloaded, or found in a source).

    Args:
        archive: the ``.tgz`` as downloaded.
        out_dir: where a repackaged archive is written.
        version: the version the artifact must carry (the chart's, or with build metadata).
        values_files: values files to merge into the chart's ``values.yaml``.
        ignore_missing: skip values files that do not exist.
        read: where values files are read from (default: files inside the chart, with
            ``values.yaml`` meaning the chart's own values, as for a HelmRepository chart).

    Raises:
        BuildError: the archive is not a chart, or merging or packaging failed.
    """
    helm = _helm()
    try:
        with helm.Chart.load(archive) as chart:
            name, chart_version = chart.name, chart.version
            files = {posixpath.normpath(f["name"]): f["data"] for f in chart.files}
            defaults = chart.values
    except helm.HelmError as error:
        raise BuildError(
            f"failed to load downloaded chart: {error}", reason=reasons.CHART_PULL_ERROR
        ) from None
    if not values_files and version == chart_version:
        return Build(name, chart_version, path=archive)

    def from_chart(path: str) -> bytes | None:
        clean = posixpath.normpath(path)
        if clean == helm_values.CHART_VALUES:
            return helm_values.dump_values(defaults).encode()
        found = files.get(clean)
        return found.encode() if found is not None else None

    merged, used = _merge(values_files, read or from_chart, ignore_missing)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix="expand-") as scratch:
        try:
            helm.expand(scratch, archive)
        except helm.HelmError as error:
            raise BuildError(
                f"failed to expand chart: {error}", reason=reasons.CHART_PACKAGE_ERROR
            ) from None
        chart_dir = Path(scratch) / name
        if merged:
            (chart_dir / helm_values.CHART_VALUES).write_text(helm_values.dump_values(merged))
        packaged = _package(helm, chart_dir, out_dir, version)
    return Build(name, version, path=packaged, packaged=True, values_files=used if merged else [])


def local_chart(work_dir: Path, chart_path: str) -> tuple[Path, str, str]:
    """Find the chart ``chart_path`` names inside ``work_dir``; return (path, name, version).

    ``chart_path`` may not climb out of ``work_dir``: ``..`` stops at its root, as Flux's
    secure join does.

    Raises:
        BuildError: (``InvalidChartReference``) nothing there, or not a valid chart.
    """
    target = _secure_join(work_dir, chart_path)
    if not target.exists():
        raise BuildError(
            f"no chart found at path '{chart_path}' in the source artifact",
            reason=reasons.INVALID_CHART_REFERENCE,
        )
    helm = _helm()
    try:
        with helm.Chart.load(target) as chart:
            return target, chart.name, chart.version
    except helm.HelmError as error:
        raise BuildError(
            f"failed to load chart at path '{chart_path}': {error}",
            reason=reasons.INVALID_CHART_REFERENCE,
        ) from None


def build_directory(
    work_dir: Path,
    chart: Path,
    out_dir: Path,
    *,
    version: str,
    values_files: list[str],
    ignore_missing: bool = False,
) -> Build:
    """Build the artifact from a chart inside an unpacked source (GitRepository, Bucket).

    Args:
        work_dir: the unpacked source artifact; values file paths are relative to it.
        chart: the chart folder or archive inside ``work_dir`` (see :func:`local_chart`).
        out_dir: where the packaged archive is written.
        version: the version the artifact must carry.
        values_files: files (relative to the source root) to merge into ``values.yaml``.
        ignore_missing: skip values files the source does not hold.

    Raises:
        BuildError: merging, dependency resolution or packaging failed.
    """
    helm = _helm()

    def read(path: str) -> bytes | None:
        source = _secure_join(work_dir, path)
        return source.read_bytes() if source.is_file() else None

    if chart.is_file():
        return build_archive(
            chart,
            out_dir,
            version=version,
            values_files=values_files,
            ignore_missing=ignore_missing,
            read=read,
        )
    merged, used = _merge(values_files, read, ignore_missing)
    if merged:
        (chart / helm_values.CHART_VALUES).write_text(helm_values.dump_values(merged))
    _resolve_dependencies(helm, chart)
    with helm.Chart.load(chart) as loaded:
        name = loaded.name
    packaged = _package(helm, chart, out_dir, version)
    return Build(name, version, path=packaged, packaged=True, values_files=used if merged else [])


def _merge(
    paths: list[str], read: Callable[[str], bytes | None], ignore_missing: bool
) -> tuple[dict[str, Any], list[str]]:
    try:
        return helm_values.merge_values_files(paths, read, ignore_missing=ignore_missing)
    except helm_values.ValuesFilesError as error:
        raise BuildError(str(error), reason=reasons.VALUES_FILES_ERROR) from None


def _resolve_dependencies(helm: Any, chart: Path) -> None:
    """Fetch dependencies that ``Chart.yaml`` declares but ``charts/`` lacks."""
    try:
        missing = [d for d in helm.dependency_list(chart) if d.get("status") == "missing"]
        if missing:
            helm.dependency_update(chart)
    except helm.HelmError as error:
        raise BuildError(str(error), reason=reasons.DEPENDENCY_BUILD_ERROR) from None


def _package(helm: Any, chart: Path, out_dir: Path, version: str) -> Path:
    destination = Path(tempfile.mkdtemp(dir=out_dir, prefix="package-"))
    try:
        return Path(helm.package(chart, destination=destination, version=version))
    except helm.HelmError as error:
        raise BuildError(str(error), reason=reasons.CHART_PACKAGE_ERROR) from None


def _secure_join(root: Path, relative: str) -> Path:
    """Join ``relative`` under ``root``; ``..`` cannot climb above ``root``."""
    clean = posixpath.normpath("/" + relative.replace("\\", "/")).lstrip("/")
    return root / clean if clean else root
