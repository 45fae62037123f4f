"""The keywords that say which objects a list or watch is about, declared once.

:meth:`~tide.kube.client.KubeClient.list` and :meth:`~tide.kube.client.KubeClient.watch` spell
them out; the methods that only pass them on (``list_metadata``, ``watch_metadata``, and the
test double's) take ``**scope`` typed by these, so the list is not written again at each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

from tide.api.selectors import Requirement

__all__ = ["ListScope", "WatchScope"]


class ListScope(TypedDict, total=False):
    """Which objects a list is about; what is left out is not narrowed by."""

    namespace: str | None
    """Only this namespace (default: all)."""
    labels: Mapping[str, str] | None
    """Only objects with these labels."""
    selector: tuple[Requirement, ...]
    """Only objects these parsed requirements select."""


class WatchScope(ListScope, total=False):
    """A :class:`ListScope` and the ``resource_version`` a watch starts after."""

    resource_version: Required[str]
