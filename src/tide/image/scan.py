"""List a repository's tags page by page, leave out the excluded ones, and store the rest.

``spec.exclusionList`` holds regular expressions; a tag any of them finds (searched, not
anchored, as Go's ``MatchString``) is not stored, so the default ``^.*\\.sig$`` keeps cosign
signatures out. A pattern that does not compile stalls the object with its index and the
compiler's complaint, before the registry is asked anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tide.image.tags import Scanned, TagWriter
from tide.source.oci.client import RegistryClient

__all__ = ["DEFAULT_PAGE_SIZE", "InvalidExclusion", "compile_exclusions", "scan"]

DEFAULT_PAGE_SIZE = 1000
"""Tags asked for per page (``n=``): bounds the memory of a scan to one page of tags. Registries
may send fewer (Docker Hub and Quay cap pages at 100) and say where the rest is in ``Link``."""


class InvalidExclusion(ValueError):
    """A pattern of ``spec.exclusionList`` is not a regular expression; retrying cannot help."""


def compile_exclusions(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Compile ``spec.exclusionList``.

    Raises:
        InvalidExclusion: naming the first pattern that does not compile, and why.
    """
    compiled = []
    for index, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise InvalidExclusion(
                f"spec.exclusionList[{index}] '{pattern}' is not a valid regular expression: "
                f"{error}"
            ) from None
    return compiled


async def scan(
    client: RegistryClient,
    writer: TagWriter,
    *,
    exclusions: Sequence[re.Pattern[str]],
    previous_revision: str | None,
    page_size: int | None = DEFAULT_PAGE_SIZE,
) -> Scanned:
    """Stream every tag ``client``'s repository lists into ``writer`` and commit it.

    A failure discards what was written so far; the stored tags stay as they were.

    Raises:
        RegistryError: listing failed (its subclasses say whether for auth, absence, time).
        TagStoreError: the tags could not be stored.
    """
    try:
        async for page in client.tag_pages(page_size=page_size):
            writer.add(t for t in page if not any(p.search(t) for p in exclusions))
    except BaseException:
        writer.discard()
        raise
    return writer.commit(previous_revision)
