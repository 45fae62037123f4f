"""Which image repository ``spec.image`` names, with the implied parts made explicit.

``spec.image`` is written as Docker reads an image name, without scheme, tag or digest:
``ghcr.io/org/app``, ``org/app`` (Docker Hub) or ``alpine`` (Docker Hub's ``library/``). Its
canonical form is what go-containerregistry's ``name.Repository`` prints and what Flux reports
in ``status.canonicalImageName``: ``index.docker.io/library/alpine`` for ``alpine``. The rules
of which first segment is a registry (a ``.`` or ``:`` in it, or ``localhost``) are the ones
``tide.source.oci.refs`` applies to ``oci://`` URLs, so they are reused rather than repeated.
"""

from __future__ import annotations

import re

from tide.source.oci import refs

__all__ = ["InvalidImage", "canonical_name", "parse_image"]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class InvalidImage(ValueError):
    """``spec.image`` does not name an image repository; retrying cannot help."""


def parse_image(image: str) -> refs.Repository:
    """Return the registry and repository path ``image`` names.

    Raises:
        InvalidImage: a scheme, a tag or digest, or a path the distribution spec refuses; the
            message quotes ``image`` and says what to change.
    """
    text = image.strip()
    if not text:
        raise InvalidImage("spec.image is empty")
    if _SCHEME.match(text):
        raise InvalidImage(
            f"spec.image '{image}' must not start with a scheme; write it as "
            "'<registry>/<path>', e.g. 'ghcr.io/org/app'"
        )
    try:
        return refs.parse_url(f"oci://{text}")
    except refs.InvalidURL as error:
        detail = str(error).replace("URL must", "it must")
        raise InvalidImage(f"spec.image '{image}' is not an image repository: {detail}") from None


def canonical_name(repository: refs.Repository) -> str:
    """Return the canonical name of ``repository`` (``index.docker.io/library/alpine``)."""
    return str(repository)
