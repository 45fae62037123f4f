"""Which object a controller's log line is about, as structured fields a log reader filters on.

A line about an object carries ``extra=about(obj)``: one record attribute, :data:`OBJECT`,
holding the object's ``kind``, ``name`` and ``namespace``. (One attribute, not three: ``name``
is already a LogRecord attribute, the logger's name.) Tide's JSON log formatter writes the three
as top-level keys, which is what ``tide logs --kind --name --namespace`` selects on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OBJECT", "about"]

OBJECT = "flux_object"
"""The LogRecord attribute holding ``{"kind", "name", "namespace"}``."""


def about(obj: Mapping[str, Any], *, kind: str | None = None) -> dict[str, Any]:
    """Return the ``extra`` of a log line about ``obj`` (its kind from ``obj`` unless given)."""
    metadata = obj.get("metadata") or {}
    fields = {"kind": kind or obj.get("kind") or "", "name": metadata.get("name", ""),
              "namespace": metadata.get("namespace", "")}  # fmt: skip
    return {OBJECT: fields}
