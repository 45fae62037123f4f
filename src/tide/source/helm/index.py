"""A Helm repository index: parse it, check it as Helm does, store it, pick a chart version.

Helm's ``repo.LoadIndex`` (which Flux runs on every fetched index) is the contract: the document
must have an ``apiVersion``; entries whose metadata fail validation (no name, a version that is
not SemVer, a bad chart type…) are dropped with a note instead of failing the whole index; each
chart's versions are sorted newest first. A field of the wrong type (``version: 1.0`` where a
string is expected) fails the index, as Go's strict decoding fails it.

The stored artifact is the validated index as indented JSON with sorted keys — a subset of YAML,
so anything that reads ``index.yaml`` reads it, and the format Flux stores too. The same index
therefore always gives the same bytes, and its digest is the HelmRepository revision.

Version selection follows Flux's ``ChartRepository.GetChartVersion``: an exact match of the
version text first, then the highest version (parsed as Flux parses tags) inside the SemVer range,
``*`` meaning the latest stable release; among equal versions the most recently created wins.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from tide import yamlio as _yaml
from tide.semver import Constraint, Version

__all__ = [
    "MAX_INDEX_SIZE",
    "ChartNotFound",
    "ChartVersion",
    "IndexInvalid",
    "RepositoryIndex",
    "parse_index",
    "resolve_reference_url",
]

MAX_INDEX_SIZE = 50 << 20
"""Largest index accepted by default: 50 MiB, Flux's ``helm.MaxIndexSize``."""

_STRING_FIELDS = (
    "apiVersion",
    "appVersion",
    "created",
    "description",
    "digest",
    "home",
    "icon",
    "kubeVersion",
    "name",
    "type",
    "version",
)
"""Chart-version fields Go decodes into strings; any other type fails the whole index."""
_CHART_TYPES = ("", "application", "library")
_SHOWN_VERSIONS = 5


class IndexInvalid(ValueError):
    """The bytes are not a usable Helm repository index; the message says what is wrong."""

    def __str__(self) -> str:
        return f"malformed index.yaml: {super().__str__()}"


class ChartNotFound(LookupError):
    """No chart version in the index answers the reference; the message says why."""


@dataclass(frozen=True)
class ChartVersion:
    """One downloadable chart version, as an index entry describes it."""

    name: str
    version: str
    urls: tuple[str, ...]
    digest: str | None = None
    """Hex SHA-256 of the archive (``helm repo index`` writes it); None when absent."""
    created: str = ""


@dataclass(frozen=True)
class RepositoryIndex:
    """A validated index: the normalised document and what was dropped from it."""

    document: dict[str, Any]
    skipped: tuple[str, ...] = field(default=())
    """One line per entry dropped because its metadata failed Helm's validation."""

    def to_bytes(self) -> bytes:
        """Return the stored form: indented JSON, keys sorted, newline-terminated."""
        text = json.dumps(self.document, indent=2, sort_keys=True, ensure_ascii=False)
        return (text + "\n").encode()

    def versions(self, name: str) -> list[ChartVersion]:
        """Return the versions of chart ``name``, newest first (empty when there is none)."""
        return [_chart_version(name, entry) for entry in self.document["entries"].get(name, [])]

    def get(self, name: str, version: str = "*") -> ChartVersion:
        """Pick the version of ``name`` that ``version`` (exact text, or a SemVer range) names.

        Raises:
            ChartNotFound: no such chart, no version of it, or none matching ``version``.
            ValueError: ``version`` is neither an exact version in the index nor a valid range.
        """
        if name not in self.document["entries"]:
            raise ChartNotFound(f"no chart named '{name}' in the repository index")
        candidates = self.versions(name)
        if not candidates:
            raise ChartNotFound(f"chart '{name}' has no versions in the repository index")
        if version:
            for candidate in candidates:
                if candidate.version == version:
                    return candidate
        constraint = Constraint.parse(version or "*")
        best: tuple[Version, ChartVersion] | None = None
        # Oldest first, so that among equal versions (differing only in build metadata) the
        # most recently created one wins, as in Flux.
        for candidate in sorted(candidates, key=lambda c: c.created):
            try:
                parsed = Version.parse_tag(candidate.version)
            except ValueError:
                continue
            if constraint.check(parsed) and (best is None or parsed >= best[0]):
                best = (parsed, candidate)
        if best is None:
            shown = ", ".join(c.version for c in candidates[:_SHOWN_VERSIONS])
            more = ", …" if len(candidates) > _SHOWN_VERSIONS else ""
            raise ChartNotFound(
                f"no '{name}' chart with version matching '{version or '*'}' found "
                f"(newest versions: {shown}{more})"
            )
        return best[1]


