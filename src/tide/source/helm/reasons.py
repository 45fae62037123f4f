"""HelmChart build failures that retrying cannot fix (Flux stalls the chart on these).

The reason strings themselves are declared once, in :mod:`tide.api.reasons`.
"""

from __future__ import annotations

from tide.api import reasons

__all__ = ["PERSISTENT_BUILD_REASONS"]

PERSISTENT_BUILD_REASONS = frozenset(
    {reasons.INVALID_CHART_REFERENCE, reasons.METADATA_PATCH_ERROR, reasons.VALUES_FILES_ERROR}
)
"""Build failures retrying cannot fix until the spec or the source changes (Stalled in Flux)."""
