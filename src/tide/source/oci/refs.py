"""Which OCI repository ``spec.url`` names, and which tag or digest ``spec.ref`` asks for.

Both follow Flux (``parseRepository``, ``getArtifactRef`` and ``getTagBySemver`` in
source-controller, which lean on go-containerregistry's ``name`` package):

* ``oci://<registry>/<path>``; a first segment without ``.`` or ``:`` that is not ``localhost``
  is a Docker Hub path, as Docker reads ``library/nginx``. A tag or digest in the URL is refused.
* ``spec.ref``: ``digest`` beats ``semver`` beats ``tag``; nothing set means tag ``latest``.
  ``semverFilter`` (a regular expression, searched, not anchored) narrows the tags first; a tag
  counts as a version only if it is strict SemVer after one leading ``v``; the highest wins.
* The revision is ``<tag>@sha256:<hex>``, or just ``sha256:<hex>`` for a digest reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tide import semver

__all__ = [
    "DEFAULT_TAG",
    "InvalidReference",
    "InvalidURL",
    "NoMatchingTag",
    "Reference",
    "Repository",
    "choose_tag",
    "parse_url",
    "revision",
    "wanted_reference",
]

DEFAULT_TAG = "latest"
"""Tag pulled when ``spec.ref`` names none, as in Flux (and Docker)."""
_PREFIX = "oci://"
_DOCKER_HUB = "index.docker.io"
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", _DOCKER_HUB, _DOCKER_HUB_API})
# The distribution spec's repository name grammar.
_PATH = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


class InvalidURL(ValueError):
    """``spec.url`` does not name an OCI repository; retrying cannot help."""


class InvalidReference(ValueError):
    """``spec.ref`` cannot be used as written (a bad digest, range or filter)."""


class NoMatchingTag(LookupError):
    """No tag of the repository satisfies ``spec.ref.semver`` (and ``semverFilter``)."""


@dataclass(frozen=True)
class Repository:
    """A repository in a registry: ``registry`` as written in the URL, ``path`` below it."""

    registry: str
    path: str

    @property
    def api_host(self) -> str:
        """Return the host that serves the distribution API (Docker Hub's differs)."""
        return _DOCKER_HUB_API if self.registry == _DOCKER_HUB else self.registry

    def __str__(self) -> str:
        return f"{self.registry}/{self.path}"


@dataclass(frozen=True)
class Reference:
    """What to pull: a tag to resolve, or a digest that is its own answer."""

    tag: str | None = None
    digest: str | None = None
    semver: str | None = None
    """The range the tag was chosen by, for messages."""


def parse_url(url: str) -> Repository:
    """Split ``oci://host[:port]/path`` into registry and repository path.

    Raises:
        InvalidURL: not ``oci://``, a tag or digest in the URL, or a path the distribution spec
            does not allow.
    """
    if not url.startswith(_PREFIX):
        raise InvalidURL("URL must be in format 'oci://<domain>/<org>/<repo>'")
    rest = url.removeprefix(_PREFIX).rstrip("/")
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), remainder
    else:
        registry, path = _DOCKER_HUB, rest
    if registry in _DOCKER_HUB_ALIASES:
        # Docker Hub's official images live under "library/", as Docker reads "nginx".
        registry, path = _DOCKER_HUB, path if "/" in path else f"library/{path}"
    if "@" in path:
        raise InvalidURL(f"URL must not contain a digest; remove '@{path.partition('@')[2]}'")
    if ":" in path:
        raise InvalidURL(f"URL must not contain a tag; remove ':{path.partition(':')[2]}'")
    if not registry or not _PATH.fullmatch(path):
        raise InvalidURL(
            f"repository '{path}' must be lower-case letters, digits and separators ('.', '_', "
            "'__', '-') in '/'-separated parts"
        )
    return Repository(registry, path)


def wanted_reference(
    *, tag: str | None, semver_range: str | None, digest: str | None
) -> Reference | None:
    """Return the reference ``spec.ref`` fixes without asking the registry, or None for semver.

    Raises:
        InvalidReference: a malformed digest or tag.
    """
    if digest:
        if not _DIGEST.fullmatch(digest):
            raise InvalidReference(
                f"spec.ref.digest '{digest}' must be 'sha256:' and 64 lower-case hex digits"
            )
        return Reference(digest=digest)
    if semver_range:
        return None
    chosen = tag or DEFAULT_TAG
    if not _TAG.fullmatch(chosen):
        raise InvalidReference(f"spec.ref.tag '{chosen}' is not a valid OCI tag")
    return Reference(tag=chosen)


def choose_tag(tags: Iterable[str], semver_range: str, semver_filter: str | None) -> Reference:
    """Pick the highest tag inside ``semver_range`` among those ``semver_filter`` matches.

    Raises:
        InvalidReference: the range or the filter does not parse.
        NoMatchingTag: no tag qualifies.
    """
    try:
        constraint = semver.Constraint.parse(semver_range)
    except ValueError as error:
        raise InvalidReference(f"spec.ref.semver '{semver_range}': {error}") from error
    candidates = list(tags)
    if semver_filter:
        try:
            pattern = re.compile(semver_filter)
        except re.error as error:
            raise InvalidReference(
                f"spec.ref.semverFilter '{semver_filter}' is not a valid regular expression: "
                f"{error}"
            ) from error
        candidates = [t for t in candidates if pattern.search(t)]
    best = semver.latest(candidates, constraint, strict_tags=True)
    if best is None:
        raise NoMatchingTag(f"no match found for semver: {semver_range}")
    return Reference(tag=best, semver=semver_range)


def revision(reference: Reference, digest: str) -> str:
    """Return Flux's revision string: ``<tag>@<digest>``, or the digest alone."""
    return f"{reference.tag}@{digest}" if reference.tag and not reference.digest else digest