def parse_index(data: bytes) -> RepositoryIndex:
    """Parse and validate an index (YAML or JSON) as Helm's ``LoadIndex`` does.

    Raises:
        IndexInvalid: the bytes are empty, not YAML, not a mapping, lack ``apiVersion``, or
            hold a field of the wrong type; the message names the place.
    """
    if not data.strip():
        raise IndexInvalid("the file is empty")
    try:
        document = json.loads(data)
    except ValueError:
        document = _yaml.load_or_fail(
            data, lambda problem: IndexInvalid(f"not valid YAML: {problem}")
        )
    if not isinstance(document, dict):
        raise IndexInvalid(f"expected a mapping at the top level, found {_type(document)}")
    document = _jsonable(document)
    api_version = document.get("apiVersion")
    if not api_version:
        raise IndexInvalid("no API version specified (apiVersion)")
    if not isinstance(api_version, str):
        raise IndexInvalid(f"apiVersion: expected a string, found {_type(api_version)}")
    entries = document.get("entries") or {}
    if not isinstance(entries, dict):
        raise IndexInvalid(
            f"entries: expected a mapping of chart names to versions, found {_type(entries)}"
        )
    skipped: list[str] = []
    document["entries"] = {
        name: _valid_versions(name, versions, skipped) for name, versions in entries.items()
    }
    return RepositoryIndex(document, tuple(skipped))


def resolve_reference_url(repository_url: str, reference: str) -> str:
    """Resolve a chart's URL from the index against the repository URL, as Helm does.

    An absolute ``reference`` is used as is; a relative one is resolved against the repository
    URL taken as a folder (a trailing slash added), keeping the repository URL's query.
    """
    if urlsplit(reference).scheme:
        return reference
    base = urlsplit(repository_url)
    folder = base._replace(path=base.path.rstrip("/") + "/", query="", fragment="")
    resolved = urlsplit(urljoin(urlunsplit(folder), reference))
    return urlunsplit(resolved._replace(query=base.query))


def _valid_versions(name: str, versions: Any, skipped: list[str]) -> list[dict[str, Any]]:
    where = f"entries.{name}"
    if versions is None:
        return []
    if not isinstance(versions, list):
        raise IndexInvalid(f"{where}: expected a list of chart versions, found {_type(versions)}")
    kept: list[tuple[Version, dict[str, Any]]] = []
    for position, entry in enumerate(versions):
        if entry is None:
            skipped.append(f"{where}[{position}]: empty entry")
            continue
        if not isinstance(entry, dict):
            raise IndexInvalid(f"{where}[{position}]: expected a mapping, found {_type(entry)}")
        _check_types(f"{where}[{position}]", entry)
        entry.setdefault("apiVersion", "v1")
        problem, parsed = _validate(entry)
        if problem is not None or parsed is None:
            skipped.append(f"{where}[{position}]: {problem}")
            continue
        kept.append((parsed, entry))
    # Newest first; a stable sort keeps the written order among equal versions.
    kept.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in kept]


def _check_types(where: str, entry: Mapping[str, Any]) -> None:
    for key in _STRING_FIELDS:
        if key in entry and entry[key] is not None and not isinstance(entry[key], str):
            raise IndexInvalid(f"{where}.{key}: expected a string, found {_type(entry[key])}")
    urls = entry.get("urls")
    if urls is not None and (
        not isinstance(urls, list) or not all(isinstance(u, str) for u in urls)
    ):
        raise IndexInvalid(f"{where}.urls: expected a list of strings, found {_type(urls)}")


def _validate(entry: Mapping[str, Any]) -> tuple[str | None, Version | None]:
    """Apply Helm's ``Metadata.Validate``; return (problem, parsed version)."""
    name, version = entry.get("name") or "", entry.get("version") or ""
    if not name:
        return "chart.metadata.name is required", None
    if name != posixpath.basename(name) or "\\" in name:
        return f"chart.metadata.name {name!r} is invalid", None
    if not version:
        return f"chart {name!r}: chart.metadata.version is required", None
    try:
        parsed = Version.parse(version)
    except ValueError:
        return f"chart {name!r}: chart.metadata.version {version!r} is invalid", None
    if (entry.get("type") or "") not in _CHART_TYPES:
        return f"chart {name!r}: chart.metadata.type must be application or library", None
    return None, parsed


def _chart_version(name: str, entry: Mapping[str, Any]) -> ChartVersion:
    digest = entry.get("digest") or None
    return ChartVersion(
        name=entry.get("name") or name,
        version=entry["version"],
        urls=tuple(entry.get("urls") or ()),
        digest=digest.removeprefix("sha256:") if digest else None,
        created=entry.get("created") or "",
    )


def _jsonable(value: Any) -> Any:
    """Make a YAML value JSON-shaped: string keys, as Go's YAML-to-JSON conversion does."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _type(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool | dict | list | str):
        return names[type(value)]
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return type(value).__name__
