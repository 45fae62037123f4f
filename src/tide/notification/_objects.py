"""Alerts and Providers read from the watch caches, parsed once per resourceVersion."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from tide.api.notification import Alert, Provider

__all__ = ["ParsedObjects", "object_key"]

log = logging.getLogger(__name__)

_Model = TypeVar("_Model", Alert, Provider)
_MAX = 4096


def object_key(obj: Alert | Provider) -> tuple[str, str]:
    """Return (namespace, name) of a parsed Alert or Provider."""
    return obj.metadata.namespace or "default", obj.metadata.name


class ParsedObjects:
    """Parse cached objects into models, once per resourceVersion.

    Every event is matched against every Alert; validating each again per event would dominate
    the time a dispatch takes. An object that does not validate is logged and read as None (the
    API server's schema makes that rare: an older CRD, a field Tide does not know).
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, str, str], tuple[str, Any]] = {}

    def read(self, model: type[_Model], obj: Mapping[str, Any]) -> _Model | None:
        """Return ``obj`` as ``model``, or None when it does not validate."""
        meta = obj.get("metadata") or {}
        key = (model.KIND, meta.get("namespace") or "", meta.get("name") or "")
        version = meta.get("resourceVersion") or ""
        cached = self._parsed.get(key)
        if cached is not None and version and cached[0] == version:
            return cached[1]
        try:
            parsed: _Model | None = model.model_validate(obj)
        except ValidationError as error:
            log.warning("%s %s/%s is invalid: %s", model.KIND, key[1], key[2], error)
            parsed = None
        if len(self._parsed) > _MAX:
            self._parsed.clear()
        self._parsed[key] = (version, parsed)
        return parsed
