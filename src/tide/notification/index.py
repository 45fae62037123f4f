"""Find the Receiver a webhook path belongs to, from the watch cache, without an API call.

Each delivery names its Receiver only by ``/hook/<digest>``. Flux lists Receivers through a
field index on ``status.webhookPath``; here a handler on the Receiver watch cache keeps the
same map up to date as Receivers are written, so a lookup is one dict access however many
Receivers exist and however many deliveries arrive.
"""

from __future__ import annotations

from typing import Any

from tide.kube.cache import object_key

__all__ = ["WebhookIndex"]


class WebhookIndex:
    """``status.webhookPath`` → (namespace, name) of the Receiver publishing it.

    Register :meth:`handle` on the Receiver cache before the cache runs.
    """

    def __init__(self) -> None:
        self._by_path: dict[str, tuple[str, str]] = {}
        self._by_key: dict[tuple[str, str], str] = {}

    def handle(self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Follow one watch event of a Receiver."""
        obj = new or old
        if obj is None:
            return
        key = object_key(obj)
        previous = self._by_key.pop(key, None)
        if previous is not None and self._by_path.get(previous) == key:
            del self._by_path[previous]
        path = ((new or {}).get("status") or {}).get("webhookPath")
        if new is not None and path:
            self._by_path[path] = key
            self._by_key[key] = path

    def lookup(self, path: str) -> tuple[str, str] | None:
        """Return (namespace, name) of the Receiver whose path is ``path``, or None."""
        return self._by_path.get(path)

    def __len__(self) -> int:
        return len(self._by_path)
