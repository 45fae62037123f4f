"""Write an object's status once per phase, and only when it changed.

``StatusWriter`` holds a working copy of ``status``. ``flush`` sends it through the status
subresource (server-side apply, the controller's field manager) only if it differs from what the
object last carried, so a reconcile that changes nothing makes no write at all.
"""

from __future__ import annotations

import copy
from typing import Any

from tide.api import conditions
from tide.kube.client import KubeClient
from tide.kube.resources import ResourceType

__all__ = ["StatusWriter"]


class StatusWriter:
    """A working copy of one object's status, flushed at phase boundaries.

    Args:
        client: where the status is written.
        rt: the object's resource type.
        obj: the object as last read; its status is the baseline for "changed".
        field_manager: the controller's name, recorded as owner of the status fields.
    """

    def __init__(
        self, client: KubeClient, rt: ResourceType, obj: dict[str, Any], *, field_manager: str
    ) -> None:
        self._client = client
        self._field_manager = field_manager
        self._rt = rt
        self._obj = obj
        self._written: dict[str, Any] = copy.deepcopy(obj.get("status") or {})
        self.status: dict[str, Any] = copy.deepcopy(self._written)
        self.writes = 0
        """How many times this writer sent the status."""

    @property
    def generation(self) -> int | None:
        """The object's ``metadata.generation``: what every condition written here is about."""
        return self._obj["metadata"].get("generation")

    def mark(
        self, kind: str, value: conditions.ConditionStatus, *, reason: str, message: str
    ) -> None:
        """Set condition ``kind`` in the working copy, observed at the object's generation."""
        conditions.set_condition(
            self.status, kind, value, reason=reason, message=message, generation=self.generation
        )

    @property
    def changed(self) -> bool:
        """Tell whether the working copy differs from what the object carries."""
        return self.status != self._written

    async def flush(self) -> None:
        """Send the working copy if it changed since the last flush (or since it was read)."""
        if not self.changed:
            return
        body = {"metadata": self._obj["metadata"], "status": self.status}
        updated = await self._client.apply_status(self._rt, body, field_manager=self._field_manager)
        self.writes += 1
        self._written = copy.deepcopy(self.status)
        self._obj["metadata"]["resourceVersion"] = updated["metadata"].get("resourceVersion")
